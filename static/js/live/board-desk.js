// The board's desk: the technician's queue of open incidents (oldest first, with their age),
// acknowledged and resolved with a note through the JSON API; and the secretariat's
// announcements, sent from a small form, each with its seen/acknowledged counts kept live.
import { clockFormatter, fill, numberFormatter } from "./format.js";

const AGE_EVERY_MS = 15000;

async function send(method, url, body, M) {
  try {
    const response = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.ok) return { ok: true };
    if (response.status === 409) return { ok: false, reason: M.not_open };
    if (response.status === 429) return { ok: false, reason: M.desk_too_many };
    if (response.status === 401 || response.status === 403) return { ok: false, reason: M.not_allowed };
    return { ok: false, reason: response.status >= 500 ? M.server_unavailable : M.not_accepted };
  } catch {
    return { ok: false, reason: M.network_error };
  }
}

export function setupBoardDesk(root, meetingId, M, manages) {
  const number = numberFormatter(root.dataset.language);
  const clock = clockFormatter(root.dataset.language, root.dataset.timezone);
  const incidents = new Map();
  const announcements = new Map();
  const queue = document.getElementById("incident-queue");
  const sentList = document.getElementById("announcement-list");
  const form = document.getElementById("announcement-form");
  const message = document.getElementById("desk-message");

  function age(reportedAt) {
    const minutes = Math.max(0, Math.floor((Date.now() - new Date(reportedAt).getTime()) / 60000));
    return fill(M.incident_age, { minutes: number(minutes) });
  }

  function renderQueue() {
    if (!queue) return;
    const open = [...incidents.values()]
      .filter((i) => i.state !== "resolved")
      .sort((a, b) => String(a.reported_at).localeCompare(String(b.reported_at)));
    const rows = open.map((incident) => {
      const item = document.createElement("li");
      item.dataset.state = incident.state;
      item.dataset.incident = incident.incident_id;
      const head = document.createElement("p");
      const name = document.createElement("strong");
      name.textContent = incident.point_name || `#${incident.point_id}`;
      head.append(name, ` · ${M.incident_kinds[incident.kind] || incident.kind} · ${M.incident_states[incident.state] || incident.state}`);
      const when = document.createElement("span");
      when.className = "incident-age";
      when.dataset.reportedAt = incident.reported_at;
      when.textContent = ` · ${clock(incident.reported_at)} (${age(incident.reported_at)})`;
      head.append(when);
      item.append(head);
      if (incident.note) {
        const note = document.createElement("p");
        note.className = "incident-note";
        note.textContent = incident.note;
        item.append(note);
      }
      if (manages) {
        const actions = document.createElement("div");
        actions.className = "actions";
        if (incident.state === "open") actions.append(button(M.incident_take, "button-secondary", () => act(incident, "acknowledged")));
        actions.append(button(M.incident_resolve, "", () => act(incident, "resolved", true)));
        item.append(actions);
      }
      return item;
    });
    queue.replaceChildren(...rows);
    document.getElementById("incident-count").textContent = number(open.length);
    document.getElementById("incident-none").hidden = open.length > 0;
  }

  function button(text, extra, onClick) {
    const node = document.createElement("button");
    node.type = "button";
    node.className = `button-small ${extra}`.trim();
    node.textContent = text;
    node.addEventListener("click", onClick);
    return node;
  }

  async function act(incident, state, askNote = false) {
    let note = null;
    if (askNote) {
      note = window.prompt(M.incident_resolve_note, "");
      if (note === null) return;
    }
    const url = `/api/v1/meetings/${meetingId}/incidents/${encodeURIComponent(incident.incident_id)}`;
    const result = await send("PATCH", url, { state, note: note || null }, M);
    if (message) message.textContent = result.ok ? "" : fill(M.save_failed, { reason: result.reason });
  }

  function renderAnnouncements() {
    if (!sentList) return;
    const rows = [...announcements.values()].reverse().map((a) => {
      const item = document.createElement("li");
      item.dataset.announcement = a.announcement_id;
      const text = document.createElement("p");
      text.textContent = `${clock(a.sent_at)} · ${a.text}`;
      const counts = document.createElement("p");
      counts.className = "meta announcement-counts";
      counts.textContent = fill(M.announcement_counts, {
        seen: number(a.seen || 0),
        acknowledged: number(a.acknowledged || 0),
        addressed: number(a.addressed || 0),
      });
      item.append(text, counts);
      return item;
    });
    sentList.replaceChildren(...rows);
  }

  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) return;
    const audience = form.elements.audience.value;
    const body = { text, audience };
    if (audience === "units") {
      body.unit_codes = form.elements.unit_codes.value.split(/[\s,;]+/).filter(Boolean).map(Number);
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const result = await send("POST", `/api/v1/meetings/${meetingId}/announcements`, body, M);
    submit.disabled = false;
    if (result.ok) form.elements.text.value = "";
    if (message) message.textContent = result.ok ? M.announcement_sent : fill(M.save_failed, { reason: result.reason });
  });
  form?.addEventListener("change", () => {
    document.getElementById("announcement-units").hidden = form.elements.audience.value !== "units";
  });
  window.setInterval(() => {
    for (const node of queue?.querySelectorAll(".incident-age") || []) {
      node.textContent = ` · ${clock(node.dataset.reportedAt)} (${age(node.dataset.reportedAt)})`;
    }
  }, AGE_EVERY_MS);

  return {
    snapshot(snapshot) {
      incidents.clear();
      for (const incident of snapshot.incidents || []) incidents.set(incident.incident_id, incident);
      announcements.clear();
      for (const a of snapshot.announcements || []) announcements.set(a.announcement_id, a);
      renderQueue();
      renderAnnouncements();
    },
    delta(delta) {
      if (delta.type === "incident") {
        incidents.set(delta.incident_id, { ...incidents.get(delta.incident_id), ...delta });
        renderQueue();
      } else if (delta.type === "announcement") {
        const known = announcements.get(delta.announcement_id) || {};
        announcements.set(delta.announcement_id, { ...known, ...delta });
        renderAnnouncements();
      }
    },
  };
}
