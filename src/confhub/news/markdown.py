"""Markdown to safe HTML, the one way for the minutes, the articles and the preview.

markdown-it-py renders CommonMark (with tables and strikethrough) and never passes raw HTML
through; nh3 then keeps only an allow-list of tags, attributes and URL schemes, so whatever a
user typed cannot run script, load a remote resource or restyle the page.

A text is rendered once, when it is saved, and its HTML stored beside it: pages and feeds show
what is stored. A render is bounded before it starts (`MAX_MARKDOWN_LENGTH` characters) and
while it runs (`MAX_MARKDOWN_WORK`: the parser's steps are counted, and a text that needs more is
refused), and it runs in a thread of its own, never on the event loop. bench/markdown_render.py
measures what the worst text within these bounds costs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

import nh3
from markdown_it import MarkdownIt
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markupsafe import Markup

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

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
# inline rule tried (emphasis, a link, a line break, an escape) 1, a table cell (`|`) 2. Long
# real minutes need about 3,500 for 28,000 characters (tables, lists, links), 2,400 when they
# are plain text broken every 75 characters; markdown-it-py bounds none of this by itself, and a
# page of `[` costs it 7 µs a character.
MAX_MARKDOWN_WORK = 8_000
TOO_MUCH_FORMATTING = N_(
    "too much formatting to show (lines, list items, table cells, links, emphasis): "
    "shorten the text or use less formatting"
)
_BLOCK_STEP = 2
_INLINE_STEP = 1
_CELL_STEP = 2
_WORK_LEFT = "confhub:work_left"
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
    _spend(state.env, _INLINE_STEP)
    return False


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING_SHIFT.get(token.tag, token.tag)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
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


def render_bounded(text: str, field: str) -> Markup:
    """`text` as sanitised HTML; `InvalidInputError` on `field` when it is longer than
    `MAX_MARKDOWN_LENGTH` or needs more than `MAX_MARKDOWN_WORK` to render."""
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
    return Markup(sanitize(html))  # noqa: S704 - sanitised here


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
