// What the check-in page shows, kept apart from how answers travel (checkin.js): the stored
// answer, whether the latest answer is stored, the recent answers, the signal and the connection.
// Every text goes in with textContent; the words come from the page's data-messages.
import { fill } from "./format.js";

const HISTORY_SHOWN = 5;
const ROLL_CALL_ICONS = { present: "✓", absent: "✕" };
const SAVE_ICONS = { pending: "◷", rejected: "✕", stored: "✓" };
const CONNECTION_ICONS = { live: "●", offline: "○", refused: "✕", http: "◐" };

export class CheckinView {
  constructor(M, number, clock) {
    this.M = M;
    this.number = number;
    this.clock = clock;
  }

  rollCallText(answer) {
    const M = this.M;
    if (answer.status === "present") {
      return `${M.roll_call.present} · ${fill(M.delegates, { count: this.number(answer.delegates_present ?? 0) })}`;
    }
    if (answer.status === "absent") return answer.reason ? `${M.roll_call.absent}: ${answer.reason}` : M.roll_call.absent;
    return M.roll_call.pending;
  }

  // The answers the server listed, newest first, kept with their own rendering.
  readHistory() {
    return Array.from(document.querySelectorAll("#history > li"), (item) => ({
      idempotency_key: item.dataset.key,
      version: Number(item.dataset.version) || 0,
      status: item.dataset.status,
      delegates_present: item.dataset.delegates === "" ? null : Number(item.dataset.delegates),
      reason: item.dataset.reason || null,
      at: item.dataset.at ? new Date(item.dataset.at) : null,
      state: "stored",
      element: item,
    }));
  }

  current(answer) {
    const holder = document.getElementById("current-answer");
    if (!holder) return;
    holder.dataset.status = answer.status;
    const strong = holder.querySelector("strong");
    strong.className = `roll-call roll-call-${answer.status}`;
    strong.querySelector(".icon").textContent = ROLL_CALL_ICONS[answer.status] || "○";
    document.getElementById("current-text").textContent = this.rollCallText(answer);
  }

  // Says plainly whether the latest answer is stored: waiting (kept on the phone; the server may
  // have said it cannot store it just now), refused, or stored at a time. With nothing to say, the server's own confirmation stays.
  saveState(waiting, outcome) {
    let kind;
    let text;
    if (waiting) {
      kind = "pending";
      text = outcome?.kind === "retrying" ? this.M.retrying : this.M.pending;
    } else if (outcome?.kind === "rejected") {
      kind = "rejected";
      text = fill(this.M.rejected, { reason: outcome.reason });
    } else if (outcome?.kind === "stored") {
      kind = "stored";
      text = fill(this.M.stored, { time: this.clock(outcome.at) });
    } else {
      return;
    }
    const line = document.createElement("p");
    line.className = `save-state save-state-${kind}`;
    line.dataset.state = kind;
    const mark = document.createElement("span");
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = SAVE_ICONS[kind];
    line.append(mark, ` ${text}`);
    const box = document.getElementById("answer-status");
    const old = box.firstElementChild;
    if (!old || old.textContent !== line.textContent || old.dataset.state !== kind) box.replaceChildren(line);
  }

  // Answers not yet stored first, then the last few stored ones, newest first.
  history(entries) {
    const list = document.getElementById("history");
    if (!list) return;
    const rank = (entry) => (entry.state === "stored" ? 0 : 1);
    const ordered = [...entries].sort(
      (a, b) => rank(b) - rank(a) || (b.version || 0) - (a.version || 0) || (b.queued_at || 0) - (a.queued_at || 0),
    );
    const shown = ordered
      .filter((entry) => entry.state !== "stored")
      .concat(ordered.filter((entry) => entry.state === "stored").slice(0, HISTORY_SHOWN));
    list.replaceChildren(...shown.map((entry) => this.historyItem(entry)));
    document.getElementById("history-empty").hidden = shown.length > 0;
  }

  historyItem(entry) {
    if (entry.element && entry.state === "stored") return entry.element;
    const item = document.createElement("li");
    item.dataset.state = entry.state;
    const time = document.createElement("time");
    const at = entry.at || (entry.queued_at ? new Date(entry.queued_at) : null);
    if (at) {
      time.dateTime = at.toISOString();
      time.textContent = this.clock(at);
    }
    const answer = document.createElement("span");
    answer.className = `roll-call roll-call-${entry.status}`;
    answer.textContent = this.rollCallText(entry);
    item.append(time, " ", answer);
    if (entry.state !== "stored") {
      const note = document.createElement("span");
      note.className = `history-state history-${entry.state}`;
      note.textContent = ` (${entry.state === "pending" ? this.M.history_pending : this.M.history_rejected})`;
      item.append(note);
    }
    return item;
  }

  signal(value) {
    const strong = document.getElementById("signal-current");
    if (strong) {
      strong.dataset.signal = value;
      strong.textContent = this.M.signals[value] || value;
    }
    for (const button of document.querySelectorAll("#signal-form button[name=signal]")) {
      button.setAttribute("aria-pressed", String(button.value === value));
    }
  }

  signalStatus(text, kind = "info") {
    const box = document.getElementById("signal-status");
    if (!box) return;
    const line = document.createElement("p");
    if (kind === "error") line.className = "field-error";
    line.textContent = text;
    box.replaceChildren(line);
  }

  signalSaved(value) {
    this.signalStatus(fill(this.M.signal_saved, { signal: this.M.signals[value] || value }));
  }

  // The connection line: live (with the round-trip time), offline, reconnecting, over HTTP.
  connection(state, rtt) {
    const line = document.getElementById("connection");
    if (!line) return;
    const M = this.M;
    const text = {
      live: rtt !== null ? fill(M.conn_rtt, { rtt: this.number(rtt) }) : M.conn_live,
      offline: M.conn_offline,
      refused: M.conn_refused,
      connecting: M.conn_connecting,
      http: M.conn_http,
    }[state] || M.conn_reconnecting;
    line.hidden = false;
    line.dataset.state = state;
    line.querySelector(".connection-icon").textContent = CONNECTION_ICONS[state] || "…";
    const label = line.querySelector(".connection-text");
    if (label.textContent !== text) label.textContent = text;
  }

  meetingStatus(status) {
    const badge = document.getElementById("meeting-status");
    if (badge && status && this.M.status[status]) {
      badge.className = `badge badge-${status}`;
      badge.textContent = this.M.status[status];
    }
  }
}
