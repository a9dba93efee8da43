"""point contacts: each connection point's standing directory entry, and its audit log

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "point_contacts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("point_id", _ID, nullable=False),
        sa.Column("chair_name", sa.String(length=200), nullable=True),
        sa.Column("chair_position", sa.String(length=300), nullable=True),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("technician_phone", sa.String(length=20), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["connection_point.id"],
            name=op.f("fk_point_contacts_point_id_connection_point"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_contacts")),
        sa.UniqueConstraint("point_id", name=op.f("uq_point_contacts_point_id")),
    )
    op.create_table(
        "point_contacts_audit",
        sa.Column("id", _ID, nullable=False),
        sa.Column("point_id", _ID, nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_point_contacts_audit_actor_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["connection_point.id"],
            name=op.f("fk_point_contacts_audit_point_id_connection_point"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_contacts_audit")),
    )
    with op.batch_alter_table("point_contacts_audit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_point_contacts_audit_point_id"), ["point_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("point_contacts_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_contacts_audit_point_id"))
    op.drop_table("point_contacts_audit")
    op.drop_table("point_contacts")
