// Small helpers shared by the live pages: the page's translated words (from its data-messages
// attribute), numbers and clock times the Vietnamese way, diacritics-insensitive search and
// idempotency keys.

export function readMessages(element) {
  try {
    return JSON.parse(element.dataset.messages || "{}");
  } catch {
    return {};
  }
}

// "{count} đại biểu" + {count: "2.050"} → "2.050 đại biểu" (the catalog's %(count)s became {count}).
export function fill(template, values) {
  return String(template ?? "").replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole);
}

function locale(language) {
  return language === "vi" ? "vi-VN" : "en-GB";
}

// 2050 → "2.050" in Vietnamese.
export function numberFormatter(language) {
  const format = new Intl.NumberFormat(locale(language));
  return (value) => format.format(Number(value) || 0);
}

// A Date → "14:02" in the province's time zone.
export function clockFormatter(language, timeZone) {
  const options = { hour: "2-digit", minute: "2-digit", hour12: false };
  let format;
  try {
    format = new Intl.DateTimeFormat(locale(language), { ...options, timeZone });
  } catch {
    format = new Intl.DateTimeFormat(locale(language), options);
  }
  return (date) => format.format(date instanceof Date ? date : new Date(date));
}

// "Xã Cẩm Tú" → "xa cam tu": the same folding as confhub.units.matching.fold on the server.
export function fold(text) {
  return String(text ?? "")
    .normalize("NFC")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase()
    .replace(/đ/g, "d")
    .normalize("NFD")
    .replace(/\p{Mn}/gu, "");
}

// A fresh idempotency key. crypto.randomUUID needs a secure context (https or localhost); a
// commune hall's LAN address over plain http still has getRandomValues.
export function newKey() {
  if (globalThis.crypto?.randomUUID) {
    try {
      return crypto.randomUUID();
    } catch {
      // not a secure context: fall through
    }
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The websocket address of a meeting, on this page's host.
export function socketUrl(meetingId, query = "") {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws/meetings/${meetingId}${query}`;
}
