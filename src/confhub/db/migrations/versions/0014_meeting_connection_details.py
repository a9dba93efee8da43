"""meeting connection details: the video room's link, its room ID and PIN, the technician's
hotline, and when points join to test the line

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conference_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("conference_room", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("technician_phone", sa.String(length=20), nullable=True))
        # NULL: the default, 30 minutes before the start (it moves with the meeting).
        batch_op.add_column(
            sa.Column(
                "line_test_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("line_test_at")
        batch_op.drop_column("technician_phone")
        batch_op.drop_column("conference_room")
        batch_op.drop_column("conference_url")
