"""Declarative bases shared by every domain's models.

Advanced Alchemy's bases give UTC-aware timestamps (`created_at`, `updated_at`), a naming
convention for constraints (so Alembic migrations are stable across databases) and table names
derived from class names (`ConnectionPoint` → `connection_point`).
"""

from advanced_alchemy.base import BigIntAuditBase, DefaultBase, orm_registry
from advanced_alchemy.mixins import AuditColumns
from advanced_alchemy.types import DateTimeUTC

metadata = orm_registry.metadata


class CodeKeyedBase(DefaultBase, AuditColumns):
    """Base for rows keyed by an official code (provinces, units) instead of a surrogate id."""

    __abstract__ = True


__all__ = ["BigIntAuditBase", "CodeKeyedBase", "DateTimeUTC", "metadata"]
