// The chair's check-in page, live. Without this module the page's forms post to the server;
// with it, answers go over the websocket (`?token=`) with an idempotency key, through an outbox
// kept on the phone (outbox.js) so nothing is lost offline, and over HTTP (X-Checkin-Token) when
// the socket cannot connect. The page says plainly whether the answer is stored (checkin-view.js).
// While open, the page heartbeats (socket.js): the board sees the point online with its RTT.
import { CheckinView } from "./checkin-view.js";
import { Outbox } from "./outbox.js";
import { PointDesk } from "./point-desk.js";
import { LiveSocket } from "./socket.js";
import { setupPhoneSpeaking } from "./speaking-phone.js";
import { clockFormatter, newKey, numberFormatter, readMessages, socketUrl } from "./format.js";

const RESEND_AFTER_MS = 8000;
const TICK_MS = 4000;
const MAX_DELEGATES = 100000;
const RETRY_STATUSES = new Set([401, 408, 425, 429]);
// What the server refuses in a reason (confhub.core.text): control characters but line breaks and tabs.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

// A name on one line, as the server keeps it: spaces folded, control characters dropped.
function oneLine(text) {
  return text.replace(/[\u0000-\u001f\u007f]/g, " ").split(/\s+/).filter(Boolean).join(" ");
}

class CheckinPage {
  constructor(root) {
    this.M = readMessages(root);
    this.meetingId = Number(root.dataset.meetingId);
    this.pointId = Number(root.dataset.pointId);
    this.token = root.dataset.token;
    this.view = new CheckinView(
      this.M,
      numberFormatter(root.dataset.language),
      clockFormatter(root.dataset.language, root.dataset.timezone),
    );
    this.outbox = new Outbox(`confhub.outbox.v1.${this.meetingId}.${this.pointId}`);
    this.sentAt = new Map(); // idempotency key → when it last went over the socket
    this.form = document.getElementById("checkin-form");
    this.current = {
      status: document.getElementById("current-answer")?.dataset.status || "pending",
      delegates_present: null,
      reason: null,
      signal: document.getElementById("signal-current")?.dataset.signal || "untested",
      version: 0,
    };
    this.history = this.view.readHistory();
    this.outcome = null; // the latest {kind: "stored" | "rejected", at, reason}
    this.httpWorks = false;
    this.pendingSignal = null;
    this.flushing = false;
    this.socket = new LiveSocket(socketUrl(this.meetingId, `?token=${encodeURIComponent(this.token)}`), {
      heartbeatMs: Number(root.dataset.heartbeatMs) || 10000,
      onSnapshot: (snapshot) => this.onSnapshot(snapshot),
      onDelta: (delta) => this.onDelta(delta),
      onMessage: (message) => this.onMessage(message),
      onChange: () => this.socketChanged(),
    });
    this.desk = new PointDesk(root, this.M, this.socket, { meetingId: this.meetingId, pointId: this.pointId, token: this.token });
  }

  start() {
    if (this.form) {
      this.form.addEventListener("submit", (event) => this.submitAnswer(event));
      this.form.addEventListener("change", (event) => {
        if (event.target.name === "status") this.showFields();
      });
      this.showFields();
    }
    document.getElementById("signal-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendSignal(event.submitter?.value);
    });
    window.addEventListener("online", () => {
      this.flush(true);
      this.speaking?.flush(true);
    });
    window.addEventListener("storage", (event) => {
      if (event.key === this.outbox.storageKey) this.render();
    });
    window.setInterval(() => {
      if (this.outbox.size) this.flush();
    }, TICK_MS);
    // Answers left in the outbox by an earlier visit (a closed tab, no network) are shown and sent.
    for (const entry of this.outbox.entries()) {
      if (!this.history.some((item) => item.idempotency_key === entry.idempotency_key)) {
        this.history.push({ ...entry, state: "pending" });
      }
    }
    this.render();
    this.desk.start();
    this.speaking = setupPhoneSpeaking(this);
    this.socket.start();
    this.socketChanged();
    this.flush();
  }

  render() {
    this.view.current(this.current);
    this.view.saveState(this.outbox.size > 0, this.outcome);
    this.view.history(this.history);
  }

  socketChanged() {
    const state = this.socket.state;
    const shown = (state === "reconnecting" || state === "connecting") && this.httpWorks ? "http" : state;
    this.view.connection(shown, this.socket.rtt);
    if (state === "live") {
      this.flush();
      this.speaking?.flush();
    }
  }

  // --- the socket's messages -----------------------------------------------------------------

  onSnapshot(snapshot) {
    const mine = (snapshot.points || []).find((point) => point.point_id === this.pointId);
    if (mine) {
      const { status, delegates_present, reason, signal } = mine;
      Object.assign(this.current, { status, delegates_present, reason, signal, version: snapshot.version });
    }
    this.view.meetingStatus(snapshot.meeting?.status);
    this.view.current(this.current);
    this.view.signal(this.current.signal);
    this.speaking?.snapshot(snapshot.speaking);
    this.flush(true); // whatever the outbox holds goes again, with the same keys
    this.desk.snapshot(snapshot);
  }

  onDelta(delta) {
    if (delta.type === "incident" || delta.type === "announcement") {
      this.desk.delta(delta);
    } else if (delta.type === "speaking") {
      this.speaking?.delta(delta);
    } else if (delta.type === "meeting") {
      this.view.meetingStatus(delta.meeting?.status);
      if (delta.meeting?.signals_reset) this.signalChanged("untested");
    } else if (delta.point_id !== this.pointId) {
      return;
    } else if (delta.type === "checkin") {
      this.answerElsewhere(delta);
    } else if (delta.type === "signal") {
      this.signalChanged(delta.signal);
    }
  }

  // A stored answer: ours (its ack may come later) or given elsewhere (another phone, the
  // secretariat taking a call); it becomes the current answer and joins the history.
  answerElsewhere(delta) {
    const { status, delegates_present, reason, version } = delta;
    if (version > this.current.version) {
      Object.assign(this.current, { status, delegates_present, reason, version });
      this.view.current(this.current);
    }
    if (!this.history.some((entry) => entry.version === version)) {
      const at = delta.answered_at ? new Date(delta.answered_at) : new Date();
      this.history.push({ version, status, delegates_present, reason, at, state: "stored" });
      this.view.history(this.history);
    }
  }

  signalChanged(value) {
    this.current.signal = value;
    this.view.signal(value);
    if (this.pendingSignal === value) {
      this.pendingSignal = null;
      this.view.signalSaved(value);
    }
  }

  onMessage(message) {
    if (this.desk.message(message)) return;
    if (this.speaking?.onMessage(message)) return;
    if (message.type === "ack") {
      this.stored(message.idempotency_key, message.version, new Date());
    } else if (message.type === "error" && message.idempotency_key) {
      if (message.retry) this.retryLater(message.idempotency_key);
      else this.rejected(message.idempotency_key, this.refusalOf(message.status_code));
    }
  }

  // A refusal in the page's words, told by its HTTP code (the live channel's error carries it).
  refusalOf(status) {
    if (status === 409) return this.M.refused_closed;
    if (status === 404) return this.M.refused_link;
    return this.M.refused_other;
  }

  // --- the outbox ------------------------------------------------------------------------------

  stored(key, version, at) {
    this.outbox.remove(key);
    this.sentAt.delete(key);
    const entry = this.history.find((item) => item.idempotency_key === key);
    if (entry) {
      // A delta for the same answer may have come first: keep one line for it.
      this.history = this.history.filter((item) => item === entry || !version || item.version !== version);
      Object.assign(entry, { state: "stored", version: version || entry.version, at });
      if (version && version >= this.current.version) {
        const { status, delegates_present, reason } = entry;
        Object.assign(this.current, { status, delegates_present, reason, version });
      }
      this.outcome = { kind: "stored", at };
    }
    this.render();
  }

  // The server could not store it now (its database is down): it stays in the outbox and goes
  // again with the same key after RESEND_AFTER_MS, until it is stored.
  retryLater(key) {
    if (!this.outbox.has(key)) return;
    this.sentAt.set(key, Date.now());
    this.outcome = { kind: "retrying" };
    this.render();
  }

  rejected(key, reason) {
    this.outbox.remove(key);
    this.sentAt.delete(key);
    const entry = this.history.find((item) => item.idempotency_key === key);
    if (entry) entry.state = "rejected";
    this.outcome = { kind: "rejected", reason };
    this.render();
  }

  payload(entry) {
    const { idempotency_key, status, delegates_present, reason, presiding_name, presiding_position } = entry;
    return { point_id: this.pointId, status, delegates_present, reason, presiding_name, presiding_position, idempotency_key };
  }

  async post(path, body) {
    return fetch(`/api/v1/meetings/${this.meetingId}/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Checkin-Token": this.token },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  }

  // True when the server answered for good (stored or refused); false to try again later.
  async postAnswer(entry) {
    try {
      const response = await this.post("checkins", this.payload(entry));
      if (response.status === 200 || response.status === 201) {
        const record = await response.json();
        this.httpWorks = true;
        this.stored(entry.idempotency_key, record.version, record.created_at ? new Date(record.created_at) : new Date());
        return true;
      }
      if (response.status === 503) {
        this.outcome = { kind: "retrying" };
        this.render();
      } else if (response.status >= 400 && response.status < 500 && !RETRY_STATUSES.has(response.status)) {
        this.rejected(entry.idempotency_key, this.refusalOf(response.status));
        return true;
      }
    } catch {
      // no network: the answer stays in the outbox
    }
    this.httpWorks = false;
    return false;
  }

  // Send what the outbox holds, oldest first: over the socket when it is live, else over HTTP
  // (stopping at the first failure, so a later correction never overtakes an earlier answer).
  async flush(force = false) {
    if (this.flushing || navigator.onLine === false) return;
    const entries = this.outbox.entries();
    if (!entries.length) return;
    this.flushing = true;
    try {
      if (this.socket.isLive) {
        const now = Date.now();
        for (const entry of entries) {
          const last = this.sentAt.get(entry.idempotency_key);
          if (!force && last && now - last < RESEND_AFTER_MS) continue;
          if (this.socket.send({ type: "checkin", ...this.payload(entry) })) this.sentAt.set(entry.idempotency_key, now);
        }
        return;
      }
      for (const entry of entries) {
        if (!this.outbox.has(entry.idempotency_key)) continue; // acknowledged meanwhile
        if (!(await this.postAnswer(entry))) break;
      }
      this.socketChanged();
    } finally {
      this.flushing = false;
    }
  }

  // --- the forms ---------------------------------------------------------------------------------

  chosenStatus() {
    return this.form.querySelector("input[name=status]:checked")?.value || "";
  }

  showFields() {
    const status = this.chosenStatus();
    document.getElementById("delegates-field").hidden = status === "absent";
    document.getElementById("presiding-field").hidden = status === "absent";
    document.getElementById("reason-field").hidden = status === "present";
    document.getElementById("reason").setAttribute("aria-required", String(status === "absent"));
  }

  clientError(text, field) {
    const box = document.getElementById("client-error");
    for (const input of this.form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      if (input.getAttribute("aria-describedby") === "client-error") input.removeAttribute("aria-describedby");
    }
    box.hidden = !text;
    box.textContent = text || "";
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", "client-error");
      field.focus();
    }
  }

  readAnswer() {
    const M = this.M;
    const status = this.chosenStatus();
    const delegates = document.getElementById("delegates");
    const reason = document.getElementById("reason");
    const why = reason.value.trim();
    if (CONTROL.test(why)) return { error: [M.reason_control, reason] };
    if (status === "present") {
      const typed = delegates.value.trim();
      // The meeting's bounds are the field's own (min and max, as the server checks them).
      const least = Number(delegates.min || 0);
      const most = Math.min(Number(delegates.max || MAX_DELEGATES), MAX_DELEGATES);
      if (!/^\d{1,6}$/.test(typed) || Number(typed) < least || Number(typed) > most) return { error: [M.delegates_required, delegates] };
      // Who presides, as the page prefilled it (the invited chair) or the chair corrected it.
      const presiding_name = oneLine(document.getElementById("presiding-name").value) || null;
      const presiding_position = oneLine(document.getElementById("presiding-position").value) || null;
      return { status, delegates_present: Number(typed), reason: why || null, presiding_name, presiding_position };
    }
    if (status === "absent") return why ? { status, delegates_present: null, reason: why } : { error: [M.reason_required, reason] };
    return { error: [M.status_required, document.getElementById("status-present")] };
  }

  submitAnswer(event) {
    event.preventDefault();
    const answer = this.readAnswer();
    if (answer.error) {
      this.clientError(...answer.error);
      return;
    }
    this.clientError("");
    const same = (entry) =>
      entry.status === answer.status && entry.delegates_present === answer.delegates_present && entry.reason === answer.reason &&
      (entry.presiding_name ?? null) === (answer.presiding_name ?? null) && (entry.presiding_position ?? null) === (answer.presiding_position ?? null);
    if (this.outbox.entries().some(same)) return; // a double tap: that answer is already on its way
    const entry = { ...answer, idempotency_key: newKey(), queued_at: Date.now() };
    this.outbox.add(entry); // kept on the phone BEFORE it is sent
    this.history.push({ ...entry, state: "pending" });
    this.outcome = null;
    this.render();
    this.flush(true);
  }

  // The technician's report: over the socket (its delta confirms it), else over HTTP.
  sendSignal(value) {
    if (!value) return;
    if (value === this.current.signal && !this.pendingSignal) {
      this.view.signalSaved(value);
      return;
    }
    this.pendingSignal = value;
    this.view.signalStatus(this.M.signal_sending);
    if (this.socket.isLive && this.socket.send({ type: "signal", signal: value })) {
      window.setTimeout(() => {
        if (this.pendingSignal === value) this.postSignal(value);
      }, RESEND_AFTER_MS);
      return;
    }
    this.postSignal(value);
  }

  async postSignal(value) {
    try {
      const response = await this.post("signals", { point_id: this.pointId, signal: value });
      if (response.ok) {
        this.pendingSignal = value;
        this.signalChanged(value); // says it is saved
        return;
      }
    } catch {
      // no network
    }
    if (this.pendingSignal === value) this.pendingSignal = null;
    this.view.signalStatus(this.M.signal_failed, "error");
  }
}

// Before the roll call opens the page offers the invitation only; at the opening it is shown
// again with the roll-call form (within a day: a page left open longer is reloaded by hand).
function reloadAtOpening() {
  const notice = document.getElementById("roll-call-opens");
  const wait = notice ? Date.parse(notice.dataset.opensAt) - Date.now() : NaN;
  if (wait > 0 && wait < 86400000) window.setTimeout(() => window.location.reload(), wait + 1000);
}

const root = document.getElementById("checkin");
if (root) {
  new CheckinPage(root).start();
  reloadAtOpening();
}
