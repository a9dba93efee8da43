"""A notice is recorded in the transaction of the change that causes it: a committed
reschedule always has its change notices, a rolled-back one never does; drafts and meetings
already over get none; reminders follow the meeting's current start and vanish when it is
cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from confhub.accounts.principal import Principal
from confhub.accounts.services import UserService
from confhub.core.errors import InvalidInputError
from confhub.meetings.models import MeetingStatus
from confhub.meetings.services import MeetingChanges, MeetingService
from confhub.notices.models import Notice, NoticeDelivery
from confhub.notices.outbox import Outbox, Transports, record_due_reminders
from confhub.notices.policy import NoticePolicy
from confhub.notices.transports import SmtpTransport
from confhub.points.models import ConnectionPoint

pytestmark = pytest.mark.integration


async def _admin(session) -> Principal:
    user = await UserService(session=session).create_user(
        email="admin@example.vn", password="a long enough password", role="admin"
    )
    return Principal.of(user, None)


async def _count(session, kind: str) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == kind))
        or 0
    )


async def _scheduled_meeting(session, starts_in: timedelta, points: int = 3):
    service = MeetingService(session=session)
    start = datetime.now(UTC).replace(microsecond=0) + starts_in
    meeting = await service.create_meeting(
        province_code=38,
        title="Hội nghị",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=MeetingStatus.SCHEDULED,
    )
    chosen = list(
        await session.scalars(
            select(ConnectionPoint).where(ConnectionPoint.province_code == 38).limit(points)
        )
    )
    await service.invite_points(meeting, chosen)
    return service, meeting


async def test_a_rolled_back_reschedule_leaves_no_notice(db_session) -> None:
    admin = await _admin(db_session)
    service, meeting = await _scheduled_meeting(db_session, timedelta(days=2))
    await db_session.commit()
    assert await _count(db_session, "invitation") == 3
    later, meeting_id = meeting.starts_at + timedelta(hours=3), meeting.id
    await service.update_meeting(meeting, admin, MeetingChanges(starts_at=later))
    await db_session.rollback()
    assert await _count(db_session, "change") == 0
    meeting = await service.get_visible(admin, meeting_id)
    await service.update_meeting(meeting, admin, MeetingChanges(starts_at=later))
    await db_session.commit()
    assert await _count(db_session, "change") == 3
    payload = (
        await db_session.scalars(select(Notice.payload).where(Notice.kind == "change"))
    ).first()
    assert set(payload["changes"]) == {"starts_at", "ends_at"}


async def test_drafts_and_meetings_over_get_nothing(db_session) -> None:
    admin = await _admin(db_session)
    service = MeetingService(session=db_session)
    start = datetime.now(UTC) + timedelta(days=1)
    draft = await service.create_meeting(
        province_code=38, title="Nháp", starts_at=start, ends_at=start + timedelta(hours=1)
    )
    points = list(await db_session.scalars(select(ConnectionPoint).limit(2)))
    await service.invite_points(draft, points)
    over = await service.create_meeting(
        province_code=38,
        title="Đã qua",
        starts_at=datetime.now(UTC) - timedelta(days=2),
        ends_at=datetime.now(UTC) - timedelta(days=2, hours=-1),
        status=MeetingStatus.SCHEDULED,
    )
    await service.invite_points(over, points)
    await db_session.commit()
    assert await db_session.scalar(select(func.count()).select_from(Notice)) == 0
    # Scheduling the draft invites its points by notice.
    await service.change_status(draft, admin, "scheduled")
    await db_session.commit()
    assert await _count(db_session, "invitation") == 2


async def test_reminders_follow_the_start_and_vanish_when_cancelled(db_session) -> None:
    admin = await _admin(db_session)
    service, meeting = await _scheduled_meeting(db_session, timedelta(days=3))
    await db_session.commit()
    # A day before the start: the 24-hour reminder, once however often the pass runs.
    day_before = meeting.starts_at - timedelta(hours=23)
    assert await record_due_reminders(db_session, day_before) == 3
    assert await record_due_reminders(db_session, day_before) == 0
    await db_session.commit()
    # Moved two days later: the queued reminders are dropped at send time, new ones come due
    # for the new start.
    moved = meeting.starts_at + timedelta(days=2)
    await service.update_meeting(meeting, admin, MeetingChanges(starts_at=moved))
    await db_session.commit()
    policy = NoticePolicy("http://127.0.0.1:8000", "Asia/Ho_Chi_Minh", "a@b.vn", True, False)
    outbox = Outbox(policy, Transports())
    result = await outbox.deliver_due(db_session, day_before)
    assert result.claimed == 0  # no transport: nothing leaves, but the pass itself works
    assert await record_due_reminders(db_session, moved - timedelta(minutes=59)) == 3
    await db_session.commit()
    payloads = list(
        await db_session.scalars(select(Notice.payload).where(Notice.kind == "reminder"))
    )
    new = [p for p in payloads if p["lead_minutes"] == 60]
    assert len(new) == 3 and {p["starts_at"] for p in new} == {moved.isoformat()}
    # Cancelled: no reminder is due any more.
    await service.change_status(meeting, admin, "cancelled", "Hoãn")
    await db_session.commit()
    assert await record_due_reminders(db_session, moved - timedelta(minutes=30)) == 0
    assert await db_session.scalar(select(func.count()).select_from(NoticeDelivery)) > 0


async def _reminders(session) -> list[dict]:
    return list(await session.scalars(select(Notice.payload).where(Notice.kind == "reminder")))


async def _reminder_deliveries(session) -> int:
    query = (
        select(func.count())
        .select_from(NoticeDelivery)
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(Notice.kind == "reminder")
    )
    return int(await session.scalar(query) or 0)


async def test_a_meeting_sets_its_own_reminders(db_session) -> None:
    admin = await _admin(db_session)
    service, meeting = await _scheduled_meeting(db_session, timedelta(days=3))
    await service.update_meeting(meeting, admin, MeetingChanges(reminders=[15, 180]))
    await db_session.commit()
    assert meeting.reminders == [180, 15]
    start = meeting.starts_at
    # Not a day before, nor an hour before: three hours, then a quarter of an hour.
    assert await record_due_reminders(db_session, start - timedelta(hours=23)) == 0
    assert await record_due_reminders(db_session, start - timedelta(minutes=179)) == 3
    assert await record_due_reminders(db_session, start - timedelta(minutes=59)) == 0
    assert await record_due_reminders(db_session, start - timedelta(minutes=14)) == 3
    await db_session.commit()
    assert sorted({p["lead_minutes"] for p in await _reminders(db_session)}) == [15, 180]
    # None at all: nothing is due any more.
    await service.update_meeting(meeting, admin, MeetingChanges(reminders=[]))
    await db_session.commit()
    assert await record_due_reminders(db_session, start - timedelta(minutes=10)) == 0


async def test_a_removed_lead_and_a_meeting_over_send_nothing(db_session) -> None:
    admin = await _admin(db_session)
    service, meeting = await _scheduled_meeting(db_session, timedelta(days=3))
    await db_session.commit()
    start = meeting.starts_at
    assert await record_due_reminders(db_session, start - timedelta(hours=23)) == 3
    await db_session.commit()
    # The 24-hour reminder is taken off before it leaves: it is dropped, not sent.
    await service.update_meeting(meeting, admin, MeetingChanges(reminders=[60]))
    await db_session.commit()
    policy = NoticePolicy("http://127.0.0.1:8000", "Asia/Ho_Chi_Minh", "a@b.vn", True, False)
    nowhere = Transports(email=SmtpTransport("smtp://127.0.0.1:9", "a@b.vn"))
    result = await Outbox(policy, nowhere).deliver_due(db_session, start - timedelta(hours=22))
    assert (result.dropped, result.delivered) == (3, 0)  # the invitations are tried, not these
    assert await _reminder_deliveries(db_session) == 0
    # The hour-before reminder is recorded, then the meeting is over before it leaves.
    assert await record_due_reminders(db_session, start - timedelta(minutes=59)) == 3
    await db_session.commit()
    after = meeting.ends_at + timedelta(minutes=1)
    assert await _reminder_deliveries(db_session) == 3
    result = await Outbox(policy, nowhere).deliver_due(db_session, after)
    assert result.delivered == 0 and await _reminder_deliveries(db_session) == 0
    # Nor is anything recorded for a meeting already under way or over.
    assert await record_due_reminders(db_session, start + timedelta(minutes=1)) == 0
    assert await record_due_reminders(db_session, after) == 0


async def test_reminders_keep_the_default_unless_set(db_session) -> None:
    admin = await _admin(db_session)
    service, meeting = await _scheduled_meeting(db_session, timedelta(days=3))
    assert meeting.reminder_minutes is None and meeting.reminders == [1440, 60]
    sequence = meeting.sequence
    # Ticking the default stores nothing of its own; another choice is in the log, but no
    # calendar subscriber sees it (no new SEQUENCE).
    await service.update_meeting(meeting, admin, MeetingChanges(reminders=[60, 1440]))
    assert meeting.reminder_minutes is None
    await service.update_meeting(meeting, admin, MeetingChanges(reminders=[30]))
    assert meeting.reminder_minutes == [30] and meeting.sequence == sequence
    await service.update_meeting(meeting, admin, MeetingChanges(reminders_default=True))
    assert meeting.reminder_minutes is None
    for wrong in ([2], [20_000], [10, 20, 30, 40, 50]):
        with pytest.raises(InvalidInputError) as refused:
            await service.update_meeting(meeting, admin, MeetingChanges(reminders=wrong))
        assert refused.value.field == "reminder_minutes"
