// A form that is sending says so: its button shows that it works and refuses a second click (a
// second submit would invite, import or publish twice), and past a second a progress bar
// appears (on a provincial connection these take many seconds). Links marked `data-busy` (the
// QR sheet) show the same while the next page loads. The page itself is the server's answer.

const SLOW_MS = 1000;

function progressBar(label) {
  const bar = document.createElement("progress");
  bar.className = "busy-progress";
  bar.setAttribute("aria-label", label);
  return bar;
}

function markBusy(control, label) {
  control.dataset.busyText = control.textContent;
  control.classList.add("is-busy");
  control.setAttribute("aria-disabled", "true");
  control.setAttribute("aria-busy", "true");
  control.textContent = label;
  const bar = progressBar(label);
  bar.hidden = true;
  control.after(bar);
  window.setTimeout(() => { bar.hidden = false; }, SLOW_MS);
}

export function enhanceBusy(root) {
  const label = document.documentElement.dataset.busyLabel || "…";
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.dataset.sending === "true") {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented) return;
    form.dataset.sending = "true";
    const button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (button) markBusy(button, label);
  });
  for (const link of root.querySelectorAll("a[data-busy]")) {
    link.addEventListener("click", (event) => {
      if (link.classList.contains("is-busy")) {
        event.preventDefault();
        return;
      }
      if (link.target || link.hasAttribute("download")) return;
      markBusy(link, label);
    });
  }
  // Back from the next page (bfcache): the form may be sent again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    for (const form of root.querySelectorAll("form[data-sending]")) delete form.dataset.sending;
    for (const control of root.querySelectorAll(".is-busy")) {
      control.classList.remove("is-busy");
      control.removeAttribute("aria-disabled");
      control.removeAttribute("aria-busy");
      control.textContent = control.dataset.busyText || control.textContent;
      if (control.nextElementSibling?.classList.contains("busy-progress")) control.nextElementSibling.remove();
    }
  });
}
