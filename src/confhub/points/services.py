"""Connection points: each unit's default point and each province's main point, and the
directory of each point's contacts (:mod:`confhub.points.contacts`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.db import DbSession
from confhub.points.contacts import FIELDS, MAX_PHONES, AuditActor, Contacts
from confhub.points.models import ConnectionPoint, ContactsAuditEntry, PointContacts
from confhub.points.signals import ContactsChange, contacts_changed
from confhub.units.models import Province, Unit


def unit_point_name(unit: Unit) -> str:
    """ "Xã Cẩm Tú" → "Hội trường UBND xã Cẩm Tú" (seed data in Vietnamese, as it is on site)."""
    return f"Hội trường UBND {unit.name[:1].lower()}{unit.name[1:]}"


def province_point_name(province: Province) -> str:
    """The province's own point, where the presiding official sits."""
    return f"Điểm cầu chính {province.name}"


async def ensure_default_points(session: DbSession, province_codes: Iterable[int]) -> int:
    """Create the missing default points of these provinces and units (renaming those whose unit
    was renamed); return how many were created."""
    codes = set(province_codes)
    existing = {
        point.default_key: point
        for point in await session.scalars(
            select(ConnectionPoint).where(ConnectionPoint.default_key.is_not(None))
        )
    }
    wanted: list[tuple[str, int, int | None, str]] = [
        (f"province:{p.code}", p.code, None, province_point_name(p))
        for p in await session.scalars(select(Province).where(Province.code.in_(codes)))
    ]
    wanted += [
        (f"unit:{u.code}", u.province_code, u.code, unit_point_name(u))
        for u in await session.scalars(select(Unit).where(Unit.province_code.in_(codes)))
    ]
    created = 0
    for key, province_code, unit_code, name in wanted:
        point = existing.get(key)
        if point is None:
            session.add(
                ConnectionPoint(
                    province_code=province_code, unit_code=unit_code, name=name, default_key=key
                )
            )
            created += 1
        elif point.name != name:
            # The unit was renamed by a newer data release; its default point follows.
            point.name = name
    await session.flush()
    return created


async def default_point(session: AsyncSession, *, unit_code: int) -> ConnectionPoint | None:
    """The default point of a unit."""
    return await session.scalar(
        select(ConnectionPoint).where(ConnectionPoint.default_key == f"unit:{unit_code}")
    )


async def province_point(session: AsyncSession, province_code: int) -> ConnectionPoint | None:
    """The province's main point."""
    return await session.scalar(
        select(ConnectionPoint).where(ConnectionPoint.default_key == f"province:{province_code}")
    )


# SQLite takes at most 32,766 bound values; a country's 3,321 points fit in a few queries.
_CHUNK = 1000


# --- Reading ------------------------------------------------------------------------------------

# The log's key for the phones a save restored (a spreadsheet had stored the number as a number,
# its leading 0 lost): flagged on the directory's pages until a person saves the entry again.
RESTORED = "restored_phones"


async def phones_to_check(session: DbSession, point_ids: Iterable[int]) -> dict[int, set[str]]:
    """The phones of each point whose leading 0 was put back by its entry's latest save, still
    in the entry: to be checked with the chair (points with none are left out)."""
    ids = sorted(set(point_ids))
    found: dict[int, set[str]] = {}
    for start in range(0, len(ids), _CHUNK):
        latest = (
            select(func.max(ContactsAuditEntry.id))
            .where(ContactsAuditEntry.point_id.in_(ids[start : start + _CHUNK]))
            .group_by(ContactsAuditEntry.point_id)
        )
        rows = await session.execute(
            select(ContactsAuditEntry.point_id, ContactsAuditEntry.details, PointContacts)
            .join(PointContacts, PointContacts.point_id == ContactsAuditEntry.point_id)
            .where(ContactsAuditEntry.id.in_(latest))
        )
        for point_id, details, row in rows:
            known = set(row.phones or ()) | ({row.technician_phone} - {None})
            flagged = set((details or {}).get(RESTORED) or ()) & known
            if flagged:
                found[point_id] = flagged
    return found


async def contacts_of(session: DbSession, point_ids: Iterable[int]) -> dict[int, Contacts]:
    """Each point's directory entry, by point id; points nobody has filled in are left out."""
    ids = sorted(set(point_ids))
    found: dict[int, Contacts] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = await session.scalars(
            select(PointContacts).where(PointContacts.point_id.in_(ids[start : start + _CHUNK]))
        )
        found.update((row.point_id, Contacts.of(row)) for row in rows)
    return found


async def contacts_for(session: DbSession, point_id: int) -> Contacts:
    """One point's entry (empty when nobody has filled it in)."""
    row = await session.scalar(select(PointContacts).where(PointContacts.point_id == point_id))
    return Contacts.of(row) if row else Contacts(point_id)


async def history(session: DbSession, point_id: int, limit: int = 200) -> list[ContactsAuditEntry]:
    """A point's contacts log, newest first."""
    rows = await session.scalars(
        select(ContactsAuditEntry)
        .where(ContactsAuditEntry.point_id == point_id)
        .order_by(ContactsAuditEntry.created_at.desc(), ContactsAuditEntry.id.desc())
        .limit(limit)
    )
    return list(rows)


# --- Writing ------------------------------------------------------------------------------------


def changes_between(before: Contacts, after: Contacts) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for every field that differs."""
    old, new = before.values(), after.values()
    return {name: [old[name], new[name]] for name in FIELDS if old[name] != new[name]}


async def save_contacts(
    session: DbSession,
    contacts: Contacts,
    actor: AuditActor | None,
    *,
    action: str = "updated",
    restored_phones: Iterable[str] = (),
    **details: Any,
) -> bool:
    """Store a point's entry (as :func:`confhub.points.contacts.check_contacts` made it);
    False when nothing changed.

    The change is logged with its old and new values and sent as :data:`contacts_changed`, all
    in the caller's transaction; `details` add to the log entry (the meeting of an import).
    `restored_phones`: numbers whose leading 0 was put back, flagged until a person saves the
    entry again (:func:`phones_to_check`); such a save is logged even when nothing changed."""
    if restored := sorted(set(restored_phones)):
        details[RESTORED] = restored
    row = await session.scalar(
        select(PointContacts).where(PointContacts.point_id == contacts.point_id)
    )
    before = Contacts.of(row) if row else Contacts(contacts.point_id)
    changes = changes_between(before, contacts)
    if not changes and (
        details.get(RESTORED) or not await phones_to_check(session, [row.point_id] if row else [])
    ):
        return False  # a save of the same entry still clears a flag (a person checked it)
    if row is None:
        row = PointContacts(point_id=contacts.point_id)
        session.add(row)
    row.chair_name = contacts.chair_name
    row.chair_position = contacts.chair_position
    row.phones = list(contacts.phones)
    row.email = contacts.email
    row.technician_phone = contacts.technician_phone
    session.add(
        ContactsAuditEntry(
            point_id=contacts.point_id,
            actor_id=actor.id if actor else None,
            actor_label=actor.email if actor else "system",
            action=action,
            details={"changes": changes, **details},
        )
    )
    await session.flush()
    await contacts_changed.send(session, ContactsChange(before, contacts))
    return True


def merged_from_sheet(
    current: Contacts,
    *,
    chair_name: str,
    chair_position: str | None,
    phone: str | None,
    email: str | None,
) -> Contacts:
    """The entry after a chair sheet's row (already checked): its chair, position and e-mail
    replace the entry's (an empty e-mail keeps the known one); its phone comes first. A new
    chair's phones are the sheet's alone: the previous chair's numbers are someone else's."""
    same_chair = (current.chair_name or "").casefold() == chair_name.casefold()
    kept = [p for p in current.phones if p != phone] if same_chair else []
    phones = ([phone] if phone else []) + kept
    return replace(
        current,
        chair_name=chair_name,
        chair_position=chair_position or (current.chair_position if same_chair else None),
        phones=tuple(phones[:MAX_PHONES]),
        email=email or (current.email if same_chair else None),
    )
