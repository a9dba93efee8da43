// Live preview of Markdown while the minutes or an article are written: the text goes to
// /api/v1/news/preview, which renders it with the same sanitiser as the public pages, and the
// answer replaces the preview. Wired by <textarea data-preview="ID-of-the-preview">; without
// JavaScript the preview shows the last saved text. With data-preview-warning="ID", that element
// (templates/news/_raw_html_warning.html) lists the raw HTML tags the text holds, which readers
// will see only as their text, or is hidden when there are none.
const DELAY_MS = 350;
const ENDPOINT = "/api/v1/news/preview";

function tagLabel(name) {
  return name === "!--" ? "<!-- -->" : `<${name}>`;
}

function showRawHtml(warning, tags) {
  if (!warning) return;
  warning.hidden = tags.length === 0;
  // Text, never markup: the tag names are shown as typed.
  warning.textContent = tags.length
    ? warning.dataset.message.replace("{tags}", tags.map(tagLabel).join(", "))
    : "";
}

function enhance(textarea) {
  const target = document.getElementById(textarea.dataset.preview);
  if (!target) return;
  const warning = document.getElementById(textarea.dataset.previewWarning || "");
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
      const { html, raw_html: rawHtml } = await response.json();
      showRawHtml(warning, rawHtml || []);
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
