// A "Print" button (data-print) for printable sheets; the browser's own print command works too.
export function enhancePrintButtons(root) {
  for (const button of root.querySelectorAll("button[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
}
