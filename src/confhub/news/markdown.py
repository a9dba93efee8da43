"""Markdown to safe HTML, the one way for the minutes, the articles and the preview.

markdown-it-py renders CommonMark (with tables and strikethrough); raw HTML typed into the text
is reduced to its text (tags dropped, what a `<script>` or `<style>` holds dropped too) and its
tag names are reported, so the editor's preview can say what was removed before anything is
published; nh3 then keeps only an allow-list of tags, attributes and URL schemes, so whatever a
user typed cannot run script, load a remote resource or restyle the page, and the public never
sees literal `<tag>` text.

A text is rendered once, when it is saved, and its HTML stored beside it: pages and feeds show
what is stored. A render is bounded before it starts (`MAX_MARKDOWN_LENGTH` characters) and
while it runs (`MAX_MARKDOWN_WORK`: the parser's steps are counted, and a text that needs more is
refused), and it runs in a thread of its own, never on the event loop. bench/markdown_render.py
measures what the worst text within these bounds costs.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from markupsafe import Markup

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "s",
        "blockquote",
        "ul",
        "ol",
        "li",
        "code",
        "pre",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Inserted values never start a line, so only inline syntax needs escaping.
_MARKDOWN_SPECIALS = frozenset("\\`*_[]<>|~&")
# The article's title is its page's only <h1>: a "# heading" in the text becomes an <h2>.
_HEADING_SHIFT = {"h1": "h2", "h2": "h3", "h3": "h4", "h4": "h5", "h5": "h6"}

# The longest text a person may save (minutes, an article's body): the minutes of a long
# conference run to 10,000-30,000 characters.
MAX_MARKDOWN_LENGTH = 100_000
# The parser's work a text may need, in steps of at most about 6 µs of CPU each (measured by
# bench/markdown_render.py): a block tried (a line, a list item, a quote level) is 2 steps, an
# inline rule tried (emphasis, a link, a line break, an escape) 1, at a `<` (raw HTML) 4, a
# table cell (`|`) 2. Long real minutes need about 3,500 for 28,000 characters (tables, lists,
# links), 2,400 when they are plain text broken every 75 characters; markdown-it-py bounds none
# of this by itself, and a page of `[` costs it 7 µs a character.
MAX_MARKDOWN_WORK = 8_000
TOO_MUCH_FORMATTING = N_(
    "too much formatting to show (lines, list items, table cells, links, emphasis): "
    "shorten the text or use less formatting"
)
_BLOCK_STEP = 2
_INLINE_STEP = 1
_CELL_STEP = 2
_HTML_STEP = 4
_WORK_LEFT = "confhub:work_left"
_RAW_HTML = "confhub:raw_html"
# A tag's name as raw HTML starts it (`<b>`, `</td>`, `<o:p>`); comments are named `<!-- -->`.
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)")
# A comment's start, a tag (to the next `>`, or up to the next `<` when left open), `<!…>`, `<?…>`.
_RAW_PIECE = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*>?|<[!?][^<>]*>?")
_TAG_START = re.compile(r"<(?=/?[A-Za-z])")
# Raw elements whose content is not text a reader should see.
_DROPPED_CONTENT = frozenset({"script", "style"})
# Where an inline rule can start (markdown-it's default set less `#$%+-:=>@^{}`, which start no
# rule enabled here and `:`/`-`/`%` fill Vietnamese minutes): the same HTML, fewer steps.
_INLINE_TERMINATORS = re.compile(r"[\n!&*<\[\\\]_`~]")
# One thread per process renders, so Markdown never holds the event loop and at most one render
# competes with it for the interpreter.
_render_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="confhub-markdown")


T = TypeVar("T")


class _OverBudgetError(Exception):
    """Raised inside the parser when a text needs more than its work allowance."""


def _spend(env: MutableMapping[str, Any], steps: int) -> None:
    left = env.get(_WORK_LEFT)
    if left is None:  # an unbounded render (generated text, migrations)
        return
    left -= steps
    if left < 0:
        raise _OverBudgetError
    env[_WORK_LEFT] = left


def _count_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    _spend(state.env, _BLOCK_STEP)
    return False  # never matches: it only counts the blocks tried after it


def _count_inline(state: StateInline, silent: bool) -> bool:
    # A `<` is tried as raw HTML too, which costs several ordinary rules.
    _spend(state.env, _HTML_STEP if state.src[state.pos] == "<" else _INLINE_STEP)
    return False


def _tags_of(raw: str) -> list[tuple[bool, str]]:
    """(closing?, lower-case name) of each tag in a piece of raw HTML; comments as `!--`."""
    found = [(m.group(1) == "/", m.group(2).lower()) for m in _TAG_NAME.finditer(raw)]
    if raw.lstrip().startswith("<!--"):
        found.append((False, "!--"))
    return found


def _raw_text(raw: str) -> str:
    """The text of a piece of raw HTML: tags and comments dropped, and what a `<script>` or
    `<style>` holds. Linear in its length (nh3 takes seconds on 20,000 nested `<div>`s)."""
    parts: list[str] = []
    pos, dropping = 0, ""
    while (found := _RAW_PIECE.search(raw, pos)) is not None:
        if not dropping:
            parts.append(raw[pos : found.start()])
        pos = found.end()
        if found.group(0) == "<!--":
            end = raw.find("-->", pos)
            pos = len(raw) if end < 0 else end + 3
            continue
        closing, name = found.group(1) == "/", (found.group(2) or "").lower()
        if name in _DROPPED_CONTENT and (not closing or name == dropping):
            dropping = "" if closing else name
    if not dropping:
        parts.append(raw[pos:])
    return "".join(parts)


def _note_raw(state: StateCore, raw: str) -> list[tuple[bool, str]]:
    tags = _tags_of(raw)
    noted: set[str] = state.env.setdefault(_RAW_HTML, set())
    noted.update(name for _, name in tags)
    return tags


def _strip_raw_html(state: StateCore) -> None:
    """Raw HTML becomes its text: a block keeps its text as a paragraph, an inline tag is
    dropped (and the text inside a `<script>` or `<style>`); every tag name is noted."""
    for token in state.tokens:
        if token.type == "html_block":
            _note_raw(state, token.content)
            text = html.escape(_raw_text(token.content).strip(), quote=False)
            token.content = f"<p>{text}</p>\n" if text else ""
        elif token.type == "inline" and token.children:
            dropping: str | None = None
            for child in token.children:
                if child.type == "html_inline":
                    for closing, name in _note_raw(state, child.content):
                        if name in _DROPPED_CONTENT:
                            dropping = None if closing else name
                    child.content = ""
                elif child.type == "text":
                    child.content = "" if dropping else _untag(state, child.content)


def _untag(state: StateCore, text: str) -> str:
    """Text that only looks like a tag (`<img src=x` left open, `\\<b>`) loses its `<`, so
    no reader sees tag-like text either; it is noted as raw HTML too."""
    if "<" not in text:
        return text
    _note_raw(state, text)
    return _TAG_START.sub("", text)


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING_SHIFT.get(token.tag, token.tag)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Imported on the first render, not by every serving process (where pages only show the
    # HTML stored when the text was saved).
    from markdown_it import MarkdownIt
    from markdown_it.ruler import RuleOptionsType

    # Raw HTML is parsed (so it can be told from text) and then reduced to its text.
    parser = MarkdownIt("commonmark", {"html": True, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.core.ruler.push("strip_raw_html", _strip_raw_html)
    parser.core.ruler.push("shift_headings", _shift_headings)
    # First in every chain that tries blocks (terminator checks included) and inline rules.
    chains: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote", "list"]}
    parser.block.ruler.before("table", "count_work", _count_block, chains)
    parser.inline.ruler.before("text", "count_work", _count_inline)
    parser.inline.terminator_re = _INLINE_TERMINATORS
    parser.render("")  # compiles the rule chains before threads share the parser
    return parser


def sanitize(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes of `html`."""
    import nh3

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> Markup:
    """`text` (Markdown) as sanitised HTML, without bounds: for text confhub wrote itself."""
    return Markup(sanitize(_parser().render(text or "")))  # noqa: S704 - sanitised just above


@dataclass(frozen=True)
class Rendered:
    """A text's sanitised HTML, and the names of the raw HTML tags that were reduced to text
    (sorted; `!--` for a comment), which an editor is warned about."""

    html: Markup
    raw_html_tags: tuple[str, ...]


def render_checked(text: str, field: str) -> Rendered:
    """`text` as sanitised HTML with the raw HTML it held; `InvalidInputError` on `field` when
    it is longer than `MAX_MARKDOWN_LENGTH` or needs more than `MAX_MARKDOWN_WORK` to render."""
    if len(text) > MAX_MARKDOWN_LENGTH:
        raise InvalidInputError(field, N_("at most %(n)s characters"), n=MAX_MARKDOWN_LENGTH)
    # Table cells are counted up front: the table rule builds them without trying a rule.
    env: dict[str, Any] = {_WORK_LEFT: MAX_MARKDOWN_WORK - _CELL_STEP * text.count("|")}
    try:
        if env[_WORK_LEFT] < 0:
            raise _OverBudgetError
        html = _parser().render(text, env)
    except _OverBudgetError:
        raise InvalidInputError(field, TOO_MUCH_FORMATTING) from None
    tags = tuple(sorted(env.get(_RAW_HTML, ())))
    return Rendered(Markup(sanitize(html)), tags)  # noqa: S704 - sanitised here


def render_bounded(text: str, field: str) -> Markup:
    """`text` as sanitised HTML, within the bounds of `render_checked`."""
    return render_checked(text, field).html


def render_or_plain(text: str) -> Markup:
    """Generated text (the minutes' header) as HTML, or as plain text when it is too large to
    render within the bounds (a roll call with very long reasons)."""
    try:
        return render_bounded(text, "text")
    except InvalidInputError:
        return Markup("<pre>{}</pre>\n").format(text)


async def in_render_thread(work: Callable[..., T], *args: Any) -> T:
    """Run `work(*args)` (renders) in the process's render thread, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_render_thread, work, *args)


def escape_markdown(text: Any) -> str:
    """A value put into generated Markdown (a name, a title) so it reads as plain text."""
    value = " ".join(str(text).split())
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in value)
