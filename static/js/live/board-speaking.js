// The speaking queue on the live board: who has the floor with a countdown, and the requests
// waiting, rebuilt from each `speaking` delta (the whole open queue). The secretariat accepts,
// refuses with a reason (a dialog), gives the floor, ends the turn, and orders the requests by
// dragging them or from the keyboard (Alt+↑/↓ on a focused request, or its ↑/↓ buttons), all
// through PATCH /api/v1/meetings/{id}/speaking/{request_id}; the board changes when the delta
// comes back.
import { fill, readMessages } from "./format.js";

async function patch(url, body, M) {
  try {
    const response = await fetch(url, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.ok) return { ok: true };
    let reason = response.status >= 500 ? M.server_unavailable : M.not_accepted;
    if (response.status === 409) reason = M.not_open;
    else if (response.status === 401 || response.status === 403) reason = M.not_allowed;
    return { ok: false, reason };
  } catch {
    return { ok: false, reason: M.network_error };
  }
}

function clockText(seconds) {
  const s = Math.abs(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function setupBoardSpeaking(meetingId, boardMessages, pointName) {
  const section = document.getElementById("speaking");
  if (!section) return { snapshot() {}, delta() {} };
  const M = { ...boardMessages, ...readMessages(section) };
  const manages = section.dataset.manages === "true";
  const list = document.getElementById("speaking-queue");
  const current = document.getElementById("speaking-current");
  const message = document.getElementById("speaking-message");
  const dialog = document.getElementById("refuse-dialog");
  let queue = [];
  let timer = null;
  let focusId = null;
  let dragged = null;
  let refusing = null;

  async function act(requestId, body) {
    message.textContent = "";
    const result = await patch(`/api/v1/meetings/${meetingId}/speaking/${encodeURIComponent(requestId)}`, body, M);
    if (!result.ok) message.textContent = fill(M.failed, { reason: result.reason });
    return result;
  }

  function button(label, onClick, className = "button-small") {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function waiting() {
    return queue.filter((r) => r.state !== "speaking");
  }

  async function move(request, position) {
    const count = waiting().length;
    if (position < 1 || position > count || position === request.position) return;
    focusId = request.request_id;
    const result = await act(request.request_id, { position });
    if (result.ok) message.textContent = fill(M.moved, { point: pointName(request.point_id), position });
  }

  function item(request) {
    const li = document.createElement("li");
    li.dataset.requestId = request.request_id;
    li.dataset.state = request.state;
    const place = document.createElement("span");
    place.className = "speaking-place";
    place.textContent = `${request.position}.`;
    const name = document.createElement("strong");
    name.textContent = pointName(request.point_id);
    const state = document.createElement("span");
    state.className = "speaking-state";
    state.textContent = M.states[request.state] || request.state;
    const what = document.createElement("span");
    what.className = "speaking-what";
    what.textContent = ` · ${request.topic} · ${fill(M.minutes, { count: request.minutes })}`;
    if (request.speaker) what.textContent += ` · ${request.speaker}`;
    li.append(place, " ", name, what, " ", state);
    if (request.document) li.append(" ", documentLink(request));
    if (!manages) return li;
    li.tabIndex = 0;
    li.draggable = true;
    li.setAttribute("aria-label", `${fill(M.place, { position: request.position })}: ${pointName(request.point_id)}, ${request.topic}`);
    const actions = document.createElement("span");
    actions.className = "speaking-actions";
    if (request.state === "requested") actions.append(button(M.accept, () => act(request.request_id, { state: "accepted" })));
    actions.append(
      button(M.give_floor, () => act(request.request_id, { state: "speaking" })),
      button(M.refuse, () => openRefuse(request), "button-small button-secondary"),
      button("↑", () => move(request, request.position - 1), "button-small button-secondary"),
      button("↓", () => move(request, request.position + 1), "button-small button-secondary"),
    );
    actions.children[actions.children.length - 2].setAttribute("aria-label", M.up);
    actions.children[actions.children.length - 1].setAttribute("aria-label", M.down);
    li.append(actions);
    li.addEventListener("keydown", (event) => {
      if (event.target !== li || !event.altKey) return;
      if (event.key === "ArrowUp") move(request, request.position - 1);
      else if (event.key === "ArrowDown") move(request, request.position + 1);
      else return;
      event.preventDefault();
    });
    li.addEventListener("dragstart", (event) => {
      dragged = request;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", request.request_id);
      li.classList.add("dragging");
    });
    li.addEventListener("dragend", () => li.classList.remove("dragging"));
    li.addEventListener("dragover", (event) => {
      if (dragged) event.preventDefault();
    });
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      if (dragged && dragged !== request) move(dragged, request.position);
      dragged = null;
    });
    return li;
  }

  // The request's document (tham luận), to download: a link with its name and size.
  function documentLink(request) {
    const link = document.createElement("a");
    link.className = "speaking-document";
    link.href = `/api/v1/meetings/${meetingId}/speaking/${encodeURIComponent(request.request_id)}/document`;
    link.setAttribute("download", "");
    const size = request.document_size ? ` (${Math.max(1, Math.round(request.document_size / 1024))} KB)` : "";
    link.textContent = `${fill(M.document, { name: request.document })}${size}`;
    return link;
  }

  function renderCurrent() {
    window.clearInterval(timer);
    const speaker = queue.find((r) => r.state === "speaking");
    const line = document.createElement("p");
    if (!speaker) {
      line.className = "empty";
      line.textContent = M.nobody;
      current.replaceChildren(line);
      return;
    }
    const name = document.createElement("strong");
    name.textContent = pointName(speaker.point_id);
    const clock = document.createElement("span");
    clock.className = "speaking-clock";
    const tick = () => {
      const left = Math.round(speaker.minutes * 60 - (Date.now() - Date.parse(speaker.started_at)) / 1000);
      clock.textContent = fill(left >= 0 ? M.left : M.over, { time: clockText(left) });
      clock.dataset.over = String(left < 0);
    };
    tick();
    timer = window.setInterval(tick, 1000);
    line.append(name, ` · ${speaker.topic} `, clock);
    if (speaker.document) line.append(" ", documentLink(speaker));
    if (manages) line.append(" ", button(M.end_turn, () => act(speaker.request_id, { state: "done" })));
    current.replaceChildren(line);
  }

  function render() {
    const items = waiting().map(item);
    list.replaceChildren(...items);
    document.getElementById("speaking-empty").hidden = items.length > 0;
    document.getElementById("speaking-count").textContent = String(items.length);
    renderCurrent();
    if (focusId) {
      list.querySelector(`li[data-request-id="${CSS.escape(focusId)}"]`)?.focus();
      focusId = null;
    }
  }

  function openRefuse(request) {
    refusing = request;
    dialog.querySelector('[data-field="name"]').textContent = pointName(request.point_id);
    document.getElementById("refuse-reason").value = "";
    document.getElementById("refuse-message").textContent = "";
    dialog.showModal();
  }

  if (dialog) {
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
    document.getElementById("refuse-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = document.getElementById("refuse-reason").value.trim();
      if (!reason) {
        document.getElementById("refuse-message").textContent = M.reason_required;
        return;
      }
      const result = await act(refusing.request_id, { state: "refused", reason });
      if (result.ok) dialog.close();
      else document.getElementById("refuse-message").textContent = message.textContent;
    });
  }

  return {
    snapshot(speaking) {
      queue = speaking?.queue || [];
      render();
    },
    delta(delta) {
      if (document.activeElement?.closest?.("#speaking-queue li")) {
        focusId = focusId || document.activeElement.closest("li").dataset.requestId;
      }
      queue = delta.queue || [];
      render();
    },
  };
}
