"""Markdown to safe HTML, the one way for the preview, the public pages and the Atom feeds.

markdown-it-py renders CommonMark (with tables and strikethrough) and never passes raw HTML
through; nh3 then keeps only an allow-list of tags, attributes and URL schemes, so whatever a
user typed cannot run script, load a remote resource or restyle the page.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

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


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING_SHIFT.get(token.tag, token.tag)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.core.ruler.push("shift_headings", _shift_headings)
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
    """`text` (Markdown) as sanitised HTML, safe to put in a page as it is."""
    return Markup(sanitize(_parser().render(text or "")))  # noqa: S704 - sanitised just above


def escape_markdown(text: Any) -> str:
    """A value put into generated Markdown (a name, a title) so it reads as plain text."""
    value = " ".join(str(text).split())
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in value)
