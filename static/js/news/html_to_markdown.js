// HTML from the clipboard (Word, LibreOffice, a web page) as clean Markdown: headings, bold and
// italic, lists (Word's "mso-list" paragraphs too), tables, links and paragraphs. Everything else
// is dropped: scripts, styles, comments, images, Office's <o:p> and mso- styling. The HTML is
// parsed with DOMParser into an inert document (nothing in it runs or loads) and only walked;
// the server still sanitises whatever Markdown is saved (news/markdown.py).

const DROPPED = new Set([
  "SCRIPT", "STYLE", "HEAD", "TITLE", "META", "LINK", "BASE", "TEMPLATE", "NOSCRIPT", "IFRAME",
  "FRAME", "OBJECT", "EMBED", "SVG", "MATH", "IMG", "PICTURE", "VIDEO", "AUDIO", "CANVAS", "MAP",
  "BUTTON", "INPUT", "SELECT", "TEXTAREA", "FORM", "XML",
]);
const HEADINGS = { H1: 1, H2: 2, H3: 3, H4: 4, H5: 5, H6: 6 };
const CONTAINERS = new Set([
  "DIV", "SECTION", "ARTICLE", "MAIN", "HEADER", "FOOTER", "ASIDE", "NAV", "CENTER", "ADDRESS",
  "FIGURE", "FIGCAPTION", "DL", "DT", "DD", "BODY", "HTML", "TBODY", "THEAD", "TFOOT",
]);
const BLOCKS = new Set([
  ...CONTAINERS, ...Object.keys(HEADINGS), "P", "UL", "OL", "LI", "TABLE", "BLOCKQUOTE", "PRE", "HR",
]);
const SAFE_LINK = /^(https?:|mailto:|tel:)/i;
// Word marks a list paragraph "mso-list:l0 level2 lfo1" and its bullet "mso-list:Ignore".
const WORD_LIST = /mso-list:\s*l\d+\s+level(\d+)/i;
const WORD_BULLET = /mso-list:\s*Ignore/i;
const INDENT = "    ";

function styleOf(element) {
  return (element.getAttribute && element.getAttribute("style")) || "";
}

function isBold(element) {
  const style = styleOf(element);
  // "(^|;)": Word's "mso-bidi-font-weight:normal" says nothing about the text's own weight.
  if (/(^|;)\s*font-weight:\s*(normal|[1-4]00)\b/i.test(style)) return false; // Google Docs
  return element.tagName === "B" || element.tagName === "STRONG" ||
    /(^|;)\s*font-weight:\s*(bold|bolder|[6-9]00)\b/i.test(style);
}

function isItalic(element) {
  const style = styleOf(element);
  if (/(^|;)\s*font-style:\s*normal\b/i.test(style)) return false;
  return element.tagName === "I" || element.tagName === "EM" ||
    /(^|;)\s*font-style:\s*italic\b/i.test(style);
}

function escapeText(text) {
  return text.replace(/([\\`*_[\]])/g, "\\$1");
}

// Emphasis hugs its words: "** a **" is not bold in Markdown, so spaces go outside the marks.
function wrap(inner, mark) {
  const found = inner.match(/^(\s*)([\s\S]*?)(\s*)$/);
  if (!found[2]) return inner;
  return `${found[1]}${mark}${found[2]}${mark}${found[3]}`;
}

function inline(node) {
  if (node.nodeType === Node.TEXT_NODE) return escapeText(node.data.replace(/[\s\u00a0]+/g, " "));
  if (node.nodeType !== Node.ELEMENT_NODE || DROPPED.has(node.tagName)) return "";
  if (WORD_BULLET.test(styleOf(node))) return "";
  if (node.tagName === "BR") return "\n";
  let inner = "";
  for (const child of node.childNodes) inner += inline(child);
  if (node.tagName === "A") {
    const href = (node.getAttribute("href") || "").trim();
    if (SAFE_LINK.test(href) && inner.trim()) {
      return `[${inner.trim()}](${href.replace(/[\s()]/g, encodeURIComponent)})`;
    }
    return inner;
  }
  if (isBold(node)) inner = wrap(inner, "**");
  if (isItalic(node)) inner = wrap(inner, "*");
  return inner;
}

// One line of text: runs joined ("**a****b**" → "**ab**"), spaces tidied, and a start that
// Markdown would read as a heading, list or quote escaped.
function tidy(text) {
  return text
    .replace(/\*\*\*\*/g, "")
    .split("\n")
    .map((line) => line.replace(/[ \t]+/g, " ").trim())
    .filter((line, index, lines) => line || (index > 0 && index < lines.length - 1))
    .join("\n")
    .replace(/^(#{1,6}\s|[-+*]\s|\d+[.)]\s|>)/, "\\$1");
}

function wordListItem(paragraph) {
  const found = styleOf(paragraph).match(WORD_LIST);
  if (!found) return null;
  const bullet = paragraph.querySelector("[style*='mso-list']");
  const marker = bullet && WORD_BULLET.test(styleOf(bullet)) ? bullet.textContent.trim() : "";
  return { level: Number(found[1]), ordered: /^[\da-z]{1,3}[.)]/i.test(marker) };
}

function cellText(cell) {
  const parts = [];
  let line = "";
  for (const child of cell.childNodes) {
    if (child.nodeType === Node.ELEMENT_NODE && BLOCKS.has(child.tagName)) {
      parts.push(line, cellText(child));
      line = "";
    } else {
      line += inline(child);
    }
  }
  parts.push(line);
  return parts.map(tidy).filter(Boolean).join(" ").replace(/\n/g, " ").replace(/\|/g, "\\|");
}

function table(element) {
  const rows = Array.from(element.rows || []).map((row) => Array.from(row.cells).map(cellText));
  const width = Math.max(0, ...rows.map((cells) => cells.length));
  if (!width) return "";
  const line = (cells) => `| ${Array.from({ length: width }, (_, i) => cells[i] || "").join(" | ")} |`;
  // The header row is bold already: Word's own bold there would only add asterisks.
  const [head, ...body] = rows;
  const plainHead = head.map((cell) => cell.replace(/^\*\*(.*)\*\*$/, "$1"));
  return [line(plainHead), `|${" --- |".repeat(width)}`, ...body.map(line)].join("\n");
}

function listItems(list, depth, out) {
  let number = Number(list.getAttribute("start")) || 1;
  for (const item of list.children) {
    if (item.tagName !== "LI") continue;
    const marker = list.tagName === "OL" ? `${number++}. ` : "- ";
    let text = "";
    const nested = [];
    for (const child of item.childNodes) {
      if (child.nodeType === Node.ELEMENT_NODE && (child.tagName === "UL" || child.tagName === "OL")) {
        nested.push(child);
      } else if (child.nodeType === Node.ELEMENT_NODE && BLOCKS.has(child.tagName)) {
        text += ` ${blocksOf(child).join(" ")}`;
      } else {
        text += inline(child);
      }
    }
    out.push(`${INDENT.repeat(depth)}${marker}${tidy(text).replace(/\n/g, " ")}`);
    for (const child of nested) listItems(child, depth + 1, out);
  }
  return out;
}

// The Markdown blocks of an element's children, in order.
function blocksOf(element) {
  const out = [];
  let line = "";
  let wordList = null; // the Markdown lines of Word list paragraphs in a row, and their numbers
  const flush = () => {
    const text = tidy(line);
    if (text) out.push(text);
    line = "";
  };
  const endWordList = () => {
    if (wordList) out.push(wordList.lines.join("\n"));
    wordList = null;
  };
  for (const child of element.childNodes) {
    const tag = child.nodeType === Node.ELEMENT_NODE ? child.tagName : "";
    if (!BLOCKS.has(tag)) {
      if (child.nodeType === Node.TEXT_NODE && !child.data.trim() && !line) continue;
      if (DROPPED.has(tag)) continue;
      endWordList();
      line += inline(child);
      continue;
    }
    flush();
    const item = tag === "P" ? wordListItem(child) : null;
    if (item) {
      wordList = wordList || { lines: [], numbers: [] };
      wordList.numbers[item.level] = (wordList.numbers[item.level] || 0) + 1;
      wordList.numbers.length = item.level + 1;
      const marker = item.ordered ? `${wordList.numbers[item.level]}. ` : "- ";
      const text = tidy(inline(child)).replace(/\n/g, " ");
      if (text) wordList.lines.push(`${INDENT.repeat(item.level - 1)}${marker}${text}`);
      continue;
    }
    endWordList();
    if (tag in HEADINGS) {
      const text = tidy(inline(child)).replace(/\n/g, " ").replace(/^\\/, "");
      if (text) out.push(`${"#".repeat(HEADINGS[tag])} ${text.replace(/^\*\*(.*)\*\*$/, "$1")}`);
    } else if (tag === "UL" || tag === "OL") {
      const lines = listItems(child, 0, []);
      if (lines.length) out.push(lines.join("\n"));
    } else if (tag === "TABLE") {
      const text = table(child);
      if (text) out.push(text);
    } else if (tag === "BLOCKQUOTE") {
      const inner = blocksOf(child).join("\n\n");
      if (inner) out.push(inner.split("\n").map((l) => (l ? `> ${l}` : ">")).join("\n"));
    } else if (tag === "PRE") {
      const text = child.textContent.replace(/\n+$/, "");
      if (text.trim()) out.push("```\n" + text.replace(/```/g, "ʼʼʼ") + "\n```");
    } else if (tag === "HR") {
      out.push("---");
    } else if (tag === "P" || tag === "LI") {
      const text = tidy(Array.from(child.childNodes).map(inline).join(""));
      if (text) out.push(text);
    } else {
      out.push(...blocksOf(child)); // a container: its own blocks
    }
  }
  flush();
  endWordList();
  return out;
}

/** Clean Markdown of an HTML fragment (clipboard HTML); "" when it holds no text. */
export function htmlToMarkdown(html) {
  const document = new DOMParser().parseFromString(html, "text/html");
  return blocksOf(document.body).join("\n\n").replace(/\n{3,}/g, "\n\n").trim();
}
