"""raw HTML as its text: minutes and articles whose Markdown holds raw HTML are rendered again

Until this release, HTML typed into the minutes or an article (`<b>`, a paste's `<span>`) was
stored as escaped text, which every public page showed as literal tags. Today's renderer reduces
raw HTML to its text; this migration renders again, with it, every stored text that has a `<`
(no other text renders differently), so the pages already published stop showing tags.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import html
import re
from collections.abc import Sequence

import nh3
import sqlalchemy as sa
from alembic import op
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, Markdown column, HTML column)
TEXT_COLUMNS = (("minutes", "markdown", "markdown_html"), ("article", "body", "body_html"))
BATCH = 200

# The renderer as confhub has it when this migration is written (a migration must keep doing
# what it did then): 0008's, with raw HTML parsed and reduced to its text. Stored texts are
# rendered without the bounds a save has: they are shown today and must still be shown.
_TAGS = {
    *("p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "blockquote"),
    *("ul", "ol", "li", "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td"),
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto", "tel"}
_HEADING_SHIFT = {"h1": "h2", "h2": "h3", "h3": "h4", "h4": "h5", "h5": "h6"}
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)")
_RAW_PIECE = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*>?|<[!?][^<>]*>?")
_TAG_START = re.compile(r"<(?=/?[A-Za-z])")
_DROPPED_CONTENT = frozenset({"script", "style"})


def _raw_text(raw: str) -> str:
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


def _strip_raw_html(state: StateCore) -> None:
    for token in state.tokens:
        if token.type == "html_block":
            text = html.escape(_raw_text(token.content).strip(), quote=False)
            token.content = f"<p>{text}</p>\n" if text else ""
        elif token.type == "inline" and token.children:
            dropping: str | None = None
            for child in token.children:
                if child.type == "html_inline":
                    for match in _TAG_NAME.finditer(child.content):
                        name = match.group(2).lower()
                        if name in _DROPPED_CONTENT:
                            dropping = None if match.group(1) == "/" else name
                    child.content = ""
                elif child.type == "text":
                    child.content = "" if dropping else _TAG_START.sub("", child.content)


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING_SHIFT.get(token.tag, token.tag)


def _renderer() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.core.ruler.push("strip_raw_html", _strip_raw_html)
    parser.core.ruler.push("shift_headings", _shift_headings)
    return parser


def _html(parser: MarkdownIt, text: str) -> str:
    return nh3.clean(
        parser.render(text or ""),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _render_again(table: str, source: str, target: str) -> None:
    """Render again every stored text with a `<`, a batch of rows at a time."""
    connection = op.get_bind()
    parser = _renderer()
    rows = sa.table(table, sa.column("id"), sa.column(source), sa.column(target))
    update = (
        rows.update()
        .where(rows.c.id == sa.bindparam("row_id"))
        .values({target: sa.bindparam("html")})
    )
    last = None
    while True:
        query = (
            sa.select(rows.c.id, rows.c[source])
            .where(rows.c[source].contains("<", autoescape=True))
            .order_by(rows.c.id)
            .limit(BATCH)
        )
        if last is not None:
            query = query.where(rows.c.id > last)
        batch = connection.execute(query).all()
        if not batch:
            return
        connection.execute(
            update, [{"row_id": row_id, "html": _html(parser, text)} for row_id, text in batch]
        )
        last = batch[-1][0]


def upgrade() -> None:
    for table, source, target in TEXT_COLUMNS:
        _render_again(table, source, target)


def downgrade() -> None:
    # The HTML stays as rendered: the previous release shows stored HTML as it is, and raw HTML
    # reduced to its text is what its readers should see too.
    pass
