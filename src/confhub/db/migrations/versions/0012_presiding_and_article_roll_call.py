"""who presided at each point, and articles that follow the roll call

Check-ins (and each point's state) keep who actually presided at the point; an article keeps
the convening body that signs it, its point's roll call when it was written, whether it waits
for its editor's confirmation, and what it states of the point.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRESIDING = (("presiding_name", 200), ("presiding_position", 300))


def upgrade() -> None:
    """Add the columns (all nullable, or with a default: existing rows stay as they are)."""
    for table in ("point_attendance", "checkin_record"):
        with op.batch_alter_table(table) as batch:
            for name, length in PRESIDING:
                batch.add_column(sa.Column(name, sa.String(length), nullable=True))
    with op.batch_alter_table("article") as batch:
        batch.add_column(sa.Column("byline", sa.String(300), nullable=True))
        batch.add_column(sa.Column("roll_call", sa.String(10), nullable=True))
        batch.add_column(
            sa.Column("needs_confirmation", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        for name, length in PRESIDING:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))
        batch.add_column(sa.Column("delegates_present", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("point_paragraph", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("article") as batch:
        for name in (
            "point_paragraph",
            "delegates_present",
            "presiding_position",
            "presiding_name",
            "needs_confirmation",
            "roll_call",
            "byline",
        ):
            batch.drop_column(name)
    for table in ("checkin_record", "point_attendance"):
        with op.batch_alter_table(table) as batch:
            for name, _length in reversed(PRESIDING):
                batch.drop_column(name)
