"""The audit log of a meeting: every change is one row saying who, when and what."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import func, select

from confhub.accounts.principal import Principal
from confhub.db import DbSession
from confhub.meetings.models import AuditEntry


class AuditAction(enum.StrEnum):
    """What kind of change an entry records; pages translate each into a sentence."""

    CREATED = "created"
    UPDATED = "updated"
    STATUS = "status"
    INVITED = "invited"
    UNINVITED = "uninvited"
    CHAIR = "chair"
    CHAIRS_IMPORTED = "chairs_imported"
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an action name, not a secret
    TOKEN_ISSUED = "token_issued"  # noqa: S105
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_REMOVED = "document_removed"
    COPIED = "copied"
    ROLL_CALL = "roll_call"
    REHEARSAL = "rehearsal"
    # A speaking request's step: asked, accepted, refused, moved, given the floor, done.
    SPEAKING = "speaking"
    INCIDENT_REPORTED = "incident_reported"
    INCIDENT_ACKNOWLEDGED = "incident_acknowledged"
    INCIDENT_RESOLVED = "incident_resolved"
    ANNOUNCEMENT_SENT = "announcement_sent"
    ANNOUNCEMENT_ACKNOWLEDGED = "announcement_acknowledged"


def record(
    session: DbSession,
    meeting_id: int,
    actor: Principal | None,
    action: AuditAction,
    **details: Any,
) -> AuditEntry:
    """Add an entry to the session; it is written in the same transaction as the change."""
    entry = AuditEntry(
        meeting_id=meeting_id,
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "system",
        action=action.value,
        details=details,
    )
    session.add(entry)
    return entry


def record_for(
    session: DbSession,
    meeting_id: int,
    actor: Principal | None,
    label: str,
    action: AuditAction,
    **details: Any,
) -> AuditEntry:
    """`record()` for an actor that may have no account: a point's check-in link, by `label`."""
    if actor is not None:
        return record(session, meeting_id, actor, action, **details)
    entry = record(session, meeting_id, None, action, **details)
    entry.actor_label = label
    return entry


async def entries(session: DbSession, meeting_id: int, limit: int = 500) -> list[AuditEntry]:
    """A meeting's log, newest first."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.meeting_id == meeting_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(rows)


async def count_entries(session: DbSession, meeting_id: int) -> int:
    """How many entries a meeting's log holds."""
    count = await session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.meeting_id == meeting_id)
    )
    return int(count or 0)
