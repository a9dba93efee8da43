// The check-in page's outbox: answers not yet acknowledged by the server, kept in localStorage
// so that a closed tab, a reload or a phone without network loses nothing. An answer is written
// here BEFORE it is sent and removed only once the server says it is stored; sending it again
// is harmless, since the server stores each idempotency key once.

export class Outbox {
  constructor(storageKey) {
    this.storageKey = storageKey;
    this.memory = [];
    this.persistent = true;
  }

  entries() {
    if (!this.persistent) return [...this.memory];
    try {
      const stored = JSON.parse(window.localStorage.getItem(this.storageKey) || "[]");
      return Array.isArray(stored) ? stored.filter((entry) => entry && entry.idempotency_key) : [];
    } catch {
      return [...this.memory];
    }
  }

  write(entries) {
    this.memory = [...entries];
    if (!this.persistent) return;
    try {
      if (entries.length) window.localStorage.setItem(this.storageKey, JSON.stringify(entries));
      else window.localStorage.removeItem(this.storageKey);
    } catch {
      // Private mode or a full disk: keep the answers in memory for as long as the page is open.
      this.persistent = false;
    }
  }

  add(entry) {
    this.write([...this.entries(), entry]);
  }

  remove(key) {
    const entries = this.entries();
    const kept = entries.filter((entry) => entry.idempotency_key !== key);
    if (kept.length !== entries.length) this.write(kept);
  }

  has(key) {
    return this.entries().some((entry) => entry.idempotency_key === key);
  }

  get size() {
    return this.entries().length;
  }
}
