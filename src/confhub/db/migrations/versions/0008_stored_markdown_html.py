"""stored HTML: the minutes and every article keep the sanitised HTML of their Markdown

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import nh3
import sqlalchemy as sa
from alembic import op
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, Markdown column, HTML column)
TEXT_COLUMNS = (("minutes", "markdown", "markdown_html"), ("article", "body", "body_html"))
# Rows are read and written a batch at a time: article bodies can be long, and a province has
# one article per unit and meeting.
BATCH = 200

# The renderer as confhub had it when this migration was written (a migration must keep doing
# what it did then): CommonMark with tables and strikethrough, no raw HTML, headings one level
# down, then nh3's allow-list. Texts already stored are rendered without the bounds a save has
# now: they are shown today, and must still be shown.
_TAGS = {
    *("p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "blockquote"),
    *("ul", "ol", "li", "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td"),
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto", "tel"}
_HEADING_SHIFT = {"h1": "h2", "h2": "h3", "h3": "h4", "h4": "h5", "h5": "h6"}


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING_SHIFT.get(token.tag, token.tag)


def _renderer() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
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


def _backfill(table: str, source: str, target: str) -> None:
    """Render every stored text into its new column, a batch of rows at a time."""
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
        query = sa.select(rows.c.id, rows.c[source]).order_by(rows.c.id).limit(BATCH)
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
        # The default lets a previous release's process still insert rows (a rolling restart
        # should not be used for this release: docs/deploy.md, "Upgrades").
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(target, sa.Text(), server_default="", nullable=False))
        _backfill(table, source, target)


def downgrade() -> None:
    for table, _source, target in reversed(TEXT_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(target)
