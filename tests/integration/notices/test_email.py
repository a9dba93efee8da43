"""E-mail notices against a real SMTP server (aiosmtpd): the demo's 166 invitations of Thanh
Hóa, each with an iTIP part the calendar tests' parsers read with the feed's UID and SEQUENCE;
a reschedule, one change notice per point with SEQUENCE + 1; a cancellation, METHOD:CANCEL.
Refused and missing addresses end `failed` with the reason, and nothing else is lost."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from confhub.db.engine import create_engine, session_maker
from confhub.meetings.models import Invitation
from confhub.notices.models import NoticeDelivery
from confhub.points.contacts import Contacts
from confhub.points.models import ConnectionPoint
from confhub.points.services import save_contacts
from tests.conftest import login
from tests.helpers.receivers import calendar_part, smtp_server
from tests.integration.calendar.parsers import with_ical, with_icalendar
from tests.integration.notices.conftest import outbox_rows, wait_for

pytestmark = pytest.mark.integration


def address(unit_code: int | None) -> str:
    """The directory e-mail the test gives a unit's point."""
    return f"ubnd.{unit_code}@thanhhoa.gov.vn"


def fill_directory(
    database_url: str, meeting_id: int, without: int | None = None
) -> dict[int, str]:
    """Give every invited point of the meeting an e-mail in the directory (`without`'s unit an
    entry without one); each point's address by point id."""

    async def fill() -> dict[int, str]:
        engine = create_engine(database_url)
        try:
            async with session_maker(engine)() as session, session.begin():
                rows = await session.execute(
                    select(ConnectionPoint.id, ConnectionPoint.unit_code)
                    .join(Invitation, Invitation.point_id == ConnectionPoint.id)
                    .where(Invitation.meeting_id == meeting_id)
                )
                addresses = {}
                for point_id, unit_code in rows:
                    if unit_code == without:  # no e-mail in its entry (the demo gives one)
                        await save_contacts(
                            session, Contacts(point_id, chair_name="Chủ tịch"), None
                        )
                        continue
                    addresses[point_id] = address(unit_code)
                    contacts = Contacts(
                        point_id,
                        chair_name="Chủ tịch",
                        phones=(f"09{unit_code or 0:08d}",),
                        email=addresses[point_id],
                    )
                    await save_contacts(session, contacts, None)
                return addresses
        finally:
            await engine.dispose()

    return asyncio.run(fill())


def sequence_of(message) -> int:
    """The SEQUENCE of the message's iTIP event."""
    (event,) = with_icalendar(calendar_part(message)[1])
    return event.sequence


def test_the_166_invitations_then_a_reschedule_then_the_cancellation(
    make_client, demo_seed, demo_db
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    addresses = fill_directory(demo_db, meeting_id)
    assert len(addresses) == 166
    with smtp_server() as (url, inbox):
        client = make_client(smtp_url=url, mail_from="giaymoi@thanhhoa.gov.vn")
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        # The demo scheduled the meeting with its 166 points: their invitations were recorded
        # then, and this app's worker sends them.
        wait_for(lambda: len(inbox.by_message_id()) >= 166, "166 invitations", timeout=120)
        feed = icalendar.Calendar.from_ical(
            client.get(f"/calendar/meetings/{meeting_id}.ics").content
        )
        feed_event = feed.walk("VEVENT")[0]
        uid, sequence = str(feed_event["UID"]), int(feed_event["SEQUENCE"])
        received = inbox.by_message_id()
        assert all(len(copies) == 1 for copies in received.values())
        recipients = set()
        for (message,) in received.values():
            method, body = calendar_part(message)
            assert method == "REQUEST"
            assert b"METHOD:REQUEST" in body
            for parse in (with_icalendar, with_ical):
                (event,) = parse(body)
                assert (event.uid, event.sequence) == (uid, sequence)
            vevent = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
            attendee = str(vevent["ATTENDEE"])
            assert attendee == f"mailto:{message['To'].addresses[0].addr_spec}"
            recipients.add(attendee.removeprefix("mailto:"))
            assert message["Subject"]
        assert recipients == set(addresses.values())
        wait_for(
            lambda: {r.state for r in outbox_rows(demo_db, meeting_id)} == {"delivered"},
            "every delivery recorded as delivered",
        )
        points = client.get(f"/api/v1/meetings/{meeting_id}/points?limit=500").json()["items"]
        assert {p["notice_state"] for p in points} == {"delivered"}

        # A reschedule: one change notice per point, SEQUENCE + 1, old → new in the text.
        meeting = client.get(f"/api/v1/meetings/{meeting_id}").json()
        new_start = datetime.fromisoformat(meeting["starts_at"]) + timedelta(days=1)
        response = client.patch(
            f"/api/v1/meetings/{meeting_id}", json={"starts_at": new_start.isoformat()}
        )
        assert response.status_code == 200, response.text
        wait_for(lambda: len(inbox.by_message_id()) >= 332, "166 change notices", timeout=120)
        changes = [m for (m,) in inbox.by_message_id().values() if sequence_of(m) == sequence + 1]
        assert len(changes) == 166
        text = changes[0].get_body(("plain",)).get_content()
        assert "→" in text
        (event,) = with_icalendar(calendar_part(changes[0])[1])
        assert event.start == new_start

        # The cancellation: METHOD:CANCEL, STATUS:CANCELLED, to every point.
        response = client.post(
            f"/api/v1/meetings/{meeting_id}/status",
            json={"status": "cancelled", "reason": "Bão số 6"},
        )
        assert response.status_code == 200, response.text
        wait_for(lambda: len(inbox.by_message_id()) >= 498, "166 cancellations", timeout=120)
        cancels = [m for (m,) in inbox.by_message_id().values() if calendar_part(m)[0] == "CANCEL"]
        assert len(cancels) == 166
        for message in cancels:
            body = calendar_part(message)[1]
            assert b"METHOD:CANCEL" in body
            (event,) = with_ical(body)
            assert event.status == "CANCELLED"
            assert event.uid == uid
        assert len(inbox.by_message_id()) == 498  # nothing twice


def test_a_refused_recipient_and_a_missing_address_fail_with_their_reason(
    make_client, demo_seed, demo_db
) -> None:
    from tests.integration.notices.conftest import new_meeting

    with smtp_server() as (url, inbox):
        client = make_client(smtp_url=url)
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        meeting_id, by_unit = new_meeting(client, units=[15148, 14797, 16522], schedule=False)
        addresses = set(fill_directory(demo_db, meeting_id, without=16522).values())
        inbox.refused.add(address(14797))
        response = client.post(
            f"/api/v1/meetings/{meeting_id}/status", json={"status": "scheduled"}
        )
        assert response.status_code == 200
        wait_for(
            lambda: all(
                r.state in ("delivered", "failed") for r in outbox_rows(demo_db, meeting_id)
            ),
            "every delivery settled",
        )
        rows = {r.point_id: r for r in outbox_rows(demo_db, meeting_id)}
        assert rows[by_unit[15148]].state == "delivered"
        assert rows[by_unit[14797]].state == "failed"
        assert "550" in (rows[by_unit[14797]].last_error or "")
        assert rows[by_unit[16522]].state == "failed"
        assert rows[by_unit[16522]].last_error == "No e-mail address"
        points = client.get(f"/api/v1/meetings/{meeting_id}/points").json()["items"]
        states = {p["unit_code"]: p["notice_state"] for p in points}
        assert states == {15148: "delivered", 14797: "failed", 16522: "failed"}
        # Only the meeting's one deliverable message arrived (the demo's own invitations, sent
        # by this app's worker too, go to the demo's mailboxes).
        assert len([m for rcpts, m in inbox.messages if set(rcpts) & addresses]) == 1
        # The secretariat's points page and board say why, in their words; a delivered
        # invitation waits for its answer.
        page = client.get(f"/meetings/{meeting_id}/points", headers={"Accept": "text/html"})
        cell = {unit: _notice_cell(page.text, point) for unit, point in by_unit.items()}
        assert cell[15148] == "Đã gửi đến · chưa trả lời"
        assert cell[16522] == "Gửi không được: Chưa có địa chỉ thư điện tử"
        assert cell[14797].startswith("Gửi không được: ") and "550" in cell[14797]
        board = client.get(f"/api/v1/meetings/{meeting_id}/attendance").json()["points"]
        failures = {p["point_id"]: p["notice_failure"] for p in board}
        assert failures[by_unit[16522]] == "No e-mail address"
        assert failures[by_unit[15148]] is None


def _notice_cell(page: str, point_id: int) -> str:
    """The words of one point's notice cell on the points page."""
    match = re.search(
        rf'data-notice-point="{point_id}">.*?data-field="notice">([^<]*)</span>', page, re.S
    )
    assert match, point_id
    return html.unescape(match.group(1)).strip()


async def test_an_unreachable_mail_server_keeps_the_messages_queued_with_the_reason(
    db_session,
) -> None:
    from confhub.notices.outbox import Outbox
    from confhub.notices.policy import NoticePolicy
    from confhub.notices.worker import transports_of
    from confhub.settings import Settings
    from tests.conftest import free_port
    from tests.integration.notices.test_recording import _admin, _scheduled_meeting

    await _admin(db_session)
    _service, meeting = await _scheduled_meeting(db_session, timedelta(days=2), points=2)
    point_ids = await recording_points(db_session, meeting.id)
    for point_id in point_ids:
        await save_contacts(db_session, Contacts(point_id, email=f"p{point_id}@example.vn"), None)
    await db_session.commit()
    settings = Settings(database_url="sqlite://", smtp_url=f"smtp://127.0.0.1:{free_port()}")
    outbox = Outbox(NoticePolicy.of(settings), transports_of(settings))
    result = await outbox.deliver_due(db_session)
    assert (result.claimed, result.delivered, result.retried) == (2, 0, 2)
    rows = list(await db_session.scalars(select(NoticeDelivery)))
    assert {r.state for r in rows} == {"queued"}  # nothing lost: tried again later
    assert all("SMTP server 127.0.0.1" in (r.last_error or "") for r in rows)
    assert all(r.next_attempt_at > r.updated_at - timedelta(seconds=1) for r in rows)


async def recording_points(session, meeting_id: int) -> list[int]:
    from confhub.notices.recording import invited_point_ids

    return await invited_point_ids(session, meeting_id)


def test_the_emailed_invitation_carries_how_to_join(make_client, demo_seed, demo_db) -> None:
    from tests.integration.notices.conftest import new_meeting

    room = "https://meet.thanhhoa.gov.vn/hoi-nghi-quy-iv"
    with smtp_server() as (url, inbox):
        client = make_client(smtp_url=url)
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        meeting_id, _ = new_meeting(client, units=[15148], schedule=False)
        response = client.patch(
            f"/api/v1/meetings/{meeting_id}",
            json={"conference_url": room, "technician_phone": "0912345678"},
        )
        assert response.status_code == 200, response.text
        (address,) = fill_directory(demo_db, meeting_id).values()
        response = client.post(
            f"/api/v1/meetings/{meeting_id}/status", json={"status": "scheduled"}
        )
        assert response.status_code == 200

        def to_the_point() -> list:
            return [m for rcpts, m in list(inbox.messages) if rcpts == [address]]

        wait_for(lambda: len(to_the_point()) >= 1, "the invitation")
        (message,) = to_the_point()
        vevent = icalendar.Calendar.from_ical(calendar_part(message)[1]).walk("VEVENT")[0]
        assert str(vevent["CONFERENCE"]) == room
        assert room in str(vevent["DESCRIPTION"])
        text = message.get_body(("plain",)).get_content()
        assert room in text and "0912345678" in text
