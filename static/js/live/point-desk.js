// The chair page's desk: one tap reports an incident to the province's technician (kept in an
// outbox on the phone until the server acknowledges it, sent over the socket or, when it is
// down, over HTTP with the link's token), the page shows each incident's state as the technician
// moves it, and announcements stay on top of the page until the chair acknowledges them.
import { Outbox } from "./outbox.js";
import { clockFormatter, fill, newKey } from "./format.js";

const RESEND_AFTER_MS = 8000;

export class PointDesk {
  constructor(root, M, socket, { meetingId, pointId, token }) {
    this.M = M;
    this.socket = socket;
    this.meetingId = meetingId;
    this.pointId = pointId;
    this.token = token;
    this.clock = clockFormatter(root.dataset.language, root.dataset.timezone);
    // Incidents waiting for the server's ack, kept as check-ins are (the same Outbox, keyed
    // by incident_id).
    this.outbox = new Outbox(`confhub.incidents.v1.${meetingId}.${pointId}`);
    this.sentAt = new Map();
    this.incidents = new Map(); // incident_id → {incident_id, kind, note, state, reported_at}
    this.announcements = new Map(); // announcement_id → {announcement_id, text, sent_at}
    this.acking = new Set();
    this.form = document.getElementById("incident-form");
    this.list = document.getElementById("incident-list");
    this.region = document.getElementById("announcements");
    this.status = document.getElementById("incident-status");
  }

  start() {
    for (const entry of this.outbox.entries()) this.incidents.set(entry.incident_id, { ...entry, state: "sending" });
    this.form?.addEventListener("submit", (event) => {
      event.preventDefault();
      this.report(event.submitter?.value);
    });
    this.region?.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-announcement]");
      if (button) this.acknowledge(button.dataset.announcement);
    });
    window.addEventListener("online", () => this.flush(true));
    window.setInterval(() => this.flush(), 4000);
    this.render();
  }

  // --- from the socket ---------------------------------------------------------------------------

  snapshot(snapshot) {
    // The snapshot holds the point's incidents as they are now (a resolution missed while the
    // phone was away included); only what waits in the outbox is added to it.
    const waiting = [...this.incidents.values()].filter((incident) => incident.state === "sending");
    this.incidents.clear();
    for (const incident of snapshot.incidents || []) this.incidents.set(incident.incident_id, incident);
    for (const incident of waiting) {
      if (!this.incidents.has(incident.incident_id)) this.incidents.set(incident.incident_id, incident);
    }
    this.announcements.clear();
    for (const item of snapshot.announcements || []) this.announced(item);
    this.render();
    this.flush(true);
  }

  delta(delta) {
    if (delta.type === "incident" && delta.point_id === this.pointId) {
      this.incidents.set(delta.incident_id, delta);
      this.outbox.remove(delta.incident_id);
      this.render();
    } else if (delta.type === "announcement" && delta.text) {
      this.announced(delta);
      this.render();
    }
  }

  // True when the message was the desk's (its ack or refusal).
  message(message) {
    if (!message.id || (message.type !== "ack" && message.type !== "error")) return false;
    if (this.acking.has(message.id)) {
      if (message.type === "ack") this.announcements.delete(message.id);
      this.acking.delete(message.id);
      this.render();
      return true;
    }
    if (this.announcements.has(message.id)) return true; // the ack of "seen"
    if (!this.incidents.has(message.id)) return false;
    if (message.type === "ack") this.stored(message.id, message.state);
    else if (!message.retry) this.refused(message.id, message.status_code);
    return true;
  }

  announced(item) {
    if (this.announcements.has(item.announcement_id)) return;
    this.announcements.set(item.announcement_id, item);
    if (!item.seen) this.socket.send({ type: "announcement_seen", announcement_id: item.announcement_id });
  }

  // --- incidents ---------------------------------------------------------------------------------

  report(kind) {
    if (!kind) return;
    const noteField = document.getElementById("incident-note");
    const note = noteField.value.trim() || null;
    const id = newKey();
    // The outbox keys its entries by `idempotency_key`: the incident's id.
    const entry = { incident_id: id, idempotency_key: id, kind, note, reported_at: new Date().toISOString() };
    this.outbox.add(entry); // on the phone BEFORE it is sent
    this.incidents.set(entry.incident_id, { ...entry, state: "sending" });
    noteField.value = "";
    this.say(this.M.incident_sending);
    this.render();
    this.flush(true);
  }

  stored(id, state) {
    this.outbox.remove(id);
    this.sentAt.delete(id);
    const incident = this.incidents.get(id);
    if (incident && incident.state === "sending") incident.state = state || "open";
    this.say(this.M.incident_sent);
    this.render();
  }

  refused(id, status) {
    this.outbox.remove(id);
    this.incidents.delete(id);
    this.say(status === 429 ? this.M.incident_too_many : this.M.incident_refused, "error");
    this.render();
  }

  async flush(force = false) {
    const entries = this.outbox.entries();
    if (!entries.length || navigator.onLine === false) return;
    const now = Date.now();
    for (const entry of entries) {
      const last = this.sentAt.get(entry.incident_id);
      if (!force && last && now - last < RESEND_AFTER_MS) continue;
      this.sentAt.set(entry.incident_id, now);
      const message = { type: "incident", incident_id: entry.incident_id, kind: entry.kind, note: entry.note };
      if (this.socket.isLive && this.socket.send(message)) continue;
      await this.post(entry);
    }
  }

  async post(entry) {
    try {
      const response = await fetch(`/api/v1/meetings/${this.meetingId}/incidents`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-Checkin-Token": this.token },
        body: JSON.stringify({ incident_id: entry.incident_id, kind: entry.kind, note: entry.note }),
        cache: "no-store",
      });
      if (response.ok) this.stored(entry.incident_id, (await response.json()).state);
      else if (response.status >= 400 && response.status < 500) this.refused(entry.incident_id, response.status);
    } catch {
      // no network: it stays in the outbox
    }
  }

  // --- announcements -----------------------------------------------------------------------------

  acknowledge(id) {
    this.acking.add(id);
    if (!this.socket.send({ type: "announcement_ack", announcement_id: id })) {
      this.acking.delete(id);
      this.say(this.M.announcement_offline, "error");
    }
  }

  // --- rendering -----------------------------------------------------------------------------------

  say(text, kind = "") {
    if (!this.status) return;
    this.status.textContent = text || "";
    this.status.className = kind === "error" ? "field-error" : "";
  }

  render() {
    if (this.region) {
      const items = [];
      for (const item of this.announcements.values()) {
        const box = document.createElement("div");
        box.className = "announcement";
        box.setAttribute("role", "alert");
        const label = document.createElement("p");
        label.className = "announcement-label";
        label.textContent = `${this.M.announcement} · ${this.clock(item.sent_at)}`;
        const text = document.createElement("p");
        text.className = "announcement-text";
        text.textContent = item.text;
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button button-wide";
        button.dataset.announcement = item.announcement_id;
        button.textContent = this.M.announcement_ack;
        box.append(label, text, button);
        items.push(box);
      }
      this.region.replaceChildren(...items);
      this.region.hidden = items.length === 0;
    }
    if (this.list) {
      const rows = [...this.incidents.values()]
        .sort((a, b) => String(a.reported_at).localeCompare(String(b.reported_at)))
        .map((incident) => {
          const item = document.createElement("li");
          item.dataset.state = incident.state;
          item.dataset.incident = incident.incident_id;
          const when = incident.reported_at ? `${this.clock(incident.reported_at)} · ` : "";
          const kind = this.M.incident_kinds[incident.kind] || incident.kind;
          const state = this.M.incident_states[incident.state] || incident.state;
          const strong = document.createElement("strong");
          strong.textContent = kind;
          item.append(when, strong, ` — ${state}`);
          if (incident.resolution) item.append(` · ${fill(this.M.incident_resolution, { note: incident.resolution })}`);
          return item;
        });
      this.list.replaceChildren(...rows);
      document.getElementById("incident-empty").hidden = rows.length > 0;
    }
  }
}
