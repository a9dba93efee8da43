// Typed days and times (confhub.core.dateinput): text inputs marked `data-datetime="moment"`
// (dd/mm/yyyy hh:mm), `"day"` (dd/mm/yyyy) or `"clock"` (hh:mm, 24-hour), the same whatever the
// browser's locale. When one is left, what was typed is tidied ("9/10/2025 9h" → "09/10/2025
// 09:00"), and a value that is none of them is marked, with the words in `data-invalid` shown
// under it. The server reads the same forms and has the last word.
const DAY = /^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$/;
const ISO_DAY = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const CLOCK = /^(\d{1,2})(?:[:hH.](\d{2})?)?$/;

const two = (n) => String(n).padStart(2, "0");

function day(text) {
  let found = DAY.exec(text);
  let [d, m, y] = found ? [found[1], found[2], found[3]] : [];
  if (!found) {
    found = ISO_DAY.exec(text);
    if (!found) return null;
    [y, m, d] = [found[1], found[2], found[3]];
  }
  const date = new Date(Number(y), Number(m) - 1, Number(d));
  if (date.getFullYear() !== Number(y) || date.getMonth() !== Number(m) - 1 || date.getDate() !== Number(d)) return null;
  return `${two(d)}/${two(m)}/${y}`;
}

function clock(text) {
  const found = CLOCK.exec(text);
  if (!found) return null;
  const [h, m] = [Number(found[1]), Number(found[2] || 0)];
  return h < 24 && m < 60 ? `${two(h)}:${two(m)}` : null;
}

function moment(text) {
  const parts = text.split(/\s*[ ,T]\s*/).filter(Boolean);
  if (parts.length !== 2) return null;
  const [d, c] = [day(parts[0]), clock(parts[1])];
  return d && c ? `${d} ${c}` : null;
}

const READERS = { moment, day, clock };

function check(input) {
  const text = input.value.trim();
  const tidy = text ? READERS[input.dataset.datetime](text) : "";
  let note = document.getElementById(`${input.id}-format`);
  if (tidy === null) {
    if (!note) {
      note = document.createElement("p");
      note.className = "field-error";
      note.id = `${input.id}-format`;
      input.after(note);
    }
    note.textContent = input.dataset.invalid || "";
    input.setAttribute("aria-invalid", "true");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(note.id)) input.setAttribute("aria-describedby", [...described, note.id].join(" "));
    return;
  }
  input.value = tidy;
  if (note) {
    note.remove();
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== note.id);
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
    if (!document.getElementById(`${input.id}-error`)) input.removeAttribute("aria-invalid");
  }
}

export function enhanceDateTimes(root) {
  // Inputs added later (a new agenda row) are handled too: the event is caught on the root.
  root.addEventListener("change", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.dataset.datetime in READERS) check(input);
  });
}
