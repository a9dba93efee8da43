"""Announcements: the secretariat's short message to every point, to the points of some units,
or to the points not yet present ("5 phút nữa bắt đầu"); each addressed point's page shows it
until its chair acknowledges it, and boards count how many phones have seen and acknowledged it.

Sending stores the announcement and one receipt per addressed point, and appends one
`announcement` delta addressed to those points (`to_points`; none means every point) and the
boards. Receipts (a phone showed it, a chair acknowledged it) are stored a burst per
transaction by `confhub.attendance.desk.writer`; each burst appends one delta per announcement
with its new counts, for the boards only.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, Update, bindparam, func, insert, select, update

from confhub.accounts.principal import Principal
from confhub.attendance import events
from confhub.attendance.desk.incidents import TooManyReportsError
from confhub.attendance.desk.models import Announcement, AnnouncementReceipt, Audience
from confhub.attendance.desk.schemas import AnnouncementWrite
from confhub.attendance.models import EventType, PointAttendance, RollCallStatus
from confhub.attendance.rows import chunks
from confhub.attendance.speaking.queue import TO_POINTS
from confhub.core.errors import (
    ConfhubError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from confhub.core.i18n import N_
from confhub.core.messages import status_word
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.actors import ANSWERING_STATUSES, Actor
from confhub.meetings.audit import AuditAction
from confhub.meetings.models import Invitation, Meeting
from confhub.points.models import ConnectionPoint

# Announcements one meeting may send within a minute (a slip of the finger, not a flood).
MAX_PER_MINUTE = 6
# The announcements a snapshot carries (the latest; a meeting sends a handful).
SNAPSHOT_LIMIT = 20


@dataclass(frozen=True)
class SentAnnouncement:
    """The stored announcement, whether this call sent it, its counts and its delta."""

    announcement: Announcement
    created: bool
    counts: dict[str, int]
    message: dict[str, Any] | None


def announcement_view(announcement: Announcement, counts: dict[str, int]) -> dict[str, Any]:
    """An announcement as boards and the API see it (with its counts)."""
    return {
        "announcement_id": announcement.announcement_id,
        "text": announcement.text,
        "audience": announcement.audience,
        "unit_codes": announcement.unit_codes,
        "sent_at": announcement.sent_at.isoformat(),
        **counts,
    }


async def send_announcement(
    session: DbSession, meeting: Meeting, principal: Principal, data: AnnouncementWrite
) -> SentAnnouncement:
    """Store and address an announcement (once per `announcement_id`). The caller has checked
    that `principal` manages the meeting."""
    version = await events.lock_version(session, meeting.id)
    if data.announcement_id is not None:
        earlier = await _find(session, meeting.id, data.announcement_id)
        if earlier is not None:
            earlier_counts = await receipt_counts(session, [earlier.id])
            return SentAnnouncement(earlier, False, earlier_counts[earlier.id], None)
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(N_("The meeting is %(status)s"), status=status_word(meeting.status))
    now = datetime.now(UTC)
    await _check_rate(session, meeting.id, now)
    point_ids = await addressed_points(session, meeting.id, data)
    if not point_ids:
        raise ConflictError(N_("No connection point is addressed by this announcement"))
    announcement = Announcement(
        meeting_id=meeting.id,
        announcement_id=data.announcement_id or str(uuid.uuid4()),
        text=data.text,
        audience=data.audience or Audience.ALL.value,
        unit_codes=sorted(set(data.unit_codes)) if data.unit_codes else None,
        addressed=len(point_ids),
        sent_by=principal.email,
        actor_id=principal.id,
        sent_at=now,
    )
    session.add(announcement)
    await session.flush()
    await session.execute(
        insert(AnnouncementReceipt),
        [
            {
                "announcement_pk": announcement.id,
                "meeting_id": meeting.id,
                "point_id": point_id,
                "created_at": now,
                "updated_at": now,
            }
            for point_id in point_ids
        ],
    )
    audit.record(
        session,
        meeting.id,
        principal,
        AuditAction.ANNOUNCEMENT_SENT,
        text=announcement.text,
        audience=announcement.audience,
        unit_codes=announcement.unit_codes,
        addressed=announcement.addressed,
    )
    counts = {"addressed": len(point_ids), "seen": 0, "acknowledged": 0}
    payload = announcement_view(announcement, counts)
    if announcement.audience != Audience.ALL.value:
        payload[TO_POINTS] = sorted(point_ids)
    message = await events.append(
        session, meeting.id, EventType.ANNOUNCEMENT, payload, locked_version=version
    )
    return SentAnnouncement(announcement, True, counts, message)


def point_view(message: dict[str, Any], point_ids: frozenset[int]) -> dict[str, Any] | None:
    """An `announcement` delta as a point's client receives it: only when addressed to it
    (counts go to boards only), and without the list of the other points addressed."""
    global _last_view
    if _last_view is None or _last_view[0] is not message:
        # Asked for every phone of the meeting in turn: the addressed set and the phones' copy
        # are made once per delta, and the one copy is encoded once (`live.encoded`).
        addressed = message.get(TO_POINTS)
        shown = {key: value for key, value in message.items() if key != TO_POINTS}
        _last_view = (message, frozenset(addressed) if addressed is not None else None, shown)
    _, addressed_set, shown = _last_view
    if addressed_set is not None and addressed_set.isdisjoint(point_ids):
        return None
    return shown


# The last delta `point_view` was asked about, the points it addresses, and the phones' copy.
_last_view: tuple[dict[str, Any], frozenset[int] | None, dict[str, Any]] | None = None


async def addressed_points(
    session: DbSession, meeting_id: int, data: AnnouncementWrite
) -> list[int]:
    """The invited points an announcement goes to."""
    query = select(Invitation.point_id).where(Invitation.meeting_id == meeting_id)
    if data.audience == Audience.UNITS.value:
        codes = sorted(set(data.unit_codes or ()))
        query = query.join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        found: list[int] = []
        seen_codes: set[int] = set()
        for chunk in chunks(codes):
            rows = await session.execute(
                query.add_columns(ConnectionPoint.unit_code).where(
                    ConnectionPoint.unit_code.in_(chunk)
                )
            )
            for point_id, unit_code in rows:
                found.append(point_id)
                seen_codes.add(unit_code)
        missing = [code for code in codes if code not in seen_codes]
        if missing:
            raise InvalidInputError(
                "unit_codes",
                N_("no point of unit %(code)s is invited to this meeting"),
                code=missing[0],
            )
        return sorted(set(found))
    if data.audience == Audience.NOT_PRESENT.value:
        query = query.outerjoin(
            PointAttendance,
            (PointAttendance.meeting_id == Invitation.meeting_id)
            & (PointAttendance.point_id == Invitation.point_id),
        ).where(
            (PointAttendance.status.is_(None))
            | (PointAttendance.status != RollCallStatus.PRESENT.value)
        )
    return sorted(set(await session.scalars(query)))


async def receipt_counts(
    session: DbSession, announcement_pks: Sequence[int]
) -> dict[int, dict[str, int]]:
    """For each announcement: points addressed, that have seen it, that acknowledged it."""
    counted: dict[int, dict[str, int]] = {
        pk: {"addressed": 0, "seen": 0, "acknowledged": 0} for pk in announcement_pks
    }
    for chunk in chunks(sorted(announcement_pks)):
        rows = await session.execute(
            select(
                AnnouncementReceipt.announcement_pk,
                func.count(),
                func.count(AnnouncementReceipt.seen_at),
                func.count(AnnouncementReceipt.acknowledged_at),
            )
            .where(AnnouncementReceipt.announcement_pk.in_(chunk))
            .group_by(AnnouncementReceipt.announcement_pk)
        )
        for pk, addressed, seen, acknowledged in rows:
            counted[pk] = {
                "addressed": int(addressed),
                "seen": int(seen),
                "acknowledged": int(acknowledged),
            }
    return counted


async def board_announcements(session: DbSession, meeting_id: int) -> list[dict[str, Any]]:
    """The meeting's latest announcements with their counts, oldest first (for boards)."""
    found = list(
        await session.scalars(
            select(Announcement)
            .where(Announcement.meeting_id == meeting_id)
            .order_by(Announcement.sent_at.desc(), Announcement.id.desc())
            .limit(SNAPSHOT_LIMIT)
        )
    )
    counts = await receipt_counts(session, [a.id for a in found])
    return [announcement_view(a, counts[a.id]) for a in reversed(found)]


async def point_announcements(
    session: DbSession, meeting_id: int, point_ids: frozenset[int]
) -> list[dict[str, Any]]:
    """The announcements addressed to these points and not yet acknowledged, oldest first."""
    rows = await session.execute(
        select(Announcement, AnnouncementReceipt.point_id, AnnouncementReceipt.seen_at)
        .join(AnnouncementReceipt, AnnouncementReceipt.announcement_pk == Announcement.id)
        .where(
            AnnouncementReceipt.meeting_id == meeting_id,
            AnnouncementReceipt.point_id.in_(point_ids),
            AnnouncementReceipt.acknowledged_at.is_(None),
        )
        .order_by(Announcement.sent_at, Announcement.id)
    )
    return [
        {
            "announcement_id": a.announcement_id,
            "text": a.text,
            "sent_at": a.sent_at.isoformat(),
            "point_id": point_id,
            "seen": seen_at is not None,
        }
        for a, point_id, seen_at in rows
    ]


@dataclass
class Receipt:
    """One point's receipt of an announcement as it came in."""

    actor: Actor
    point_id: int
    announcement_id: str
    acknowledged: bool  # False: only seen


async def store_receipts(
    session: DbSession, meeting: Meeting, receipts: Sequence[Receipt]
) -> list[int | ConfhubError | None]:
    """Store receipts in the caller's transaction; each gets the version of the delta that told
    the boards (the first one's for a repeat; None when nothing was ever counted), or the error
    refusing it. One `announcement` delta per announcement touched carries its new counts to
    the boards (`point_ids` empty: no point receives it)."""
    version = await events.lock_version(session, meeting.id)
    announcements = await _announcements(session, meeting.id, {r.announcement_id for r in receipts})
    rows = await _receipt_rows(session, announcements.values(), {r.point_id for r in receipts})
    now = datetime.now(UTC)
    results: list[int | ConfhubError | None] = []
    # (receipt row, which version it takes) for each change, and the announcements touched.
    changes: list[tuple[dict[str, Any], str, int]] = []
    for receipt in receipts:
        try:
            announcement, row = _receipt_row(announcements, rows, receipt)
        except ConfhubError as refusal:
            results.append(refusal)
            continue
        results.append(row["acknowledged_version" if receipt.acknowledged else "seen_version"])
        if row["seen_at"] is None:
            row["seen_at"] = now
            changes.append((row, "seen_version", len(results) - 1))
        if receipt.acknowledged and row["acknowledged_at"] is None:
            row["acknowledged_at"] = now
            changes.append((row, "acknowledged_version", len(results) - 1))
            audit.record_for(
                session,
                meeting.id,
                receipt.actor.principal,
                receipt.actor.label,
                AuditAction.ANNOUNCEMENT_ACKNOWLEDGED,
                point_id=receipt.point_id,
                text=announcement.text,
            )
    if not changes:
        return results
    # Each row's version is known before it is stored (the deltas below take them in this
    # order): one UPDATE a receipt, not two.
    touched = sorted({row["announcement_pk"] for row, _name, _index in changes})
    version_of = {pk: version + 1 + offset for offset, pk in enumerate(touched)}
    for row, name, index in changes:
        row[name] = version_of[row["announcement_pk"]]
        results[index] = version_of[row["announcement_pk"]]
    changed = {id(row): row for row, _name, _index in changes}.values()
    await session.execute(
        _receipt_update(),
        [
            {"row_id": row["id"], "updated_at": now, **{f: row[f] for f in _RECEIPT_STATE}}
            for row in changed
        ],
    )
    counts = await receipt_counts(session, touched)
    by_pk = {a.id: a for a in announcements.values()}
    deltas = [
        events.Delta(
            EventType.ANNOUNCEMENT,
            {"announcement_id": by_pk[pk].announcement_id, **counts[pk], TO_POINTS: []},
        )
        for pk in touched
    ]
    await events.append_many(session, meeting.id, deltas, locked_version=version)
    return results


async def _announcements(
    session: DbSession, meeting_id: int, announcement_ids: set[str]
) -> dict[str, Announcement]:
    return {
        a.announcement_id: a
        for chunk in chunks(sorted(announcement_ids))
        for a in await session.scalars(
            select(Announcement).where(
                Announcement.meeting_id == meeting_id, Announcement.announcement_id.in_(chunk)
            )
        )
    }


# What a receipt row records (plain rows, not ORM objects: a burst of 500 receipts loaded as
# instances left 9,000 objects in reference cycles for the garbage collector each time).
_RECEIPT_STATE = ("seen_at", "seen_version", "acknowledged_at", "acknowledged_version")


async def _receipt_rows(
    session: DbSession, announcements: Iterable[Announcement], point_ids: set[int]
) -> dict[tuple[int, int], dict[str, Any]]:
    """The receipt rows of these announcements and points, by (announcement pk, point)."""
    pks = sorted(a.id for a in announcements)
    if not pks:
        return {}
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for chunk in chunks(sorted(point_ids)):
        selected = await session.execute(_receipt_rows_query(), {"pks": pks, "point_ids": chunk})
        for row in selected.mappings():
            found[(row["announcement_pk"], row["point_id"])] = dict(row)
    return found


@functools.cache
def _receipt_rows_query() -> Select[Any]:
    # Built once, its values bound at each execution (as the roll call's, attendance/rows.py).
    table = AnnouncementReceipt.__table__
    columns = [table.c[name] for name in ("id", "announcement_pk", "point_id", *_RECEIPT_STATE)]
    return select(*columns).where(
        table.c.announcement_pk.in_(bindparam("pks", expanding=True)),
        table.c.point_id.in_(bindparam("point_ids", expanding=True)),
    )


@functools.cache
def _receipt_update() -> Update:
    table: Table = AnnouncementReceipt.__table__  # type: ignore[assignment]
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({field: bindparam(field) for field in (*_RECEIPT_STATE, "updated_at")})
    )


def _receipt_row(
    announcements: dict[str, Announcement],
    rows: dict[tuple[int, int], dict[str, Any]],
    receipt: Receipt,
) -> tuple[Announcement, dict[str, Any]]:
    announcement = announcements.get(receipt.announcement_id)
    if announcement is None:
        raise NotFoundError(
            N_("No announcement %(id)s in this meeting"), id=receipt.announcement_id
        )
    if receipt.actor.link_point_id not in (None, receipt.point_id):
        raise PermissionDeniedError(N_("You may only answer for your own connection point"))
    row = rows.get((announcement.id, receipt.point_id))
    if row is None:
        raise PermissionDeniedError(N_("This announcement is not addressed to your point"))
    return announcement, row


async def _find(session: DbSession, meeting_id: int, announcement_id: str) -> Announcement | None:
    return await session.scalar(
        select(Announcement).where(
            Announcement.meeting_id == meeting_id,
            Announcement.announcement_id == announcement_id,
        )
    )


async def _check_rate(session: DbSession, meeting_id: int, now: datetime) -> None:
    recent = await session.scalar(
        select(func.count())
        .select_from(Announcement)
        .where(
            Announcement.meeting_id == meeting_id,
            Announcement.sent_at >= now - timedelta(minutes=1),
        )
    )
    if int(recent or 0) >= MAX_PER_MINUTE:
        raise TooManyReportsError(
            N_("Too many announcements in a minute; wait a moment before the next"), 30
        )
