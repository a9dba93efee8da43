"""Invited connection points of a meeting: inviting, removing, chairs and check-in links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from confhub.accounts.principal import Principal
from confhub.core.errors import ConflictError, InvalidInputError, NotFoundError
from confhub.core.i18n import N_
from confhub.core.ids import parse_code
from confhub.core.messages import Message, Messages, status_word
from confhub.core.phones import parse_phone
from confhub.db import DbSession
from confhub.db.services import RepositoryService
from confhub.meetings import audit
from confhub.meetings.audit import AuditAction
from confhub.meetings.directory import chairs_from_directory
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.meetings.services import ChairAssignment
from confhub.meetings.signals import (
    LinkReissued,
    PointsInvited,
    PointsListed,
    link_reissued,
    points_invited,
    points_listed,
)
from confhub.meetings.tokens import find_invitation, new_checkin_token
from confhub.points.models import ConnectionPoint
from confhub.units.matching import UnitMatch, split_entries, unit_index
from confhub.units.models import Unit

# Statuses in which the invitation list and chairs may still change.
EDITABLE_STATUSES = frozenset(
    {MeetingStatus.DRAFT.value, MeetingStatus.SCHEDULED.value, MeetingStatus.LIVE.value}
)
UNIT_TYPES = ("xã", "phường", "đặc khu")


@dataclass(frozen=True)
class InvitedPoint:
    """One invited point with its unit and chair, as pages and the API list them."""

    invitation_id: int
    point_id: int
    point_name: str
    unit_code: int | None
    unit_name: str | None
    unit_type: str | None
    province_code: int
    chair_name: str | None
    chair_title: str | None
    chair_phone: str | None
    chair_is_sample: bool
    checkin_token: str | None
    # The chair's name and phone were withheld from this caller (personal data); there is one.
    chair_hidden: bool = False

    @property
    def has_chair(self) -> bool:
        """A point without a chair is flagged on the meeting page."""
        return bool(self.chair_name) or self.chair_hidden

    def without_chair_identity(self) -> InvitedPoint:
        """The point as shown to someone who may not see its chair: no name, no phone."""
        return replace(self, chair_name=None, chair_phone=None, chair_hidden=self.has_chair)


@dataclass(frozen=True)
class InviteResult:
    """How many points an invite action added, and how many were already invited."""

    added: int
    already_invited: int


class InvitationRepository(SQLAlchemyAsyncRepository[Invitation]):
    """Database access for invitations."""

    model_type = Invitation


def require_editable(meeting: Meeting) -> None:
    """Refuse changes to the invitations of an ended or cancelled meeting (409)."""
    if meeting.status not in EDITABLE_STATUSES:
        raise ConflictError(
            N_("The meeting is “%(status)s”; its connection points can no longer change."),
            status=status_word(meeting.status),
        )


async def invited_points(session: DbSession, meeting_id: int) -> list[InvitedPoint]:
    """Every invited point of a meeting, the province's own point first, then by unit name (the
    read the meeting's and the notices' pages share with the service)."""
    rows = await session.execute(
        select(Invitation, ConnectionPoint, Unit)
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .outerjoin(Unit, Unit.code == ConnectionPoint.unit_code)
        .where(Invitation.meeting_id == meeting_id)
    )
    points = [
        InvitedPoint(
            invitation_id=invitation.id,
            point_id=point.id,
            point_name=point.name,
            unit_code=point.unit_code,
            unit_name=unit.name if unit else None,
            unit_type=unit.division_type if unit else None,
            province_code=point.province_code,
            chair_name=invitation.chair_name,
            chair_title=invitation.chair_title,
            chair_phone=invitation.chair_phone,
            chair_is_sample=invitation.chair_is_sample,
            checkin_token=invitation.checkin_token,
        )
        for invitation, point, unit in rows
    ]
    return sorted(points, key=lambda p: (p.unit_code is not None, p.unit_name or "", p.point_id))


class InvitationService(RepositoryService[Invitation, InvitationRepository]):
    """Rules for who is invited to a meeting and who chairs each point."""

    repository_type = InvitationRepository

    async def invited_points(self, meeting_id: int) -> list[InvitedPoint]:
        """Every invited point, the province's own point first, then by unit name."""
        return await invited_points(self.session, meeting_id)

    async def invitation(self, meeting_id: int, point_id: int) -> Invitation:
        """The invitation of one point to one meeting, or 404."""
        invitation = await self.session.scalar(
            select(Invitation).where(
                Invitation.meeting_id == meeting_id, Invitation.point_id == point_id
            )
        )
        if invitation is None:
            raise NotFoundError(
                N_("Point %(point)s is not invited to meeting %(meeting)s"),
                point=point_id,
                meeting=meeting_id,
            )
        return invitation

    async def resolve_units(
        self, meeting: Meeting, actor: Principal, entries: Iterable[str]
    ) -> tuple[list[Unit], list[UnitMatch]]:
        """Match codes or names to units the actor may invite; returns (units, failures)."""
        scope = None if actor.is_admin else meeting.province_code
        index = await unit_index(self.session, scope)
        units: list[Unit] = []
        failures: list[UnitMatch] = []
        for entry in entries:
            match = index.match(entry)
            code = parse_code(entry)
            if match.unit is None and code is not None and scope is not None:
                other = await self.session.get(Unit, code)
                if other is not None:
                    match = UnitMatch(
                        entry,
                        None,
                        Message(
                            N_("%(unit)s (%(code)s) is not in province %(province)s"),
                            {"unit": other.name, "code": other.code, "province": scope},
                        ),
                    )
            if match.unit is None:
                failures.append(match)
            else:
                units.append(match.unit)
        return units, failures

    async def invite(
        self,
        meeting: Meeting,
        actor: Principal,
        *,
        all_units: bool = False,
        unit_types: Sequence[str] = (),
        unit_codes: Sequence[int | str] = (),
        point_ids: Sequence[int] = (),
    ) -> InviteResult:
        """Invite units' default points (all, by type, by code or name) and/or given points.

        Every entry is checked before anything is invited: one bad entry invites nothing.
        """
        require_editable(meeting)
        session = self.session
        unknown_types = [t for t in unit_types if t not in UNIT_TYPES]
        if unknown_types:
            raise InvalidInputError(
                "unit_types", N_("unknown type(s): %(types)s"), types=", ".join(unknown_types)
            )
        unit_query = select(Unit.code).where(Unit.province_code == meeting.province_code)
        codes: set[int] = set()
        if all_units:
            codes.update(await session.scalars(unit_query))
        if unit_types:
            codes.update(
                await session.scalars(unit_query.where(Unit.division_type.in_(unit_types)))
            )
        if unit_codes:
            units, failures = await self.resolve_units(meeting, actor, [str(c) for c in unit_codes])
            if failures:
                raise InvalidInputError("unit_codes", Messages([f.problem for f in failures]))
            codes.update(u.code for u in units)
        points = list(
            await session.scalars(
                select(ConnectionPoint).where(
                    ConnectionPoint.default_key.in_([f"unit:{c}" for c in codes])
                )
            )
        )
        if point_ids:
            chosen = list(
                await session.scalars(
                    select(ConnectionPoint).where(ConnectionPoint.id.in_(point_ids))
                )
            )
            missing = set(point_ids) - {p.id for p in chosen}
            if missing:
                raise InvalidInputError(
                    "point_ids", N_("unknown point(s): %(points)s"), points=sorted(missing)
                )
            foreign = [p.id for p in chosen if p.province_code != meeting.province_code]
            if foreign and not actor.is_admin:
                raise InvalidInputError(
                    "point_ids",
                    N_("point(s) %(points)s are not in province %(province)s"),
                    points=foreign,
                    province=meeting.province_code,
                )
            points.extend(chosen)
        if not points:
            raise InvalidInputError("invitations", N_("Choose at least one unit or point."))
        already = set(
            await session.scalars(
                select(Invitation.point_id).where(Invitation.meeting_id == meeting.id)
            )
        )
        new = [
            Invitation(meeting_id=meeting.id, point_id=point.id, checkin_token=new_checkin_token())
            for point in {p.id: p for p in points}.values()
            if point.id not in already
        ]
        # Each new point's chair is its directory entry's (confhub.meetings.directory).
        await chairs_from_directory(session, new)
        session.add_all(new)
        new_ids = [invitation.point_id for invitation in new]
        added = len(new_ids)
        if added:
            audit.record(session, meeting.id, actor, AuditAction.INVITED, count=added)
        await session.flush()
        if new_ids:
            # Notices of the invitation are queued in this transaction (confhub.notices).
            await points_invited.send(session, PointsInvited(meeting, tuple(new_ids)))
        return InviteResult(added=added, already_invited=len(points) - added)

    async def invite_pasted(self, meeting: Meeting, actor: Principal, text: str) -> InviteResult:
        """Invite from a pasted list of codes or names (one per line or comma-separated)."""
        entries = split_entries(text)
        if not entries:
            raise InvalidInputError("units", N_("The list is empty."))
        return await self.invite(meeting, actor, unit_codes=entries)

    async def remove(self, meeting: Meeting, actor: Principal, point_id: int) -> None:
        """Withdraw one point's invitation (its check-in link stops working)."""
        require_editable(meeting)
        invitation = await self.invitation(meeting.id, point_id)
        point = await self.session.get(ConnectionPoint, point_id)
        await self.session.delete(invitation)
        audit.record(
            self.session,
            meeting.id,
            actor,
            AuditAction.UNINVITED,
            point_id=point_id,
            point=point.name if point else None,
        )
        await self.session.flush()

    async def set_chair(
        self, meeting: Meeting, actor: Principal, point_id: int, chair: ChairAssignment | None
    ) -> Invitation:
        """Name (or, with None, clear) the chair of one invited point."""
        if meeting.status == MeetingStatus.CANCELLED.value:
            raise ConflictError(N_("The meeting is cancelled"))
        invitation = await self.invitation(meeting.id, point_id)
        if chair is None:
            invitation.chair_name = invitation.chair_title = invitation.chair_phone = None
            invitation.chair_is_sample = False
        else:
            apply_chair(invitation, chair)
        # Named (or cleared) for this meeting only: the directory no longer changes it.
        invitation.chair_from_directory = False
        audit.record(
            self.session,
            meeting.id,
            actor,
            AuditAction.CHAIR,
            point_id=point_id,
            chair=invitation.chair_name,
        )
        await self.session.flush()
        return invitation

    async def revoke_token(self, meeting: Meeting, actor: Principal, point_id: int) -> Invitation:
        """Make the point's check-in link stop working at once."""
        invitation = await self.invitation(meeting.id, point_id)
        invitation.checkin_token = None
        audit.record(self.session, meeting.id, actor, AuditAction.TOKEN_REVOKED, point_id=point_id)
        await self.session.flush()
        return invitation

    async def reissue_token(self, meeting: Meeting, actor: Principal, point_id: int) -> Invitation:
        """Give the point a new check-in link; the old one stops working."""
        require_editable(meeting)
        invitation = await self.invitation(meeting.id, point_id)
        invitation.checkin_token = new_checkin_token()
        audit.record(self.session, meeting.id, actor, AuditAction.TOKEN_ISSUED, point_id=point_id)
        await self.session.flush()
        # The point is told its new link in this transaction (confhub.notices).
        await link_reissued.send(self.session, LinkReissued(meeting, point_id))
        return invitation

    async def by_token(self, token: str) -> Invitation:
        """The invitation behind a check-in link, with its meeting and point; 404 when revoked."""
        invitation = await find_invitation(self.session, token, with_meeting=True)
        if invitation is None:
            raise NotFoundError(N_("This check-in link is unknown or has been revoked"))
        return invitation


def apply_chair(invitation: Invitation, chair: ChairAssignment) -> None:
    """Copy a chair assignment onto an invitation, after checking the name."""
    name = chair.name.strip()
    if not name:
        raise InvalidInputError("chair_name", N_("must not be empty"))
    if len(name) > 200:
        raise InvalidInputError("chair_name", N_("At most %(n)s characters."), n=200)
    phone = chair.phone.strip()
    parsed = parse_phone(phone) if phone else None
    if phone and parsed is None:
        raise InvalidInputError("chair_phone", N_("not a phone number: '%(value)s'"), value=phone)
    invitation.chair_name = name
    invitation.chair_title = chair.title.strip() or None
    # Stored in the national form, as the directory's (confhub.core.phones).
    invitation.chair_phone = parsed.number if parsed else None
    invitation.chair_is_sample = chair.is_sample


async def listed_extras(
    session: DbSession, meeting_id: int, points: Sequence[InvitedPoint]
) -> dict[int, dict[str, Any]]:
    """What the domains above add to each listed point (the notices' state and answer)."""
    extras: dict[int, dict[str, Any]] = {}
    listed = PointsListed(meeting_id, tuple(p.point_id for p in points))
    for added in await points_listed.send(session, listed):
        for point_id, fields in added.items():
            extras.setdefault(point_id, {}).update(fields)
    return extras
