"""The directory of contacts as the secretariat and the points' units reach it: who may read and
change a point's entry, and a province's whole directory for its page.

The entries, their checks and their log belong to the points domain
(:mod:`confhub.points.contacts`, :mod:`confhub.points.services`); who may see a chair is the
accounts' rule (:func:`confhub.accounts.visibility.sees_chair`). This module joins the two for
the API and the pages, and is where the meetings' chairs meet the directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from confhub.accounts.principal import Principal
from confhub.accounts.visibility import sees_chair
from confhub.core.errors import AuthenticationRequiredError, NotFoundError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.db import DbSession
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
    await points.save_contacts(session, checked.contacts, principal)
    return checked.contacts


async def province_directory(session: DbSession, province_code: int) -> list[DirectoryEntry]:
    """Every active point of a province with its contacts: the province's own point first, then
    by unit name."""
    rows = (
        await session.execute(
            select(ConnectionPoint, Unit)
            .outerjoin(Unit, Unit.code == ConnectionPoint.unit_code)
            .where(
                ConnectionPoint.province_code == province_code,
                ConnectionPoint.is_active.is_(True),
            )
        )
    ).tuples()
    pairs = list(rows)
    contacts = await points.contacts_of(session, [p.id for p, _ in pairs])
    entries = [DirectoryEntry(p, u, contacts.get(p.id) or Contacts(p.id)) for p, u in pairs]
    return sorted(
        entries,
        key=lambda e: (e.unit is not None, e.unit.name if e.unit else "", e.point.id),
    )
