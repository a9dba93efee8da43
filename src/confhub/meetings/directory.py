"""The directory of contacts as the secretariat and the points' units reach it: who may read and
change a point's entry, and a province's whole directory for its page.

The entries, their checks and their log belong to the points domain
(:mod:`confhub.points.contacts`, :mod:`confhub.points.services`); who may see a chair is the
accounts' rule (:func:`confhub.accounts.visibility.sees_chair`). This module joins the two for
the API and the pages, and is where the meetings' chairs meet the directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from confhub.accounts.principal import Principal
from confhub.accounts.visibility import sees_chair
from confhub.core.errors import AuthenticationRequiredError, NotFoundError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.phones import parse_phone
from confhub.db import DbSession
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.points import services as points
from confhub.points.contacts import Contacts, check_contacts
from confhub.points.models import ConnectionPoint
from confhub.units.models import Unit


@dataclass(frozen=True)
class DirectoryEntry:
    """One point of a province's directory, with its unit and contacts."""

    point: ConnectionPoint
    unit: Unit | None
    contacts: Contacts
    # Phones whose leading 0 was put back (stored as a number in a spreadsheet): to check.
    to_check: frozenset[str] = frozenset()


async def readable_point(
    session: DbSession, principal: Principal | None, point_id: int
) -> ConnectionPoint:
    """A point whose contacts the caller may read: the province's secretariat and admins, the
    point's own unit. 401 when anonymous, 404 when there is no such point, else 403."""
    if principal is None:
        raise AuthenticationRequiredError(N_("Sign in first"))
    point = await session.get(ConnectionPoint, point_id)
    if point is None:
        raise NotFoundError(N_("No connection point %(id)s"), id=point_id)
    if not sees_chair(principal, point.province_code, point.unit_code):
        raise PermissionDeniedError(N_("These contacts are not yours to see"))
    return point


async def editable_point(
    session: DbSession, principal: Principal | None, point_id: int
) -> ConnectionPoint:
    """A point whose contacts the caller may change: the province's secretariat and admins."""
    point = await readable_point(session, principal, point_id)
    assert principal is not None
    if not principal.manages_province(point.province_code):
        raise PermissionDeniedError(
            N_("Only the province's secretariat may change a point's contacts")
        )
    return point


async def save(
    session: DbSession,
    principal: Principal,
    point: ConnectionPoint,
    *,
    chair_name: str | None,
    chair_position: str | None,
    phones: list[str],
    email: str | None,
    technician_phone: str | None,
) -> Contacts:
    """Check and store a point's whole entry (a PUT: what is not given is cleared)."""
    checked = check_contacts(
        point.id,
        chair_name=chair_name,
        chair_position=chair_position,
        phones=phones,
        email=email,
        technician_phone=technician_phone,
    )
    await points.save_contacts(
        session, checked.contacts, principal, restored_phones=checked.restored_phones
    )
    return checked.contacts


@dataclass(frozen=True)
class SheetChair:
    """A chair sheet's row for one point, already checked by the import."""

    point_id: int
    name: str
    title: str
    phone: str
    email: str


async def fill_directory(
    session: DbSession, meeting_id: int, actor: Principal, chairs: Sequence[SheetChair]
) -> int:
    """The points' directory entries take a chair sheet's rows (each change logged as imported
    from the meeting's sheet); how many entries changed."""
    current = await points.contacts_of(session, [c.point_id for c in chairs])
    changed = 0
    for chair in chairs:
        phone = parse_phone(chair.phone) if chair.phone else None
        merged = points.merged_from_sheet(
            current.get(chair.point_id) or Contacts(chair.point_id),
            chair_name=chair.name,
            chair_position=chair.title or None,
            phone=phone.number if phone else None,
            email=chair.email or None,
        )
        checked = check_contacts(chair.point_id, **{**merged.values(), "phones": merged.phones})
        restored = [phone.number] if phone and phone.restored else []
        if await points.save_contacts(
            session,
            checked.contacts,
            actor,
            action="imported",
            meeting_id=meeting_id,
            restored_phones=restored,
        ):
            changed += 1
    return changed


async def province_directory(session: DbSession, province_code: int) -> list[DirectoryEntry]:
    """Every active point of a province with its contacts: the province's own point first, then
    by unit name."""
    rows = await session.execute(
        select(ConnectionPoint, Unit)
        .outerjoin(Unit, Unit.code == ConnectionPoint.unit_code)
        .where(
            ConnectionPoint.province_code == province_code,
            ConnectionPoint.is_active.is_(True),
        )
    )
    pairs = [(point, unit) for point, unit in rows]
    contacts = await points.contacts_of(session, [p.id for p, _ in pairs])
    flagged = await points.phones_to_check(session, contacts)
    entries = [
        DirectoryEntry(p, u, contacts.get(p.id) or Contacts(p.id), frozenset(flagged.get(p.id, ())))
        for p, u in pairs
    ]
    return sorted(
        entries,
        key=lambda e: (e.unit is not None, e.unit.name if e.unit else "", e.point.id),
    )


# --- Meetings' chairs from the directory --------------------------------------------------------

# A meeting not yet held follows its points' directory entries; a live, ended or cancelled one
# keeps the chair it had (its records say who presided).
FOLLOWING_STATUSES = (MeetingStatus.DRAFT.value, MeetingStatus.SCHEDULED.value)


def chair_from(invitation: Invitation, contacts: Contacts) -> None:
    """Make a point's directory entry the invitation's chair (none when it names nobody)."""
    invitation.chair_name = contacts.chair_name
    invitation.chair_title = contacts.chair_position if contacts.chair_name else None
    invitation.chair_phone = contacts.phone if contacts.chair_name else None
    invitation.chair_is_sample = False
    invitation.chair_from_directory = True


async def chairs_from_directory(session: DbSession, invitations: Sequence[Invitation]) -> None:
    """New invitations take their points' directory chairs, and follow the directory from then
    on (until the meeting is held, or someone names a chair for this meeting only)."""
    found = await points.contacts_of(session, [i.point_id for i in invitations])
    for invitation in invitations:
        chair_from(invitation, found.get(invitation.point_id) or Contacts(invitation.point_id))


async def follow_directory(session: DbSession, contacts: Contacts) -> int:
    """The meetings not yet held whose chair at this point is the directory's take the new
    entry; how many invitations changed."""
    invitations = list(
        await session.scalars(
            select(Invitation)
            .join(Meeting, Meeting.id == Invitation.meeting_id)
            .where(
                Invitation.point_id == contacts.point_id,
                Invitation.chair_from_directory.is_(True),
                Meeting.status.in_(FOLLOWING_STATUSES),
            )
        )
    )
    for invitation in invitations:
        chair_from(invitation, contacts)
    await session.flush()
    return len(invitations)
