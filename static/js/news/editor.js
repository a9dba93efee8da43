// The Markdown editor's toolbar and paste. A toolbar (templates/news/_markdown_toolbar.html,
// hidden until this runs) names its textarea in data-editor-for; its buttons' data-md says what
// each does to the selection: heading, bold, italic, bullets, numbers, table, link, or block (the
// Markdown of the page's <template> named by data-block, such as the minutes' speaking record,
// on lines of its own after the current line). Pasting HTML
// (from Word, LibreOffice or a web page) inserts its clean Markdown (html_to_markdown.js);
// plain text pastes as usual. Every change goes through the browser's own editing (so undo
// works) and fires "input", which the live preview (preview.js) follows.
import { htmlToMarkdown } from "./html_to_markdown.js";

function lineStart(value, index) {
  return value.lastIndexOf("\n", index - 1) + 1;
}

function lineEnd(value, index) {
  const found = value.indexOf("\n", index);
  return found < 0 ? value.length : found;
}

// Replace [start, end) with text and select [selectStart, selectEnd) of the result.
function replace(textarea, start, end, text, selectStart, selectEnd) {
  textarea.focus();
  textarea.setSelectionRange(start, end);
  let done = false;
  try {
    done = document.execCommand("insertText", false, text); // keeps the undo history
  } catch {
    done = false;
  }
  if (!done || textarea.value.slice(start, start + text.length) !== text) {
    textarea.setRangeText(text, start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }
  textarea.setSelectionRange(selectStart, selectEnd);
}

function wrapSelection(textarea, mark, placeholder) {
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  const chosen = value.slice(start, end);
  const core = chosen.trim() || placeholder;
  const before = chosen.match(/^\s*/)[0];
  const after = chosen.trim() ? chosen.match(/\s*$/)[0] : "";
  const text = `${before}${mark}${core}${mark}${after}`;
  const at = start + before.length + mark.length;
  replace(textarea, start, end, text, at, at + core.length);
}

// Give every selected line a prefix ("## ", "- ", "1. "), or take it away when all have it.
function prefixLines(textarea, kind) {
  const { selectionStart, selectionEnd, value } = textarea;
  const start = lineStart(value, selectionStart);
  const end = lineEnd(value, Math.max(selectionStart, selectionEnd - (selectionEnd > selectionStart ? 1 : 0)));
  const lines = value.slice(start, end).split("\n");
  const patterns = { heading: /^#{1,6}\s+/, bullets: /^[-*+]\s+/, numbers: /^\d+[.)]\s+/ };
  const pattern = patterns[kind];
  const all = lines.every((line) => pattern.test(line) || !line.trim());
  const changed = lines.map((line, index) => {
    if (!line.trim() && lines.length > 1) return line;
    if (all) return line.replace(pattern, "");
    const bare = line.replace(patterns.heading, "").replace(patterns.bullets, "").replace(patterns.numbers, "");
    if (kind === "heading") return `## ${bare}`;
    if (kind === "bullets") return `- ${bare}`;
    return `${index + 1}. ${bare}`;
  });
  const text = changed.join("\n");
  replace(textarea, start, end, text, start + text.length, start + text.length);
}

// A table of three columns and one empty row, on lines of its own, its first cell selected.
function insertTable(textarea, placeholder) {
  const { selectionEnd, value } = textarea;
  const at = lineEnd(value, selectionEnd);
  const head = [1, 2, 3].map((n) => `${placeholder} ${n}`);
  const above = value.slice(0, at);
  let before = "\n\n"; // a table is a block of its own: a blank line above it
  if (!above || above.endsWith("\n\n")) before = "";
  else if (above.endsWith("\n")) before = "\n";
  const table = `${before}| ${head.join(" | ")} |\n| --- | --- | --- |\n|  |  |  |\n`;
  const first = at + before.length + 2;
  replace(textarea, at, at, table, first, first + head[0].length);
}

// A block of Markdown kept in a <template> of the page (written by the server), on lines of its own
// after the current line; the caret after it.
function insertBlock(textarea, button) {
  const source = document.getElementById(button.dataset.block);
  const block = source && source.content ? source.content.textContent.trim() : "";
  if (!block) return;
  const { selectionEnd, value } = textarea;
  const at = lineEnd(value, selectionEnd);
  const above = value.slice(0, at);
  let before = "\n\n";
  if (!above || above.endsWith("\n\n")) before = "";
  else if (above.endsWith("\n")) before = "\n";
  // A line break ends it; a following line keeps its own break, so a blank line stands between.
  const text = `${before}${block}\n`;
  const end = at + text.length;
  replace(textarea, at, at, text, end, end);
}

function insertLink(textarea, placeholder) {
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  const label = value.slice(start, end).trim() || placeholder;
  const text = `[${label}](https://)`;
  const url = start + label.length + 3;
  replace(textarea, start, end, text, url, url + "https://".length);
}

function act(textarea, button) {
  const placeholder = button.dataset.placeholder || "";
  switch (button.dataset.md) {
    case "bold":
      return wrapSelection(textarea, "**", placeholder);
    case "italic":
      return wrapSelection(textarea, "*", placeholder);
    case "heading":
    case "bullets":
    case "numbers":
      return prefixLines(textarea, button.dataset.md);
    case "table":
      return insertTable(textarea, placeholder);
    case "link":
      return insertLink(textarea, placeholder);
    case "block":
      return insertBlock(textarea, button);
    default:
      return undefined;
  }
}

function pasteHtml(textarea, event) {
  const html = event.clipboardData && event.clipboardData.getData("text/html");
  if (!html) return; // plain text: the browser pastes it
  const markdown = htmlToMarkdown(html);
  if (!markdown) return;
  event.preventDefault();
  const { selectionStart: start, selectionEnd: end } = textarea;
  replace(textarea, start, end, markdown, start + markdown.length, start + markdown.length);
}

function enhance(toolbar) {
  const textarea = document.getElementById(toolbar.dataset.editorFor);
  if (!textarea) return;
  toolbar.hidden = false;
  toolbar.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-md]");
    if (button) act(textarea, button);
  });
  textarea.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    const key = event.key.toLowerCase();
    const button = toolbar.querySelector(`button[data-md="${key === "b" ? "bold" : key === "i" ? "italic" : ""}"]`);
    if (button) {
      event.preventDefault();
      act(textarea, button);
    }
  });
  textarea.addEventListener("paste", (event) => pasteHtml(textarea, event));
}

for (const toolbar of document.querySelectorAll("[data-editor-for]")) enhance(toolbar);
