// One websocket to /ws/meetings/{id} that stays correct for hours.
//
// - reconnects with exponential backoff and jitter (at once when the network comes back or the
//   page becomes visible again), and stops for good when the server closes with 1008;
// - heartbeats every `heartbeat_every_ms` of the snapshot, sending the round-trip time measured
//   from the previous pong; a connection that stops answering is dropped and reopened;
// - hands deltas over in version order: after a reconnect it asks `resync {since}`; a board
//   (`contiguous`: it receives every delta) that sees a gap holds later deltas back, asks for a
//   resync and is `behind` until the gap is filled (or a snapshot replaces everything).
//
// States: "connecting" (first try), "live" (snapshot received), "reconnecting", "offline"
// (navigator.onLine is false), "refused" (not allowed: 1008).

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const POLICY_VIOLATION = 1008;
const RESYNC_TIMEOUT_MS = 10000;
// Every kind of versioned delta the server sends (EventType in confhub/attendance/models.py;
// tests/unit/test_conventions.py holds the two lists equal): one missing here is taken for a
// non-versioned message, and the board only catches up at the next delta's gap.
const DELTA_TYPES = new Set(["checkin", "presence", "signal", "meeting", "notice", "speaking", "incident", "announcement"]);

export class LiveSocket {
  constructor(url, { contiguous = false, heartbeatMs = 10000, onSnapshot, onDelta, onMessage, onChange } = {}) {
    this.url = url;
    this.contiguous = contiguous;
    this.heartbeatMs = heartbeatMs;
    this.onSnapshot = onSnapshot || (() => {});
    this.onDelta = onDelta || (() => {});
    this.onMessage = onMessage || (() => {});
    this.onChange = onChange || (() => {});
    this.ws = null;
    this.state = "connecting";
    this.version = 0;
    this.everLive = false;
    this.behind = false;
    this.held = [];
    this.attempt = 0;
    this.failures = 0;
    this.rtt = null;
    this.awaitingPong = false;
    this.pingAt = 0;
    this.heartbeatTimer = null;
    this.retryTimer = null;
    this.resyncTimer = null;
  }

  get isLive() {
    return this.state === "live" && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  start() {
    window.addEventListener("online", () => this.connectNow());
    window.addEventListener("offline", () => this.goOffline());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.ws === null) this.connectNow();
    });
    if (navigator.onLine === false) this.goOffline();
    else this.connect();
  }

  // Sends one message; false when there is no open socket (the caller keeps it for later).
  send(message) {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(message));
      return true;
    } catch {
      return false;
    }
  }

  connectNow() {
    if (this.state === "refused") return;
    this.attempt = 0;
    window.clearTimeout(this.retryTimer);
    if (this.ws === null) this.connect();
  }

  connect() {
    window.clearTimeout(this.retryTimer);
    if (this.ws !== null || this.state === "refused") return;
    if (navigator.onLine === false) {
      this.goOffline();
      return;
    }
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.setState(this.everLive || this.failures > 0 ? "reconnecting" : "connecting");
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      // The server sends a fresh snapshot first; the resync fetches what happened meanwhile.
      if (this.everLive && this.version > 0) this.send({ type: "resync", since: this.version });
      this.startHeartbeat();
    });
    ws.addEventListener("message", (event) => {
      if (ws === this.ws) this.receive(event.data);
    });
    ws.addEventListener("close", (event) => this.closed(ws, event.code));
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.stopHeartbeat();
    if (code === POLICY_VIOLATION) {
      this.setState("refused");
      return;
    }
    this.failures += 1;
    if (navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    this.setState("reconnecting");
    this.scheduleRetry();
  }

  // Forget a connection that stopped answering, without waiting for its closing handshake.
  drop() {
    const ws = this.ws;
    if (ws === null) return;
    this.closed(ws, 4000);
    try {
      ws.close(4000, "no answer");
    } catch {
      // already closing
    }
  }

  goOffline() {
    window.clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    if (ws !== null) {
      try {
        ws.close(1000, "offline");
      } catch {
        // already closing
      }
    }
    if (this.state !== "refused") this.setState("offline");
  }

  scheduleRetry() {
    window.clearTimeout(this.retryTimer);
    // "Equal jitter": half the exponential delay, plus a random share of the other half, so a
    // thousand boards that lost the server at once do not come back at once.
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(this.attempt, 10));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.awaitingPong = false;
    this.beat();
    this.heartbeatTimer = window.setInterval(() => this.beat(), this.heartbeatMs);
  }

  stopHeartbeat() {
    window.clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.awaitingPong = false;
  }

  beat() {
    if (this.awaitingPong && Date.now() - this.pingAt > this.heartbeatMs * 2.5) {
      this.drop();
      return;
    }
    const message = { type: "heartbeat", sent_at: Date.now() };
    if (this.rtt !== null) message.rtt_ms = this.rtt;
    if (this.send(message) && !this.awaitingPong) {
      this.pingAt = message.sent_at;
      this.awaitingPong = true;
    }
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message === null || typeof message !== "object") return;
    if (message.type === "snapshot") this.snapshot(message);
    else if (message.type === "batch") for (const delta of message.messages || []) this.delta(delta);
    else if (DELTA_TYPES.has(message.type)) this.delta(message);
    else if (message.type === "pong") this.pong(message);
    else this.onMessage(message);
  }

  snapshot(message) {
    this.version = Number(message.version) || 0;
    this.held = this.held.filter((delta) => delta.version > this.version);
    this.everLive = true;
    this.attempt = 0;
    this.failures = 0;
    const every = Number(message.heartbeat_every_ms);
    if (every > 0 && every !== this.heartbeatMs) {
      this.heartbeatMs = every;
      if (this.heartbeatTimer !== null) this.startHeartbeat();
    }
    this.onSnapshot(message);
    this.state = "live";
    this.release();
    this.onChange(this);
  }

  delta(message) {
    const version = Number(message.version);
    if (!(version > this.version)) return; // already applied (a resync may repeat deltas)
    if (this.contiguous && version > this.version + 1) {
      this.held.push(message);
      if (!this.behind) {
        this.behind = true;
        this.askResync();
        this.onChange(this);
      }
      return;
    }
    this.apply(message);
    this.release();
  }

  apply(message) {
    this.version = Number(message.version);
    this.onDelta(message);
  }

  // Apply held deltas that now follow on; no longer behind once none is left.
  release() {
    if (this.held.length) {
      this.held.sort((a, b) => a.version - b.version);
      while (this.held.length && this.held[0].version <= this.version + 1) {
        const next = this.held.shift();
        if (next.version === this.version + 1) this.apply(next);
      }
    }
    if (this.behind && this.held.length === 0) {
      this.behind = false;
      window.clearTimeout(this.resyncTimer);
      this.onChange(this);
    }
  }

  askResync() {
    this.send({ type: "resync", since: this.version });
    window.clearTimeout(this.resyncTimer);
    // No answer in time: reconnect, which always starts with a fresh snapshot.
    this.resyncTimer = window.setTimeout(() => {
      if (this.behind) this.drop();
    }, RESYNC_TIMEOUT_MS);
  }

  pong(message) {
    const sentAt = Number(message.sent_at);
    const first = this.rtt === null;
    if (sentAt > 0) this.rtt = Math.max(0, Date.now() - sentAt);
    this.awaitingPong = false;
    // The first beat of a connection cannot carry a round-trip time; send the measured one at
    // once rather than a whole interval later, so the board's first "online" shows it.
    if (first && this.rtt !== null) this.beat();
    this.onChange(this);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onChange(this);
  }
}
