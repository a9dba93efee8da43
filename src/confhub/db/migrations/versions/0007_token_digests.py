"""token digests: check-in links and private calendar feeds are looked up by SHA-256

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, token column): each gets a `<column>_digest` column with a unique index.
TOKEN_COLUMNS = (("invitation", "checkin_token"), ("user_account", "calendar_token"))


def _backfill(table: str, column: str) -> None:
    """Digest every token already issued, so existing links keep working.

    The digest is computed here rather than with the application's helper: a migration must
    keep doing what it did when it was written.
    """
    connection = op.get_bind()
    rows = sa.table(table, sa.column("id"), sa.column(column), sa.column(f"{column}_digest"))
    issued = connection.execute(
        sa.select(rows.c.id, rows.c[column]).where(rows.c[column].is_not(None))
    ).all()
    if not issued:
        return
    update = (
        rows.update()
        .where(rows.c.id == sa.bindparam("row_id"))
        .values({f"{column}_digest": sa.bindparam("digest")})
    )
    connection.execute(
        update,
        [
            {"row_id": row_id, "digest": hashlib.sha256(token.encode("utf-8")).hexdigest()}
            for row_id, token in issued
        ],
    )


def upgrade() -> None:
    for table, column in TOKEN_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(f"{column}_digest", sa.String(length=64), nullable=True))
        _backfill(table, column)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_{column}_digest"), [f"{column}_digest"], unique=True
            )


def downgrade() -> None:
    for table, column in reversed(TOKEN_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}_digest"))
            batch_op.drop_column(f"{column}_digest")
