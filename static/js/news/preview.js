// Live preview of Markdown while the minutes or an article are written: the text goes to
// /api/v1/news/preview, which renders it with the same sanitiser as the public pages, and the
// answer replaces the preview. Wired by <textarea data-preview="ID-of-the-preview">; without
// JavaScript the preview shows the last saved text.
const DELAY_MS = 350;
const ENDPOINT = "/api/v1/news/preview";

function enhance(textarea) {
  const target = document.getElementById(textarea.dataset.preview);
  if (!target) return;
  let timer = 0;
  let shown = textarea.value;
  let pending = null;

  async function refresh() {
    const text = textarea.value;
    if (text === shown) return;
    pending?.abort();
    pending = new AbortController();
    try {
      const response = await fetch(ENDPOINT, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ markdown: text }),
        signal: pending.signal,
      });
      if (!response.ok) {
        target.dataset.previewState = "error";
        return;
      }
      const { html } = await response.json();
      // The server's sanitised HTML, parsed inertly and moved in (never evaluated as script).
      const parsed = new DOMParser().parseFromString(html, "text/html");
      target.replaceChildren(...parsed.body.childNodes);
      target.dataset.previewState = "ok";
      shown = text;
    } catch (error) {
      if (error.name !== "AbortError") target.dataset.previewState = "error";
    }
  }

  textarea.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY_MS);
  });
}

for (const textarea of document.querySelectorAll("textarea[data-preview]")) enhance(textarea);
