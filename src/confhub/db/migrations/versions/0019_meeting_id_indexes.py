"""invitation, point_attendance: drop the indexes on meeting_id alone, which the unique
(meeting_id, point_id) indexes already serve; while a fresh meeting's statistics say it has
one row, PostgreSQL chose them for one point's rows and read every row of the meeting

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("invitation", "point_attendance"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_meeting_id"))


def downgrade() -> None:
    for table in ("invitation", "point_attendance"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_meeting_id"), ["meeting_id"])
