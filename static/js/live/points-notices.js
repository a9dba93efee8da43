// The secretariat's points table keeps each point's notice column current: the meeting's live
// channel (the board's, static/js/live/socket.js) sends a snapshot, then a `notice` delta each
// time an invitation is delivered or fails or a chair answers. Without JavaScript the column is
// what the server rendered; a reload refreshes it.

import { LiveSocket } from "./socket.js";
import { noticeText } from "./notice-text.js";
import { numberFormatter, readMessages, socketUrl } from "./format.js";

function start() {
  const table = document.querySelector("table.points-table[data-meeting-id]");
  if (!table) return;
  const M = readMessages(table);
  if (!M.notice_states) return;
  const number = numberFormatter(document.documentElement.lang);
  const cells = new Map();
  for (const cell of table.querySelectorAll("[data-notice-point]")) cells.set(Number(cell.dataset.noticePoint), cell);

  function paint(point) {
    const cell = cells.get(Number(point.point_id));
    if (!cell || !point.notice_state) return;
    if (cell.dataset.notice !== point.notice_state) cell.dataset.notice = point.notice_state;
    const icon = cell.querySelector("[data-field=notice-icon]");
    const text = cell.querySelector("[data-field=notice]");
    const iconText = M.notice_icons[point.notice_state] || "";
    if (icon && icon.textContent !== iconText) icon.textContent = iconText;
    const words = noticeText(M, point, number);
    if (text && text.textContent !== words) text.textContent = words;
  }

  const socket = new LiveSocket(socketUrl(table.dataset.meetingId), {
    onSnapshot: (snapshot) => {
      for (const point of snapshot.points || []) paint(point);
      table.dataset.live = "true";
    },
    onDelta: (delta) => {
      if (delta.type === "notice") paint(delta);
    },
  });
  socket.start();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
