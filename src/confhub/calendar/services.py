"""Which meetings each calendar feed holds, the data its events are built from, and its version.

Public feeds (a province's, a unit's, one meeting's) hold non-draft meetings; a private feed holds
what its owner may see (`MeetingService.visible_to`), drafts included for the secretariat. Past
meetings stay `past_days` after they end; a feed holds at most the `max_events` latest-starting.

`version()` is one aggregate query over the rows a feed is built from (how many, and the latest
`updated_at`), so a conditional GET is answered without loading or building anything. A unit's
feed also counts that unit's invitations, so naming a commune's chair changes that commune's feed
and no other.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, func, select
from sqlalchemy.orm import aliased

from confhub.accounts.models import Role, User
from confhub.accounts.principal import Principal
from confhub.calendar.builder import (
    DAY_BEFORE,
    REMINDER,
    AgendaLine,
    Connection,
    FeedEvent,
    FeedInfo,
    OwnPoint,
)
from confhub.calendar.versions import FeedVersion, VersionMemory, generation
from confhub.core import tokens
from confhub.core.errors import NotFoundError
from confhub.core.i18n import DEFAULT_LANGUAGE, N_, gettext
from confhub.db import DbSession
from confhub.meetings.models import (
    LINE_TEST_BEFORE,
    AgendaItem,
    Invitation,
    Meeting,
    MeetingStatus,
)
from confhub.meetings.services import MeetingService
from confhub.points.models import ConnectionPoint
from confhub.settings import Settings
from confhub.units.models import Province, Unit

# Part of every ETag: bump it when the builder's output changes, so caches fetch again.
FORMAT_VERSION = 1
MAX_EVENTS = 1000
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# A query over Meeting with any columns (SQLAlchemy 2.1 types Select by its columns).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
_NOT_DRAFT = Meeting.status != MeetingStatus.DRAFT.value
# Every event's first CATEGORIES value (the second is the province).
CATEGORY = N_("Online conference")

# The version queries, built once (a conditional GET should cost no more than running one).
_host = aliased(ConnectionPoint, name="host_point")
_own = aliased(ConnectionPoint, name="own_point")
_IN_WINDOW = Meeting.ends_at >= bindparam("cutoff")
_PROVINCE_VERSION = (
    select(
        func.count(Meeting.id),
        func.max(Meeting.updated_at),
        func.max(_host.updated_at),
        select(Province.updated_at).where(Province.code == bindparam("key")).scalar_subquery(),
    )
    .outerjoin(_host, _host.id == Meeting.host_point_id)
    .where(Meeting.province_code == bindparam("key"), _NOT_DRAFT, _IN_WINDOW)
)
# A unit's invitations to the meetings in the window, with those meetings and points.
_UNIT_VERSION = (
    select(
        select(Unit.updated_at).where(Unit.code == bindparam("key")).scalar_subquery(),
        func.count(Invitation.id),
        func.max(Meeting.updated_at),
        func.max(Invitation.updated_at),
        func.max(_own.updated_at),
        func.max(_host.updated_at),
    )
    .select_from(Invitation)
    .join(_own, _own.id == Invitation.point_id)
    .join(Meeting, Meeting.id == Invitation.meeting_id)
    .outerjoin(_host, _host.id == Meeting.host_point_id)
    .where(_own.unit_code == bindparam("key"), _NOT_DRAFT, _IN_WINDOW)
)
_MEETING_VERSION = (
    select(Meeting.updated_at, _host.updated_at)
    .outerjoin(_host, _host.id == Meeting.host_point_id)
    .where(Meeting.id == bindparam("key"), _NOT_DRAFT)
)
_TOKEN_OWNER = (
    select(User, Unit.province_code)
    .outerjoin(Unit, Unit.code == User.unit_code)
    .where(User.calendar_token_digest == bindparam("digest"), User.is_active.is_(True))
)


class FeedKind(enum.StrEnum):
    """The four feeds of the contract, by their path segment."""

    PROVINCE = "provinces"
    UNIT = "units"
    MEETING = "meetings"
    PRIVATE = "private"


@dataclass(frozen=True)
class FeedPolicy:
    """What the settings decide about every feed: addresses, zone, past window and size bound."""

    base_url: str
    timezone: str
    past_days: int = 90
    max_events: int = MAX_EVENTS

    @classmethod
    def of(cls, settings: Settings) -> FeedPolicy:
        """The policy of the running configuration."""
        return cls(settings.base_url, settings.timezone, settings.calendar_past_days)

    @property
    def host(self) -> str:
        """The host name UIDs end with (`meeting-12@host`)."""
        return urlsplit(self.base_url).hostname or "confhub"

    def cutoff(self, now: datetime) -> datetime:
        """Meetings that ended before this have left the feeds."""
        return now - timedelta(days=self.past_days)

    def feed_url(self, kind: FeedKind, key: str | int) -> str:
        """The https address of a feed."""
        return f"{self.base_url}/calendar/{kind.value}/{key}.ics"

    def meeting_url(self, meeting_id: int) -> str:
        """The meeting's page."""
        return f"{self.base_url}/meetings/{meeting_id}"


@dataclass(frozen=True)
class Feed:
    """One feed being served: which, for whom, in which language."""

    kind: FeedKind
    key: int  # province code, unit code, meeting id, or (private) the owner's user id
    language: str = DEFAULT_LANGUAGE
    # The private feed's owner (what it holds is what this principal may see).
    principal: Principal | None = None
    # The unit whose own points and chairs the events show (a unit's feed, a chair's private one).
    own_unit_code: int | None = None
    owner_name: str = ""
    owner_updated_at: datetime | None = None


def _latest(*values: datetime | None) -> datetime:
    return max((v for v in values if v is not None), default=_EPOCH)


class CalendarService:
    """The feeds' queries, over one database session."""

    def __init__(
        self,
        session: DbSession,
        policy: FeedPolicy,
        now: datetime | None = None,
        memory: VersionMemory[Any] | None = None,
    ) -> None:
        self.session = session
        self.policy = policy
        self.now = now or datetime.now(UTC)
        # Versions (and private feeds' owners) remembered for a second; None: always ask.
        self.memory = memory

    # --- which meetings ---------------------------------------------------------------------

    def _restrict(self, feed: Feed, query: AnySelect) -> AnySelect:
        """Limit a query over Meeting to the meetings `feed` holds."""
        if feed.kind is FeedKind.MEETING:
            return query.where(Meeting.id == feed.key, _NOT_DRAFT)
        query = query.where(Meeting.ends_at >= self.policy.cutoff(self.now))
        if feed.kind is FeedKind.PROVINCE:
            return query.where(Meeting.province_code == feed.key, _NOT_DRAFT)
        if feed.kind is FeedKind.UNIT:
            return query.where(_NOT_DRAFT, _invited(feed.key))
        return MeetingService(session=self.session).visible_to(feed.principal, query)

    # --- versions -----------------------------------------------------------------------------

    async def version(self, feed: Feed) -> FeedVersion:
        """The feed's ETag and Last-Modified (remembered for a moment); 404 for an unknown feed."""
        key = ("version", feed.kind, feed.key, feed.language, feed.own_unit_code)
        remembered = self.memory.get(key) if self.memory is not None else None
        if isinstance(remembered, FeedVersion):
            return remembered
        read_in = generation()
        version = await self._version(feed)
        if self.memory is not None:
            self.memory.put(key, version, read_in)
        return version

    async def _version(self, feed: Feed) -> FeedVersion:
        """One aggregate query over the rows the feed is built from."""
        cutoff = self.policy.cutoff(self.now)
        if feed.kind is FeedKind.PROVINCE:
            parts = await self._row(_PROVINCE_VERSION, key=feed.key, cutoff=cutoff)
            if parts is None or parts[-1] is None:
                raise NotFoundError(N_("No province %(code)s"), code=feed.key)
        elif feed.kind is FeedKind.UNIT:
            parts = await self._row(_UNIT_VERSION, key=feed.key, cutoff=cutoff)
            if parts is None or parts[0] is None:
                raise NotFoundError(N_("No unit %(code)s"), code=feed.key)
        elif feed.kind is FeedKind.MEETING:
            parts = await self._row(_MEETING_VERSION, key=feed.key)
            if parts is None:  # a draft is not public: for this feed it does not exist
                raise NotFoundError(N_("No meeting %(id)s"), id=feed.key)
        else:
            parts = await self._private_parts(feed, cutoff)
        policy = self.policy
        fingerprint = (FORMAT_VERSION, feed.kind.value, feed.key, feed.language, policy, parts)
        digest = hashlib.sha256(repr(fingerprint).encode()).hexdigest()[:32]
        stamps = [p for p in parts if isinstance(p, datetime)]
        private = feed.kind is FeedKind.PRIVATE
        return FeedVersion(f'"{digest}"', _latest(*stamps), private=private, parts=parts)

    async def _row(self, statement: AnySelect, **params: Any) -> tuple[Any, ...] | None:
        row = (await self.session.execute(statement, params)).one_or_none()
        return None if row is None else tuple(row)

    async def _private_parts(self, feed: Feed, cutoff: datetime) -> tuple[Any, ...]:
        """What the owner may see (as `visible_to` says), their own unit's invitations, and the
        owner's row (name, role)."""
        query = select(
            func.count(Meeting.id), func.max(Meeting.updated_at), func.max(_host.updated_at)
        ).outerjoin(_host, _host.id == Meeting.host_point_id)
        parts = await self._row(self._restrict(feed, query))
        assert parts is not None  # an aggregate always answers one row
        if feed.own_unit_code is not None:
            own = await self._row(_UNIT_VERSION, key=feed.own_unit_code, cutoff=cutoff)
            parts += own or ()
        return (*parts, feed.owner_updated_at)

    # --- the data of a feed --------------------------------------------------------------------

    async def feed_info(self, feed: Feed, version: FeedVersion) -> FeedInfo:
        """The calendar's identity and name."""

        def _(message: str, **values: str) -> str:
            return gettext(feed.language, message, **values)

        if feed.kind is FeedKind.PROVINCE:
            name = await self.session.scalar(select(Province.name).where(Province.code == feed.key))
            title = _("Online conferences of %(province)s", province=name or str(feed.key))
        elif feed.kind is FeedKind.UNIT:
            name = await self.session.scalar(select(Unit.name).where(Unit.code == feed.key))
            title = _("Online conferences of %(unit)s", unit=name or str(feed.key))
        elif feed.kind is FeedKind.MEETING:
            name = await self.session.scalar(select(Meeting.title).where(Meeting.id == feed.key))
            title = name or str(feed.key)
        else:
            title = _("My online conferences (%(name)s)", name=feed.owner_name)
        reminders = (REMINDER,) if feed.own_unit_code is None else (DAY_BEFORE, REMINDER)
        kind = "user" if feed.kind is FeedKind.PRIVATE else feed.kind.value.removesuffix("s")
        return FeedInfo(
            uid=f"calendar-{kind}-{feed.key}@{self.policy.host}",
            name=title,
            timezone=self.policy.timezone,
            modified_at=version.last_modified,
            # A private feed's address holds its secret: it stays out of the file.
            source_url="" if feed.kind is FeedKind.PRIVATE else self._source(feed),
            language=feed.language,
            reminders=reminders,
        )

    def _source(self, feed: Feed) -> str:
        return self.policy.feed_url(feed.kind, feed.key)

    async def events(self, feed: Feed) -> list[FeedEvent]:
        """The feed's meetings as events, earliest first (the latest `max_events` of them)."""
        host = aliased(ConnectionPoint)
        query = (
            select(
                Meeting.id,
                Meeting.title,
                Meeting.starts_at,
                Meeting.ends_at,
                Meeting.status,
                Meeting.status_reason,
                Meeting.sequence,
                Meeting.updated_at,
                Meeting.convening_body,
                Meeting.presiding_official,
                Meeting.description,
                Meeting.province_code,
                Meeting.conference_url,
                Meeting.conference_room,
                Meeting.technician_phone,
                Meeting.line_test_at,
                Province.name.label("province_name"),
                host.name.label("host_name"),
                host.updated_at.label("host_updated_at"),
            )
            .join(Province, Province.code == Meeting.province_code)
            .outerjoin(host, host.id == Meeting.host_point_id)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(self.policy.max_events)
        )
        rows = list((await self.session.execute(self._restrict(feed, query))).all())
        rows.reverse()
        ids = [row.id for row in rows]
        agenda = await self._agenda(ids)
        # A chair's name is personal data: only a chair's own private feed names them.
        own = await self._own_points(
            ids, feed.own_unit_code, with_chairs=feed.kind is FeedKind.PRIVATE
        )
        category = gettext(feed.language, CATEGORY)
        # A room's link and PIN let anyone join: only a feed whose reader is known carries them.
        private = feed.kind is FeedKind.PRIVATE
        return [
            self._event(row, agenda[row.id], own.get(row.id), category, with_connection=private)
            for row in rows
        ]

    async def _agenda(self, meeting_ids: list[int]) -> defaultdict[int, list[AgendaLine]]:
        agenda: defaultdict[int, list[AgendaLine]] = defaultdict(list)
        if not meeting_ids:
            return agenda
        rows = await self.session.execute(
            select(AgendaItem.meeting_id, AgendaItem.title, AgendaItem.presenter)
            .add_columns(AgendaItem.starts_at)
            .where(AgendaItem.meeting_id.in_(meeting_ids))
            .order_by(AgendaItem.meeting_id, AgendaItem.position)
        )
        for meeting_id, title, presenter, starts_at in rows:
            agenda[meeting_id].append(AgendaLine(title, presenter or "", starts_at))
        return agenda

    async def _own_points(
        self, meeting_ids: list[int], unit_code: int | None, *, with_chairs: bool
    ) -> dict[int, tuple[list[OwnPoint], datetime]]:
        """Per meeting: the unit's invited points (with their chairs when `with_chairs`), and
        when they last changed."""
        if unit_code is None or not meeting_ids:
            return {}
        own = aliased(ConnectionPoint)
        rows = await self.session.execute(
            select(
                Invitation.meeting_id,
                own.name,
                Invitation.chair_name,
                Invitation.chair_title,
                Invitation.chair_is_sample,
                Invitation.updated_at,
                own.updated_at,
            )
            .join(own, own.id == Invitation.point_id)
            .where(own.unit_code == unit_code, Invitation.meeting_id.in_(meeting_ids))
            .order_by(Invitation.meeting_id, own.name, own.id)
        )
        points: dict[int, tuple[list[OwnPoint], datetime]] = {}
        for meeting_id, name, chair, title, sample, invited_at, point_at in rows:
            listed, changed = points.get(meeting_id, ([], _EPOCH))
            if with_chairs:
                listed.append(OwnPoint(name, chair, title, chair_is_sample=sample))
            else:
                listed.append(OwnPoint(name))
            points[meeting_id] = (listed, _latest(changed, invited_at, point_at))
        return points

    def _event(
        self,
        row: Row[Any],
        agenda: list[AgendaLine],
        own: tuple[list[OwnPoint], datetime] | None,
        category: str,
        *,
        with_connection: bool = False,
    ) -> FeedEvent:
        policy = self.policy
        own_points, own_changed = own or ([], None)
        location = "; ".join(p.name for p in own_points) or (row.host_name or "")
        return FeedEvent(
            uid=f"meeting-{row.id}@{policy.host}",
            title=row.title,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            status=row.status,
            sequence=row.sequence,
            modified_at=_latest(row.updated_at, row.host_updated_at, own_changed),
            url=policy.meeting_url(row.id),
            organizer_name=row.convening_body or row.province_name,
            organizer_uri=f"{policy.base_url}/?province={row.province_code}",
            location=location,
            categories=(category, row.province_name),
            convening_body=row.convening_body,
            presiding_official=row.presiding_official,
            description=row.description,
            status_reason=row.status_reason,
            host_point=row.host_name or "",
            agenda=tuple(agenda),
            own_points=tuple(own_points),
            connection=Connection(
                conference_url=row.conference_url,
                conference_room=row.conference_room,
                technician_phone=row.technician_phone,
                line_test_at=row.line_test_at or row.starts_at - LINE_TEST_BEFORE,
            )
            if with_connection
            else None,
        )

    # --- private feeds --------------------------------------------------------------------------

    async def private_feed(self, token: str, language: str = DEFAULT_LANGUAGE) -> Feed:
        """The private feed behind a token; 404 when it is unknown, reset or the user inactive."""
        unknown = NotFoundError(N_("This calendar address is unknown or has been reset"))
        if not tokens.well_formed(token):
            raise unknown
        digest = tokens.token_digest(token)
        key = ("token", digest, language)
        remembered = self.memory.get(key) if self.memory is not None else None
        if isinstance(remembered, Feed):
            return remembered
        read_in = generation()
        row = (await self.session.execute(_TOKEN_OWNER, {"digest": digest})).one_or_none()
        if row is None or not tokens.same_token(row[0].calendar_token, token):
            raise unknown
        user: User = row[0]
        principal = Principal.of(user, row[1])
        feed = Feed(
            kind=FeedKind.PRIVATE,
            key=user.id,
            language=language,
            principal=principal,
            own_unit_code=principal.unit_code if principal.role is Role.CHAIR else None,
            owner_name=user.full_name or user.email,
            owner_updated_at=user.updated_at,
        )
        if self.memory is not None:
            self.memory.put(key, feed, read_in)
        return feed


def _invited(unit_code: int) -> ColumnElement[bool]:
    """The meeting has one of the unit's points among its invited points."""
    return exists(
        select(Invitation.id)
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .where(Invitation.meeting_id == Meeting.id, ConnectionPoint.unit_code == unit_code)
    )
