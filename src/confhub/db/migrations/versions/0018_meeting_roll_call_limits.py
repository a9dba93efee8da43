"""meeting roll-call limits: when the roll call opens (NULL: at the line test) and the bounds
of the delegates a point may report (1 to 500 unless set)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "roll_call_opens_at",
                advanced_alchemy.types.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("delegates_min", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("delegates_max", sa.Integer(), server_default="500", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("delegates_max")
        batch_op.drop_column("delegates_min")
        batch_op.drop_column("roll_call_opens_at")
