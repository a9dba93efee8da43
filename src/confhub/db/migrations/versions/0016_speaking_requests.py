"""speaking requests: a point's request to speak, its place in the queue, and the record of who
spoke, when and for how long

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = advanced_alchemy.types.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "speaking_request",
        sa.Column("id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("point_id", ID, nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("document_storage", sa.String(length=64), nullable=True),
        sa.Column("document_name", sa.String(length=255), nullable=True),
        sa.Column("document_type", sa.String(length=120), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_speaking_request_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["connection_point.id"],
            name=op.f("fk_speaking_request_point_id_connection_point"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speaking_request")),
        sa.UniqueConstraint(
            "meeting_id", "request_id", name=op.f("uq_speaking_request_meeting_id")
        ),
    )
    with op.batch_alter_table("speaking_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_speaking_request_meeting_id"), ["meeting_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("speaking_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_speaking_request_meeting_id"))
    op.drop_table("speaking_request")
