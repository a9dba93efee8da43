"""Meeting rules: who sees which meeting, creating meetings, inviting points, naming chairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import Exists, Select, exists, func, select
from sqlalchemy.orm import selectinload

from confhub.accounts.models import Role
from confhub.accounts.principal import Principal
from confhub.core.dates import check_moment
from confhub.core.errors import (
    AuthenticationRequiredError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from confhub.core.i18n import N_
from confhub.core.messages import status_word
from confhub.core.pagination import Page, PageRequest
from confhub.db.services import RepositoryService
from confhub.meetings import audit
from confhub.meetings.audit import AuditAction
from confhub.meetings.connection import ConnectionChanges, apply_connection
from confhub.meetings.directory import chairs_from_directory
from confhub.meetings.models import (
    DELEGATES_MAX,
    DELEGATES_MIN,
    AgendaItem,
    Invitation,
    Meeting,
    MeetingStatus,
)
from confhub.meetings.reminders import stored as stored_reminders
from confhub.meetings.roll_call_limits import RollCallChanges, apply_roll_call
from confhub.meetings.schemas import AgendaItemRead, MeetingRead
from confhub.meetings.signals import (
    MeetingChanged,
    PointsInvited,
    meeting_changed,
    points_invited,
    status_changed,
)
from confhub.meetings.tokens import new_checkin_token
from confhub.points.models import ConnectionPoint
from confhub.units.models import Province


@dataclass(frozen=True)
class AgendaEntry:
    """An agenda item to add."""

    title: str
    presenter: str = ""
    starts_at: datetime | None = None


@dataclass(frozen=True)
class ChairAssignment:
    """The chair presiding at one invited point."""

    name: str
    title: str = ""
    phone: str = ""
    is_sample: bool = False


CLOSED_STATUSES = frozenset({MeetingStatus.ENDED.value, MeetingStatus.CANCELLED.value})
ALLOWED_TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.DRAFT: frozenset({MeetingStatus.SCHEDULED, MeetingStatus.CANCELLED}),
    MeetingStatus.SCHEDULED: frozenset({MeetingStatus.LIVE, MeetingStatus.CANCELLED}),
    MeetingStatus.LIVE: frozenset({MeetingStatus.ENDED}),
    MeetingStatus.ENDED: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True)
class MeetingChanges:
    """A partial update: None leaves a field as it is."""

    title: str | None = None
    convening_body: str | None = None
    presiding_official: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    host_point_id: int | None = None
    agenda: list[AgendaEntry] | None = None
    # Move the agenda's times (the given agenda, else the current one) with the start.
    shift_agenda: bool = False
    # How points join (confhub.meetings.connection).
    connection: ConnectionChanges = field(default_factory=ConnectionChanges)
    # The reminders' lead times in minutes ([]: none); `reminders_default` goes back to the
    # default (confhub.meetings.reminders).
    reminders: list[int] | None = None
    reminders_default: bool = False
    # When the roll call opens and the delegates' bounds (confhub.meetings.roll_call_limits).
    roll_call: RollCallChanges = field(default_factory=RollCallChanges)


# What the meeting's log records but no calendar subscriber sees: no new SEQUENCE for it.
UNSEEN_FIELDS = frozenset(
    {"reminder_minutes", "roll_call_opens_at", "delegates_min", "delegates_max"}
)


def agenda_outside(meeting: Meeting) -> list[AgendaItem]:
    """The timed agenda items that fall before the meeting's start or at or after its end."""
    return [
        item
        for item in meeting.agenda_items
        if item.starts_at is not None
        and not (meeting.starts_at <= item.starts_at < meeting.ends_at)
    ]


def _entries(meeting: Meeting) -> list[AgendaEntry]:
    return [AgendaEntry(a.title, a.presenter, a.starts_at) for a in meeting.agenda_items]


def _shifted(agenda: Iterable[AgendaEntry], shift: timedelta) -> list[AgendaEntry]:
    return [
        AgendaEntry(a.title, a.presenter, a.starts_at + shift if a.starts_at else None)
        for a in agenda
    ]


def _agenda_after(
    meeting: Meeting, changes: MeetingChanges, starts_at: datetime
) -> list[AgendaEntry] | None:
    """The agenda an update leaves (None: unchanged), moved with the start when asked."""
    shift = starts_at - meeting.starts_at
    if not (changes.shift_agenda and shift):
        return changes.agenda
    agenda = _shifted(_entries(meeting) if changes.agenda is None else changes.agenda, shift)
    _check_agenda(agenda)
    return agenda


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None:
        raise InvalidInputError("starts_at", N_("must carry a UTC offset"))
    if ends_at.tzinfo is None:
        raise InvalidInputError("ends_at", N_("must carry a UTC offset"))
    check_moment("starts_at", starts_at)
    check_moment("ends_at", ends_at)
    if ends_at <= starts_at:
        raise InvalidInputError("ends_at", N_("The end must be after the start."))


def _check_agenda(agenda: Iterable[AgendaEntry]) -> None:
    for entry in agenda:
        check_moment("agenda", entry.starts_at)


def _snapshot(meeting: Meeting) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "convening_body": meeting.convening_body,
        "presiding_official": meeting.presiding_official,
        "description": meeting.description,
        "starts_at": meeting.starts_at.isoformat(),
        "ends_at": meeting.ends_at.isoformat(),
        "host_point_id": meeting.host_point_id,
        "conference_url": meeting.conference_url,
        "conference_room": meeting.conference_room,
        "technician_phone": meeting.technician_phone,
        # Only when set: the default follows the start, whose change already says it.
        "line_test_at": meeting.line_test_at.isoformat() if meeting.line_test_at else None,
        "reminder_minutes": meeting.reminders,
        # What the roll call takes (confhub.meetings.roll_call_limits).
        "roll_call_opens_at": opens_at.isoformat()
        if (opens_at := meeting.roll_call_opens_at)
        else None,
        "delegates_min": meeting.delegates_min,
        "delegates_max": meeting.delegates_max,
    }


@dataclass(frozen=True)
class MeetingFilters:
    """What a meeting list may be narrowed by."""

    province_code: int | None = None
    status: str | None = None
    starts_from: datetime | None = None
    starts_until: datetime | None = None
    text: str | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        """Add these filters to a meeting query."""
        if self.starts_from and self.starts_until and self.starts_until < self.starts_from:
            raise InvalidInputError("to", N_("The last day must not be before the first."))
        if self.province_code is not None:
            query = query.where(Meeting.province_code == self.province_code)
        if self.status:
            query = query.where(Meeting.status == self.status)
        if self.starts_from is not None:
            query = query.where(Meeting.starts_at >= self.starts_from)
        if self.starts_until is not None:
            query = query.where(Meeting.starts_at <= self.starts_until)
        for word in (self.text or "").split()[:8]:
            pattern = f"%{word}%"
            query = query.where(
                Meeting.title.ilike(pattern)
                | Meeting.description.ilike(pattern)
                | Meeting.convening_body.ilike(pattern)
                | Meeting.presiding_official.ilike(pattern)
            )
        return query


class MeetingRepository(SQLAlchemyAsyncRepository[Meeting]):
    """Database access for meetings."""

    model_type = Meeting


def _invited_unit_clause(unit_code: int) -> Exists:
    return exists(
        select(Invitation.id)
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .where(Invitation.meeting_id == Meeting.id, ConnectionPoint.unit_code == unit_code)
    )


class MeetingService(RepositoryService[Meeting, MeetingRepository]):
    """Creates meetings and answers what each caller may see of them."""

    repository_type = MeetingRepository

    def visible_to(self, principal: Principal | None, query: Select[Any]) -> Select[Any]:
        """Restrict a meeting query to what `principal` may see; anonymous callers see none."""
        if principal is None:
            raise AuthenticationRequiredError(N_("Sign in first"))
        not_draft = Meeting.status != MeetingStatus.DRAFT.value
        if principal.is_admin:
            return query
        if principal.role is Role.SECRETARIAT:
            return query.where(Meeting.province_code == principal.province_code)
        if principal.role is Role.VIEWER:
            return query.where(Meeting.province_code == principal.province_code, not_draft)
        assert principal.unit_code is not None
        return query.where(not_draft, _invited_unit_clause(principal.unit_code))

    async def list_page(
        self, principal: Principal | None, page: PageRequest, filters: MeetingFilters
    ) -> Page[MeetingRead]:
        """The meetings the caller may see that match the filters, soonest start first."""
        query = self.visible_to(principal, select(Meeting))
        query = filters.apply(query)
        session = self.session
        total = (
            await session.execute(select(func.count()).select_from(query.subquery()))
        ).scalar_one()
        rows: list[Meeting] = list(
            await session.scalars(
                query.options(selectinload(Meeting.agenda_items))
                .order_by(Meeting.starts_at.asc(), Meeting.id.asc())
                .limit(page.limit)
                .offset(page.offset)
            )
        )
        counts = await self.invited_counts([m.id for m in rows])
        items = [to_read(m, counts.get(m.id, 0)) for m in rows]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    async def get_visible(self, principal: Principal | None, meeting_id: int) -> Meeting:
        """One meeting; 404 when missing, 403 when it exists but is not the caller's to see."""
        meeting = await self.session.scalar(
            select(Meeting)
            .where(Meeting.id == meeting_id)
            .options(selectinload(Meeting.agenda_items))
        )
        if meeting is None:
            raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
        allowed = await self.session.scalar(
            self.visible_to(principal, select(Meeting.id).where(Meeting.id == meeting_id))
        )
        if allowed is None:
            raise PermissionDeniedError(N_("This meeting is not yours to see"))
        return meeting

    async def invited_counts(self, meeting_ids: Sequence[int]) -> dict[int, int]:
        """How many points are invited to each meeting."""
        if not meeting_ids:
            return {}
        rows = await self.session.execute(
            select(Invitation.meeting_id, func.count())
            .where(Invitation.meeting_id.in_(meeting_ids))
            .group_by(Invitation.meeting_id)
        )
        return {int(meeting_id): int(count) for meeting_id, count in rows}

    async def public_meetings(
        self,
        province_code: int,
        *,
        ends_after: datetime | None = None,
        ended_before: datetime | None = None,
        limit: int = 20,
    ) -> list[Meeting]:
        """Non-draft meetings of a province (what its public calendar shows).

        Upcoming ones (`ends_after`) come soonest first; past ones (`ended_before`) latest first.
        """
        query = select(Meeting).where(
            Meeting.province_code == province_code, Meeting.status != MeetingStatus.DRAFT.value
        )
        order = Meeting.starts_at.asc()
        if ends_after is not None:
            query = query.where(Meeting.ends_at >= ends_after)
        if ended_before is not None:
            query = query.where(Meeting.ends_at < ended_before)
            order = Meeting.starts_at.desc()
        session = self.session
        return list(await session.scalars(query.order_by(order).limit(limit)))

    async def create_meeting(
        self,
        *,
        province_code: int,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        convening_body: str = "",
        presiding_official: str = "",
        description: str = "",
        host_point_id: int | None = None,
        status: MeetingStatus = MeetingStatus.DRAFT,
        agenda: Iterable[AgendaEntry] = (),
        created_by_id: int | None = None,
        actor: Principal | None = None,
        connection: ConnectionChanges | None = None,
        reminder_minutes: Iterable[int] | None = None,
        roll_call: RollCallChanges | None = None,
    ) -> Meeting:
        """Create a meeting after checking its times and province."""
        if not title.strip():
            raise InvalidInputError("title", N_("must not be empty"))
        _check_times(starts_at, ends_at)
        agenda = list(agenda)
        _check_agenda(agenda)
        if await self.session.get(Province, province_code) is None:
            raise InvalidInputError(
                "province_code", N_("There is no province with code %(code)s."), code=province_code
            )
        meeting = Meeting(
            province_code=province_code,
            title=title.strip(),
            convening_body=convening_body,
            presiding_official=presiding_official,
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status.value,
            host_point_id=host_point_id,
            created_by_id=created_by_id,
            delegates_min=DELEGATES_MIN,
            delegates_max=DELEGATES_MAX,
        )
        if connection is not None:
            apply_connection(meeting, connection)
        if reminder_minutes is not None:
            meeting.reminder_minutes = stored_reminders(reminder_minutes)
        apply_roll_call(meeting, roll_call or RollCallChanges())
        meeting.agenda_items = [
            AgendaItem(position=i, title=a.title, presenter=a.presenter, starts_at=a.starts_at)
            for i, a in enumerate(agenda, start=1)
        ]
        meeting.invitations = []
        self.session.add(meeting)
        await self.session.flush()
        if host_point_id is not None and actor is not None:
            await self._check_host_point(meeting, actor, host_point_id)
        audit.record(self.session, meeting.id, actor, AuditAction.CREATED)
        return meeting

    async def invite_points(
        self, meeting: Meeting, points: Iterable[ConnectionPoint]
    ) -> list[Invitation]:
        """Invite points not yet invited; each invitation gets its own check-in token."""
        session = self.session
        already = set(
            await session.scalars(
                select(Invitation.point_id).where(Invitation.meeting_id == meeting.id)
            )
        )
        created = []
        for point in points:
            if point.id in already:
                continue
            invitation = Invitation(
                meeting_id=meeting.id, point_id=point.id, checkin_token=new_checkin_token()
            )
            created.append(invitation)
            already.add(point.id)
        await chairs_from_directory(session, created)
        session.add_all(created)
        await session.flush()
        if created:
            # Notices of the invitation are queued in this transaction (confhub.notices).
            await points_invited.send(
                session, PointsInvited(meeting, tuple(i.point_id for i in created))
            )
        return created

    async def assign_chair(self, invitation: Invitation, chair: ChairAssignment) -> None:
        """Name the chair presiding at an invited point."""
        if not chair.name.strip():
            raise InvalidInputError("chair_name", N_("must not be empty"))
        invitation.chair_name = chair.name.strip()
        invitation.chair_title = chair.title.strip() or None
        invitation.chair_phone = chair.phone.strip() or None
        invitation.chair_is_sample = chair.is_sample
        invitation.chair_from_directory = False
        await self.session.flush()

    async def get_managed(self, principal: Principal | None, meeting_id: int) -> Meeting:
        """A meeting the caller may change (secretariat of its province, or admin)."""
        meeting = await self.get_visible(principal, meeting_id)
        assert principal is not None
        if not principal.manages_province(meeting.province_code):
            raise PermissionDeniedError(
                N_("Only the province's secretariat may change this meeting")
            )
        return meeting

    async def update_meeting(
        self, meeting: Meeting, actor: Principal, changes: MeetingChanges
    ) -> Meeting:
        """Apply a partial update (a reschedule is a change of times); invitations are kept."""
        if meeting.status in CLOSED_STATUSES:
            raise ConflictError(
                N_("The meeting is “%(status)s”; it can no longer be edited."),
                status=status_word(meeting.status),
            )
        before = _snapshot(meeting)
        for name in ("title", "convening_body", "presiding_official", "description"):
            value = getattr(changes, name)
            if value is not None:
                setattr(meeting, name, value.strip())
        if not meeting.title:
            raise InvalidInputError("title", N_("must not be empty"))
        for name in ("starts_at", "ends_at"):
            value = getattr(changes, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInputError(name, N_("must carry a UTC offset"))
            check_moment(name, value)  # before the meeting's length is carried over
        _check_agenda(changes.agenda or ())
        starts_at = changes.starts_at or meeting.starts_at
        ends_at = changes.ends_at or meeting.ends_at
        if changes.starts_at is not None and changes.ends_at is None:
            # Moving the start alone keeps the meeting's length.
            ends_at = meeting.ends_at + (starts_at - meeting.starts_at)
        _check_times(starts_at, ends_at)
        agenda = _agenda_after(meeting, changes, starts_at)
        meeting.starts_at, meeting.ends_at = starts_at, ends_at
        apply_connection(meeting, changes.connection)
        if changes.reminders_default:
            meeting.reminder_minutes = None
        elif changes.reminders is not None:
            meeting.reminder_minutes = stored_reminders(changes.reminders)
        apply_roll_call(meeting, changes.roll_call)
        if changes.host_point_id is not None:
            await self._check_host_point(meeting, actor, changes.host_point_id)
            meeting.host_point_id = changes.host_point_id
        old_agenda = [(a.title, a.presenter, a.starts_at) for a in meeting.agenda_items]
        # An unchanged agenda (a web form always sends it) is no change: no log, no new SEQUENCE.
        agenda_changed = agenda is not None and old_agenda != [
            (a.title, a.presenter, a.starts_at) for a in agenda
        ]
        if agenda is not None and agenda_changed:
            meeting.agenda_items = [
                AgendaItem(position=i, title=a.title, presenter=a.presenter, starts_at=a.starts_at)
                for i, a in enumerate(agenda, start=1)
            ]
        diff = {k: [before[k], v] for k, v in _snapshot(meeting).items() if before[k] != v}
        if agenda is not None and agenda_changed:
            diff["agenda"] = [len(old_agenda), len(agenda)]
        if diff.keys() - UNSEEN_FIELDS:
            meeting.sequence += 1
        if diff:
            audit.record(self.session, meeting.id, actor, AuditAction.UPDATED, changes=diff)
        await self.session.flush()
        if diff:
            # Change notices are queued in this transaction (confhub.notices).
            await meeting_changed.send(self.session, MeetingChanged(meeting, diff))
        return meeting

    async def _check_host_point(self, meeting: Meeting, actor: Principal, point_id: int) -> None:
        point = await self.session.get(ConnectionPoint, point_id)
        if point is None:
            raise InvalidInputError(
                "host_point_id", N_("There is no connection point %(point)s."), point=point_id
            )
        if point.province_code != meeting.province_code and not actor.is_admin:
            raise InvalidInputError("host_point_id", N_("The main point must be in the province."))

    async def change_status(
        self, meeting: Meeting, actor: Principal, status: str, reason: str | None = None
    ) -> Meeting:
        """Move the meeting one step (`draft → scheduled → live → ended`, or `cancelled`)."""
        try:
            target = MeetingStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in MeetingStatus)
            raise InvalidInputError(
                "status", N_("must be one of %(allowed)s"), allowed=allowed
            ) from None
        current = MeetingStatus(meeting.status)
        if target not in ALLOWED_TRANSITIONS[current]:
            raise ConflictError(
                N_("A meeting cannot go from “%(status_from)s” to “%(status_to)s”."),
                status_from=status_word(current.value),
                status_to=status_word(target.value),
            )
        reason = (reason or "").strip()
        if target is MeetingStatus.CANCELLED and not reason:
            raise InvalidInputError("reason", N_("Say why the meeting is cancelled."))
        meeting.status = target.value
        meeting.status_reason = reason or None
        meeting.sequence += 1
        audit.record(
            self.session,
            meeting.id,
            actor,
            AuditAction.STATUS,
            **{"from": current.value, "to": target.value, "reason": reason or None},
        )
        await self.session.flush()
        # Live boards and check-in pages learn of it (confhub.attendance.listeners).
        await status_changed.send(self.session, meeting)
        return meeting

    async def copy_meeting(
        self,
        meeting: Meeting,
        actor: Principal,
        starts_at: datetime,
        ends_at: datetime | None = None,
        title: str | None = None,
    ) -> Meeting:
        """A new draft on another date with the same agenda, invitations and chairs.

        Check-ins, documents and the audit log are not copied; every point gets a new link.
        """
        check_moment("starts_at", starts_at)  # before the meeting's length is added
        ends_at = ends_at or starts_at + (meeting.ends_at - meeting.starts_at)
        shift = starts_at - meeting.starts_at
        copy = await self.create_meeting(
            province_code=meeting.province_code,
            title=title or meeting.title,
            starts_at=starts_at,
            ends_at=ends_at,
            convening_body=meeting.convening_body,
            presiding_official=meeting.presiding_official,
            description=meeting.description,
            host_point_id=meeting.host_point_id,
            agenda=_shifted(_entries(meeting), shift),
            created_by_id=actor.id,
            actor=actor,
            reminder_minutes=meeting.reminder_minutes,
            # The same bounds of delegates; the roll call opens at the copy's own line test.
            roll_call=RollCallChanges(
                delegates_min=meeting.delegates_min, delegates_max=meeting.delegates_max
            ),
        )
        copy.copied_from_id = meeting.id
        session = self.session
        copies = [
            Invitation(
                meeting_id=copy.id,
                point_id=source.point_id,
                chair_name=source.chair_name,
                chair_title=source.chair_title,
                chair_phone=source.chair_phone,
                chair_is_sample=source.chair_is_sample,
                chair_from_directory=source.chair_from_directory,
                checkin_token=new_checkin_token(),
            )
            for source in await session.scalars(
                select(Invitation).where(Invitation.meeting_id == meeting.id)
            )
        ]
        # A chair that came from the directory is the directory's today, not the source's.
        await chairs_from_directory(session, [i for i in copies if i.chair_from_directory])
        session.add_all(copies)
        audit.record(session, copy.id, actor, AuditAction.COPIED, source_meeting_id=meeting.id)
        await session.flush()
        return copy


def to_read(meeting: Meeting, invited_count: int) -> MeetingRead:
    """The API view of a meeting (its agenda must be loaded)."""
    return MeetingRead(
        id=meeting.id,
        title=meeting.title,
        province_code=meeting.province_code,
        convening_body=meeting.convening_body,
        presiding_official=meeting.presiding_official,
        description=meeting.description,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        status=meeting.status,
        status_reason=meeting.status_reason,
        host_point_id=meeting.host_point_id,
        invited_count=invited_count,
        sequence=meeting.sequence,
        copied_from_id=meeting.copied_from_id,
        conference_url=meeting.conference_url,
        conference_room=meeting.conference_room,
        technician_phone=meeting.technician_phone,
        line_test_at=meeting.line_test_time,
        reminder_minutes=meeting.reminders,
        roll_call_opens_at=meeting.roll_call_time,
        delegates_min=meeting.delegates_min,
        delegates_max=meeting.delegates_max,
        agenda=[
            AgendaItemRead(
                position=a.position, title=a.title, presenter=a.presenter, starts_at=a.starts_at
            )
            for a in meeting.agenda_items
        ],
    )
