"""Invited connection points of a meeting: inviting, removing, chairs and check-in links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import select

from confhub.accounts.principal import Principal
from confhub.core.errors import ConflictError, InvalidInputError, NotFoundError
from confhub.core.ids import parse_code
from confhub.meetings import audit
from confhub.meetings.audit import AuditAction
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.meetings.services import ChairAssignment
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
            f"The meeting is {meeting.status}; its invitations can no longer change"
        )


class InvitationService(SQLAlchemyAsyncRepositoryService[Invitation, InvitationRepository]):
    """Rules for who is invited to a meeting and who chairs each point."""

    repository_type = InvitationRepository

    async def invited_points(self, meeting_id: int) -> list[InvitedPoint]:
        """Every invited point, the province's own point first, then by unit name."""
        rows = await self.repository.session.execute(
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
        return sorted(
            points, key=lambda p: (p.unit_code is not None, p.unit_name or "", p.point_id)
        )

    async def invitation(self, meeting_id: int, point_id: int) -> Invitation:
        """The invitation of one point to one meeting, or 404."""
        invitation = await self.repository.session.scalar(
            select(Invitation).where(
                Invitation.meeting_id == meeting_id, Invitation.point_id == point_id
            )
        )
        if invitation is None:
            raise NotFoundError(f"Point {point_id} is not invited to meeting {meeting_id}")
        return invitation

    async def resolve_units(
        self, meeting: Meeting, actor: Principal, entries: Iterable[str]
    ) -> tuple[list[Unit], list[UnitMatch]]:
        """Match codes or names to units the actor may invite; returns (units, failures)."""
        scope = None if actor.is_admin else meeting.province_code
        index = await unit_index(self.repository.session, scope)
        units: list[Unit] = []
        failures: list[UnitMatch] = []
        for entry in entries:
            match = index.match(entry)
            code = parse_code(entry)
            if match.unit is None and code is not None and scope is not None:
                other = await self.repository.session.get(Unit, code)
                if other is not None:
                    match = UnitMatch(
                        entry, None, f"{other.name} ({other.code}) is not in province {scope}"
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
        session = self.repository.session
        unknown_types = [t for t in unit_types if t not in UNIT_TYPES]
        if unknown_types:
            raise InvalidInputError("unit_types", f"unknown type(s): {', '.join(unknown_types)}")
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
                detail = "; ".join(f"{f.entry}: {f.error}" for f in failures)
                raise InvalidInputError("unit_codes", detail)
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
                raise InvalidInputError("point_ids", f"unknown point(s): {sorted(missing)}")
            foreign = [p.id for p in chosen if p.province_code != meeting.province_code]
            if foreign and not actor.is_admin:
                raise InvalidInputError(
                    "point_ids", f"point(s) {foreign} are not in province {meeting.province_code}"
                )
            points.extend(chosen)
        if not points:
            raise InvalidInputError("invitations", "name at least one unit or point to invite")
        already = set(
            await session.scalars(
                select(Invitation.point_id).where(Invitation.meeting_id == meeting.id)
            )
        )
        added = 0
        for point in {p.id: p for p in points}.values():
            if point.id in already:
                continue
            session.add(
                Invitation(
                    meeting_id=meeting.id, point_id=point.id, checkin_token=new_checkin_token()
                )
            )
            added += 1
        if added:
            audit.record(session, meeting.id, actor, AuditAction.INVITED, count=added)
        await session.flush()
        return InviteResult(added=added, already_invited=len(points) - added)

    async def invite_pasted(self, meeting: Meeting, actor: Principal, text: str) -> InviteResult:
        """Invite from a pasted list of codes or names (one per line or comma-separated)."""
        entries = split_entries(text)
        if not entries:
            raise InvalidInputError("units", "the list is empty")
        return await self.invite(meeting, actor, unit_codes=entries)

    async def remove(self, meeting: Meeting, actor: Principal, point_id: int) -> None:
        """Withdraw one point's invitation (its check-in link stops working)."""
        require_editable(meeting)
        invitation = await self.invitation(meeting.id, point_id)
        point = await self.repository.session.get(ConnectionPoint, point_id)
        await self.repository.session.delete(invitation)
        audit.record(
            self.repository.session,
            meeting.id,
            actor,
            AuditAction.UNINVITED,
            point_id=point_id,
            point=point.name if point else None,
        )
        await self.repository.session.flush()

    async def set_chair(
        self, meeting: Meeting, actor: Principal, point_id: int, chair: ChairAssignment | None
    ) -> Invitation:
        """Name (or, with None, clear) the chair of one invited point."""
        if meeting.status == MeetingStatus.CANCELLED.value:
            raise ConflictError("The meeting is cancelled")
        invitation = await self.invitation(meeting.id, point_id)
        if chair is None:
            invitation.chair_name = invitation.chair_title = invitation.chair_phone = None
            invitation.chair_is_sample = False
        else:
            apply_chair(invitation, chair)
        audit.record(
            self.repository.session,
            meeting.id,
            actor,
            AuditAction.CHAIR,
            point_id=point_id,
            chair=invitation.chair_name,
        )
        await self.repository.session.flush()
        return invitation

    async def revoke_token(self, meeting: Meeting, actor: Principal, point_id: int) -> Invitation:
        """Make the point's check-in link stop working at once."""
        invitation = await self.invitation(meeting.id, point_id)
        invitation.checkin_token = None
        audit.record(
            self.repository.session, meeting.id, actor, AuditAction.TOKEN_REVOKED, point_id=point_id
        )
        await self.repository.session.flush()
        return invitation

    async def reissue_token(self, meeting: Meeting, actor: Principal, point_id: int) -> Invitation:
        """Give the point a new check-in link; the old one stops working."""
        require_editable(meeting)
        invitation = await self.invitation(meeting.id, point_id)
        invitation.checkin_token = new_checkin_token()
        audit.record(
            self.repository.session, meeting.id, actor, AuditAction.TOKEN_ISSUED, point_id=point_id
        )
        await self.repository.session.flush()
        return invitation

    async def by_token(self, token: str) -> Invitation:
        """The invitation behind a check-in link, with its meeting and point; 404 when revoked."""
        invitation = await find_invitation(self.repository.session, token, with_meeting=True)
        if invitation is None:
            raise NotFoundError("This check-in link is unknown or has been revoked")
        return invitation


def apply_chair(invitation: Invitation, chair: ChairAssignment) -> None:
    """Copy a chair assignment onto an invitation, after checking the name."""
    name = chair.name.strip()
    if not name:
        raise InvalidInputError("chair_name", "must not be empty")
    if len(name) > 200:
        raise InvalidInputError("chair_name", "must be at most 200 characters")
    phone = chair.phone.strip()
    if phone and not all(c.isdigit() or c in "+ .-()" for c in phone):
        raise InvalidInputError("chair_phone", f"not a phone number: {phone!r}")
    invitation.chair_name = name
    invitation.chair_title = chair.title.strip() or None
    invitation.chair_phone = phone or None
    invitation.chair_is_sample = chair.is_sample
