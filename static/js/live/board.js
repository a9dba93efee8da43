// The live attendance board. The server sends a shell without tiles or counts (a national
// meeting's 3,321 tiles cost it ~155 ms a page); this module builds them from the websocket's
// snapshot in one pass (template clones into a DocumentFragment), so the snapshot is the board's
// first full state, and then changes only the tile a delta is about (a Map point id → tile).
// Filters and search toggle `hidden`.
// Totals and filter counts are kept by adding and subtracting each change, never by recounting.
import { LiveSocket } from "./socket.js";
import { noticeText } from "./notice-text.js";
import { fill, fold, numberFormatter, readMessages, socketUrl } from "./format.js";
import { setupRehearsal, setupRollCallDialog } from "./board-actions.js";
import { setupBoardDesk } from "./board-desk.js";
import { setupBoardSpeaking } from "./board-speaking.js";

const READY = new Set(["test_ok", "connected"]);
const FILTERS = {
  all: () => true,
  not_ready: (p) => !READY.has(p.signal),
  absent: (p) => p.status === "absent",
  pending: (p) => p.status === "pending",
  offline: (p) => lost(p),
};
const COUNTED = ["present", "absent", "pending", "online", "degraded", "offline"];
const BANNER_GRACE_MS = 2000;

function lost(point) {
  return point.presence === "offline" || point.signal === "disconnected";
}

const root = document.getElementById("board");
if (root) startBoard(root);

function startBoard(root) {
  const M = readMessages(root);
  const meetingId = Number(root.dataset.meetingId);
  const manages = root.dataset.manages === "true";
  const number = numberFormatter(root.dataset.language);
  const list = document.getElementById("tiles");
  const template = document.getElementById("tile-template");
  const filterForm = document.getElementById("board-filters");
  const search = document.getElementById("board-search");
  const points = new Map(); // point id → {data, el, refs, text, shown}
  const meeting = { status: null, rehearsal: !document.getElementById("not-ready")?.hidden };
  let counts = emptyCounts();
  let show = filterForm.querySelector("input[name=show]:checked")?.value || "all";
  let words = fold(search.value);
  let shownCount = 0;
  let summaryQueued = false;
  const startedAt = Date.now();
  document.getElementById("shown-count").hidden = false; // hidden for pages without script

  const socket = new LiveSocket(socketUrl(meetingId), {
    contiguous: true,
    onSnapshot: build,
    onDelta: applyDelta,
    onChange: renderBanner,
  });

  // --- state and counts ---------------------------------------------------------------------

  // A chair's name comes only to those who may see it; others read the position, or that
  // there is a chair (personal data, see accounts/visibility.py).
  function chairLine(p) {
    if (p.chair) return p.chair;
    return p.has_chair ? p.chair_title || M.chair_assigned : M.no_chair;
  }

  function emptyCounts() {
    const base = { invited: 0, delegates: 0, ready: 0 };
    for (const name of COUNTED) base[name] = 0;
    for (const name of Object.keys(FILTERS)) base[`filter_${name}`] = 0;
    return base;
  }

  function count(point, sign) {
    counts.invited += sign;
    if (point.status in counts) counts[point.status] += sign;
    if (point.presence in counts) counts[point.presence] += sign;
    if (point.status === "present") counts.delegates += sign * (Number(point.delegates_present) || 0);
    if (READY.has(point.signal)) counts.ready += sign;
    for (const [name, test] of Object.entries(FILTERS)) if (test(point)) counts[`filter_${name}`] += sign;
  }

  function visible(entry) {
    return FILTERS[show](entry.data) && (!words || entry.text.includes(words));
  }

  // --- tiles --------------------------------------------------------------------------------

  function rollCallText(p) {
    if (p.status === "present") return `${M.roll_call.present} · ${fill(M.delegates, { count: number(p.delegates_present ?? 0) })}`;
    if (p.status === "absent") return p.reason ? `${M.roll_call.absent}: ${p.reason}` : M.roll_call.absent;
    return M.roll_call.pending;
  }

  function presenceText(p) {
    const label = M.presence[p.presence] || p.presence;
    return p.rtt_ms != null && p.presence !== "offline" ? `${label} · ${number(p.rtt_ms)} ms` : label;
  }

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  function paint(entry) {
    const { data: p, el, refs } = entry;
    if (el.dataset.status !== p.status) el.dataset.status = p.status;
    if (el.dataset.presence !== p.presence) el.dataset.presence = p.presence;
    if (el.dataset.signal !== p.signal) el.dataset.signal = p.signal;
    setText(refs.statusIcon, M.roll_call_icons[p.status] || "");
    setText(refs.status, rollCallText(p));
    setText(refs.presenceIcon, M.presence_icons[p.presence] || "");
    setText(refs.presence, presenceText(p));
    setText(refs.signalIcon, M.signal_icons[p.signal] || "");
    setText(refs.signal, fill(M.signal_line, { signal: M.signals[p.signal] || p.signal }));
    if (refs.notice && p.notice_state) {
      if (refs.notice.parentElement.dataset.notice !== p.notice_state) refs.notice.parentElement.dataset.notice = p.notice_state;
      setText(refs.noticeIcon, M.notice_icons[p.notice_state] || "");
      setText(refs.notice, noticeText(M, p, number));
    }
  }

  // Where each `data-field` sits in the tile template, as child indexes from the tile: following
  // them in a clone is much cheaper than a querySelector per field per tile.
  const FIELDS = ["name", "chair", "status-icon", "status", "presence-icon", "presence", "signal-icon", "signal", "notice-icon", "notice", "action-name"];
  const paths = {};
  {
    const prototype = template.content.firstElementChild;
    for (const name of FIELDS) {
      let node = prototype.querySelector(`[data-field="${name}"]`);
      if (!node) continue;
      const path = [];
      while (node !== prototype) {
        path.unshift(Array.prototype.indexOf.call(node.parentElement.children, node));
        node = node.parentElement;
      }
      paths[name] = path;
    }
  }

  function field(el, name) {
    const path = paths[name];
    if (!path) return null;
    let node = el;
    for (const index of path) node = node.children[index];
    return node;
  }

  // One pass over the snapshot: clone, fill, append to a fragment, swap the list's children.
  function build(snapshot) {
    const started = performance.now();
    const fragment = document.createDocumentFragment();
    const prototype = template.content.firstElementChild;
    points.clear();
    counts = emptyCounts();
    shownCount = 0;
    for (const point of snapshot.points || []) {
      const el = prototype.cloneNode(true);
      el.dataset.pointId = point.point_id;
      const refs = {
        statusIcon: field(el, "status-icon"),
        status: field(el, "status"),
        presenceIcon: field(el, "presence-icon"),
        presence: field(el, "presence"),
        signalIcon: field(el, "signal-icon"),
        signal: field(el, "signal"),
        noticeIcon: field(el, "notice-icon"),
        notice: field(el, "notice"),
      };
      field(el, "name").textContent = point.name;
      field(el, "chair").textContent = chairLine(point);
      const actionName = field(el, "action-name");
      if (actionName) actionName.textContent = `: ${point.name}`;
      const entry = { data: point, el, refs, text: fold(`${point.name} ${point.chair || ""} ${point.unit_code || ""}`) };
      paint(entry);
      entry.shown = visible(entry);
      el.hidden = !entry.shown;
      if (entry.shown) shownCount += 1;
      count(point, 1);
      points.set(point.point_id, entry);
      fragment.append(el);
    }
    list.replaceChildren(fragment);
    meetingChanged(snapshot.meeting || {});
    desk.snapshot(snapshot);
    speaking.snapshot(snapshot.speaking);
    renderSummary();
    renderNotReady();
    root.dataset.renderMs = String(Math.round(performance.now() - started));
    root.dataset.ready = "true";
  }

  function update(pointId, patch) {
    const entry = points.get(pointId);
    if (!entry) return;
    if ("signal" in patch && patch.signal !== entry.data.signal) queueNotReady();
    count(entry.data, -1);
    entry.data = { ...entry.data, ...patch };
    count(entry.data, 1);
    paint(entry);
    const shown = visible(entry);
    if (shown !== entry.shown) {
      entry.shown = shown;
      entry.el.hidden = !shown;
      shownCount += shown ? 1 : -1;
    }
    queueSummary();
  }

  function applyDelta(delta) {
    if (delta.type === "incident" || delta.type === "announcement") {
      desk.delta(delta);
    } else if (delta.type === "checkin") {
      const { status, delegates_present, reason, answered_at } = delta;
      update(delta.point_id, { status, delegates_present, reason, answered_at });
    } else if (delta.type === "presence") {
      update(delta.point_id, { presence: delta.presence, rtt_ms: delta.rtt_ms });
    } else if (delta.type === "signal") {
      update(delta.point_id, { signal: delta.signal });
    } else if (delta.type === "notice") {
      // Why an invitation failed is the secretariat's to mend (an address may be in it).
      const { notice_state, acknowledgement } = delta;
      update(delta.point_id, { notice_state, acknowledgement, notice_failure: manages ? delta.notice_failure : null });
    } else if (delta.type === "speaking") {
      speaking.delta(delta);
    } else if (delta.type === "meeting") {
      const changes = delta.meeting || {};
      if (changes.signals_reset) for (const id of points.keys()) update(id, { signal: "untested" });
      meetingChanged(changes);
    }
    root.dataset.version = String(socket.version);
  }

  function meetingChanged(changes) {
    if (changes.status) {
      meeting.status = changes.status;
      const badge = document.getElementById("meeting-status");
      if (badge && M.status[changes.status]) {
        badge.className = `badge badge-${changes.status}`;
        badge.textContent = M.status[changes.status];
      }
    }
    if (typeof changes.rehearsal === "boolean") {
      meeting.rehearsal = changes.rehearsal;
      rehearsal.changed(changes.rehearsal);
      queueNotReady();
    }
  }

  // --- totals, filters, the not-ready list ----------------------------------------------------

  function queueSummary() {
    if (summaryQueued) return;
    summaryQueued = true;
    queueMicrotask(() => {
      summaryQueued = false;
      renderSummary();
    });
  }

  function renderSummary() {
    const totals = { ...counts, not_ready: counts.invited - counts.ready };
    setText(
      document.getElementById("headline"),
      fill(M.headline, { points: number(counts.present), delegates: number(counts.delegates) }),
    );
    for (const node of root.querySelectorAll("[data-total]")) setText(node, number(totals[node.dataset.total] ?? 0));
    for (const node of root.querySelectorAll("[data-count]")) setText(node, number(counts[`filter_${node.dataset.count}`] ?? 0));
    setText(document.getElementById("shown-count"), fill(M.shown, { shown: number(shownCount), total: number(counts.invited) }));
    root.dataset.version = String(socket.version);
  }

  // The not-ready list is rebuilt at most once a frame, and only when a signal changed.
  let notReadyQueued = false;
  function queueNotReady() {
    if (notReadyQueued) return;
    notReadyQueued = true;
    window.requestAnimationFrame(() => {
      notReadyQueued = false;
      renderNotReady();
    });
  }

  function renderNotReady() {
    const panel = document.getElementById("not-ready");
    if (!panel) return;
    panel.hidden = !meeting.rehearsal;
    if (!meeting.rehearsal) return;
    const items = [];
    for (const { data: p } of points.values()) {
      if (READY.has(p.signal)) continue;
      const item = document.createElement("li");
      item.dataset.signal = p.signal;
      const name = document.createElement("strong");
      name.textContent = p.name;
      item.append(name, ` · ${chairLine(p)}`);
      if (manages && p.chair_phone) {
        const phone = document.createElement("a");
        phone.href = `tel:${p.chair_phone.replace(/\s+/g, "")}`;
        phone.textContent = `☎ ${p.chair_phone}`;
        item.append(" · ", phone);
      }
      const signal = document.createElement("span");
      signal.className = "signal-label";
      signal.textContent = `${M.signal_icons[p.signal] || ""} ${M.signals[p.signal] || p.signal}`;
      item.append(" · ", signal);
      items.push(item);
    }
    document.getElementById("not-ready-list").replaceChildren(...items);
  }

  function applyFilters() {
    shownCount = 0;
    for (const entry of points.values()) {
      entry.shown = visible(entry);
      if (entry.el.hidden === entry.shown) entry.el.hidden = !entry.shown;
      if (entry.shown) shownCount += 1;
    }
    renderSummary();
    const url = new URL(window.location.href);
    url.searchParams.set("show", show);
    if (search.value.trim()) url.searchParams.set("q", search.value.trim());
    else url.searchParams.delete("q");
    window.history.replaceState(null, "", url);
  }

  function renderBanner() {
    const banner = document.getElementById("banner");
    let text = "";
    if (socket.state === "refused") text = M.refused;
    else if (socket.behind || socket.state === "reconnecting" || socket.state === "offline") text = M.behind;
    else if (socket.state === "connecting" && Date.now() - startedAt > BANNER_GRACE_MS) text = M.behind;
    root.dataset.connection = socket.behind ? "behind" : socket.state;
    if (banner.dataset.text === text) return; // unchanged: leave the element alone
    banner.dataset.text = text;
    banner.replaceChildren();
    if (text) {
      const line = document.createElement("p");
      line.className = `live-banner${socket.state === "refused" ? " live-banner-refused" : ""}`;
      const icon = document.createElement("span");
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "⟳ ";
      line.append(icon, text);
      banner.append(line);
    }
  }

  // --- wiring --------------------------------------------------------------------------------

  let searchTimer = null;
  // The form's plain GET is the list without JavaScript: here it filters in place. Chosen before
  // the first snapshot, a filter or search applies when it arrives (`build` reads them).
  const ready = () => root.dataset.ready === "true";
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    words = fold(search.value);
    if (ready()) applyFilters();
  });
  filterForm.addEventListener("change", (event) => {
    if (event.target.name !== "show") return;
    show = event.target.value in FILTERS ? event.target.value : "all";
    if (ready()) applyFilters();
  });
  search.addEventListener("input", () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => {
      words = fold(search.value);
      if (ready()) applyFilters();
    }, 120);
  });

  const rehearsal = setupRehearsal(root, meetingId, M, manages);
  const desk = setupBoardDesk(root, meetingId, M, manages);
  const speaking = setupBoardSpeaking(meetingId, M, (id) => points.get(id)?.data.name || `#${id}`);
  if (manages) setupRollCallDialog(root, meetingId, M, list, (id) => points.get(id)?.data);
  window.setTimeout(renderBanner, BANNER_GRACE_MS + 50);
  socket.start();
}
