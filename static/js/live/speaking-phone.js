// The point's requests to speak on its check-in page. A request is written to an outbox kept
// on the phone (outbox.js) BEFORE it is sent, goes as `speak_request` over the websocket (over
// HTTP with X-Checkin-Token when the socket is down), and leaves the outbox once the server
// acknowledges its id; sending it again is harmless (the server stores each id once). The
// page shows the point's own requests, its place ("2 turns before your point"), an alert when
// it is next, and a countdown while it has the floor. A document chosen with the request is
// kept in the page's memory and uploaded (PUT …/speaking/{request_id}/document with the link's
// token) once the server has the request.
import { Outbox } from "./outbox.js";
import { fill, newKey, readMessages } from "./format.js";

const RESEND_AFTER_MS = 8000;
const RETRY_STATUSES = new Set([401, 408, 425, 429, 503]);
const CONTROL = /[\u0000-\u001f\u007f]/;

export class PhoneSpeaking {
  constructor(section, page) {
    this.section = section;
    this.page = page; // the check-in page: its socket, meeting, point and token
    this.M = readMessages(section);
    this.outbox = new Outbox(`confhub.speaking.v1.${page.meetingId}.${page.pointId}`);
    this.sentAt = new Map();
    this.requests = new Map(); // request id → the request as the server last told it
    this.view = { position: null, ahead: null, current: null };
    this.error = "";
    this.timer = null;
    this.flushing = false;
    this.files = new Map(); // request id → {file, state: "waiting" | "sending"}
  }

  start() {
    this.form = document.getElementById("speaking-form");
    this.fileInput = document.getElementById("speaking-document");
    const field = document.getElementById("speaking-document-field");
    if (field && this.fileInput) field.hidden = false;
    this.form?.addEventListener("submit", (event) => this.submit(event));
    window.setInterval(() => {
      if (this.outbox.size) this.flush();
    }, 4000);
    this.render();
  }

  // --- what the server says ------------------------------------------------------------------

  snapshot(speaking) {
    if (!speaking) return;
    const known = this.requests.size > 0 || document.querySelector("#speaking-mine > li") !== null;
    this.requests.clear();
    this.apply(speaking);
    this.flush(true);
    // What became of requests no longer open (refused, heard) while the page was away.
    if (known) this.refresh();
  }

  async refresh() {
    try {
      const response = await fetch(`/api/v1/meetings/${this.page.meetingId}/speaking?limit=500`, {
        headers: { Accept: "application/json", "X-Checkin-Token": this.page.token },
        cache: "no-store",
      });
      if (!response.ok) return;
      for (const request of (await response.json()).items || []) {
        const open = this.requests.get(request.request_id);
        if (!open || open.state === request.state) this.requests.set(request.request_id, request);
      }
      this.render();
    } catch {
      // no network: the open requests are shown
    }
  }

  delta(delta) {
    if (delta.request) this.requests.set(delta.request.request_id, delta.request);
    this.apply(delta);
  }

  apply(speaking) {
    const open = new Set();
    for (const request of speaking.queue || []) {
      this.requests.set(request.request_id, request);
      open.add(request.request_id);
    }
    // A request no longer in the queue and not told otherwise was heard.
    for (const [id, request] of this.requests) {
      if (!open.has(id) && ["requested", "accepted", "speaking"].includes(request.state) && !speaking.request) {
        request.state = "done";
      }
    }
    const wasNext = this.view.position === 1 && !this.view.current;
    this.view = { position: speaking.position ?? null, ahead: speaking.ahead ?? null, current: speaking.current ?? null };
    for (const request of this.requests.values()) this.outbox.remove(request.request_id);
    for (const id of this.files.keys()) if (this.requests.has(id)) this.upload(id);
    this.render();
    const isNext = this.view.position === 1 && !this.view.current;
    if (isNext && !wasNext && navigator.vibrate) navigator.vibrate([200, 100, 200]);
  }

  onMessage(message) {
    const id = message.id;
    if (typeof id !== "string" || !this.outbox.has(id) && !this.sentAt.has(id)) return false;
    if (message.type === "ack") {
      this.stored(message.request);
    } else if (message.type === "error") {
      if (message.retry) this.sentAt.set(id, Date.now());
      else this.rejected(id, message.status_code);
    }
    return true;
  }

  stored(request) {
    if (!request) return;
    this.outbox.remove(request.request_id);
    this.sentAt.delete(request.request_id);
    if (!this.requests.has(request.request_id)) this.requests.set(request.request_id, request);
    this.upload(request.request_id);
    this.render();
  }

  // The request's document, once the server has the request.
  async upload(id) {
    const waiting = this.files.get(id);
    if (!waiting || waiting.state !== "waiting") return;
    waiting.state = "sending";
    this.render();
    const form = new FormData();
    form.append("data", waiting.file, waiting.file.name);
    let status = 0;
    try {
      const response = await fetch(`/api/v1/meetings/${this.page.meetingId}/speaking/${encodeURIComponent(id)}/document`, {
        method: "PUT",
        headers: { Accept: "application/json", "X-Checkin-Token": this.page.token },
        body: form,
        cache: "no-store",
      });
      status = response.status;
      if (response.ok) {
        const request = await response.json();
        const known = this.requests.get(id);
        if (known) Object.assign(known, { document: request.document, document_size: request.document_size });
        this.files.delete(id);
        this.render();
        return;
      }
    } catch {
      status = 0;
    }
    this.files.delete(id);
    const M = this.M;
    this.error = { 413: M.document_too_large, 400: M.document_refused }[status] || M.document_failed;
    this.render();
  }

  rejected(id, status) {
    this.outbox.remove(id);
    this.sentAt.delete(id);
    const M = this.M;
    this.error = { 429: M.limit, 409: M.closed, 404: M.refused_link }[status] || M.other;
    this.render();
  }

  // --- sending -------------------------------------------------------------------------------

  submit(event) {
    event.preventDefault();
    const topic = document.getElementById("speaking-topic");
    const minutes = document.getElementById("speaking-minutes");
    const speaker = document.getElementById("speaking-speaker");
    const text = topic.value.split(/\s+/).filter(Boolean).join(" ");
    if (!text || text.length > 300 || CONTROL.test(topic.value)) return this.clientError(this.M.topic_required, topic);
    const typed = minutes.value.trim();
    if (!/^\d{1,2}$/.test(typed) || Number(typed) < 1 || Number(typed) > 60) return this.clientError(this.M.minutes_required, minutes);
    const file = this.fileInput?.files?.[0] || null;
    if (file && file.size > Number(this.fileInput.dataset.maxBytes || Infinity)) {
      return this.clientError(this.M.document_too_large, this.fileInput);
    }
    this.clientError("");
    const entry = {
      idempotency_key: newKey(),
      topic: text,
      minutes: Number(typed),
      speaker: speaker.value.split(/\s+/).filter(Boolean).join(" ") || null,
      queued_at: Date.now(),
    };
    this.outbox.add(entry); // kept on the phone BEFORE it is sent
    if (file) {
      this.files.set(entry.idempotency_key, { file, state: "waiting" });
      this.fileInput.value = "";
    }
    this.error = "";
    topic.value = "";
    this.render();
    this.flush(true);
    return undefined;
  }

  clientError(text, field) {
    const box = document.getElementById("speaking-client-error");
    box.hidden = !text;
    box.textContent = text || "";
    for (const input of this.form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  payload(entry) {
    const { idempotency_key, topic, minutes, speaker } = entry;
    return { request_id: idempotency_key, topic, minutes, speaker };
  }

  async flush(force = false) {
    if (this.flushing || navigator.onLine === false) return;
    const entries = this.outbox.entries();
    if (!entries.length) return;
    this.flushing = true;
    try {
      const socket = this.page.socket;
      if (socket.isLive) {
        const now = Date.now();
        for (const entry of entries) {
          const last = this.sentAt.get(entry.idempotency_key);
          if (!force && last && now - last < RESEND_AFTER_MS) continue;
          if (socket.send({ type: "speak_request", ...this.payload(entry) })) this.sentAt.set(entry.idempotency_key, now);
        }
        return;
      }
      for (const entry of entries) if (!(await this.post(entry))) break;
    } finally {
      this.flushing = false;
    }
  }

  async post(entry) {
    try {
      const response = await this.page.post("speaking", this.payload(entry));
      if (response.status === 200 || response.status === 201) {
        this.stored(await response.json());
        return true;
      }
      if (response.status >= 400 && response.status < 500 && !RETRY_STATUSES.has(response.status)) {
        this.rejected(entry.idempotency_key, response.status);
        return true;
      }
      if (response.status === 429) {
        this.rejected(entry.idempotency_key, 429);
        return true;
      }
    } catch {
      // no network: it stays in the outbox
    }
    return false;
  }

  // --- what the page shows -------------------------------------------------------------------

  render() {
    const M = this.M;
    const list = document.getElementById("speaking-mine");
    const items = [];
    for (const entry of this.outbox.entries()) {
      items.push(this.item({ request_id: entry.idempotency_key, topic: entry.topic, minutes: entry.minutes, state: "pending" }, M.pending));
    }
    const shown = [...this.requests.values()].sort((a, b) => String(a.requested_at).localeCompare(String(b.requested_at)));
    for (const request of shown.slice(-5)) items.push(this.item(request, M.states[request.state] || request.state));
    if (items.length) list.replaceChildren(...items);
    document.getElementById("speaking-empty").hidden = list.children.length > 0;
    this.renderPlace();
  }

  item(request, label) {
    const item = document.createElement("li");
    item.dataset.state = request.state;
    const state = document.createElement("span");
    state.className = "speaking-state";
    state.textContent = label;
    item.append(state, ` ${request.topic} · ${fill(this.M.minutes, { count: request.minutes })}`);
    if (request.state === "refused" && request.reason) item.append(` — ${fill(this.M.refused, { reason: request.reason })}`);
    if (request.state === "pending") item.append(` — ${this.M.kept}`);
    const sending = this.files.get(request.request_id);
    if (sending) item.append(` · ${fill(this.M.document_sending, { name: sending.file.name })}`);
    else if (request.document) item.append(` · ${fill(this.M.document_sent, { name: request.document })}`);
    return item;
  }

  renderPlace() {
    const box = document.getElementById("speaking-place");
    const M = this.M;
    window.clearInterval(this.timer);
    const line = document.createElement("p");
    let text = "";
    const mine = this.view.current ? this.requests.get(this.view.current) : null;
    if (this.error) {
      line.className = "field-error";
      text = this.error;
    } else if (mine) {
      line.className = "speaking-now";
      text = M.now;
      const clock = document.createElement("strong");
      clock.className = "speaking-clock";
      const tick = () => {
        const left = Math.round(mine.minutes * 60 - (Date.now() - Date.parse(mine.started_at)) / 1000);
        const time = `${Math.floor(Math.abs(left) / 60)}:${String(Math.abs(left) % 60).padStart(2, "0")}`;
        clock.textContent = fill(left >= 0 ? M.left : M.over, { time });
        clock.dataset.over = String(left < 0);
      };
      tick();
      this.timer = window.setInterval(tick, 1000);
      line.append(text, " ", clock);
      text = null;
    } else if (this.view.position === 1) {
      line.className = "speaking-next";
      line.setAttribute("role", "alert");
      text = M.next;
      if (this.view.ahead) text += ` ${fill(M.ahead, { count: this.view.ahead })}`;
    } else if (this.view.ahead) {
      text = fill(M.ahead, { count: this.view.ahead });
    }
    if (text) line.textContent = text;
    const old = box.firstElementChild;
    if (text === "" ) {
      box.replaceChildren();
    } else if (!old || old.textContent !== line.textContent || text === null) {
      box.replaceChildren(line);
    }
  }
}

export function setupPhoneSpeaking(page) {
  const section = document.getElementById("speaking");
  if (!section) return null;
  const speaking = new PhoneSpeaking(section, page);
  speaking.start();
  return speaking;
}
