"""A unit's editors are told by e-mail that a draft waits for their review (issue #17, item 2),
through the notices' outbox: a real SMTP server (aiosmtpd) receives one message per editor of
each new draft, with a link that opens that draft for its editor; a draft rewritten by a late
roll-call answer is not told again; an absent unit (no draft) gets nothing; a draft removed
before its message left withdraws it; the outbox page shows these messages too."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import CHAIR_EMAIL, DemoSeed
from tests.conftest import login
from tests.helpers.accounts import PASSWORD, create_accounts
from tests.helpers.receivers import smtp_server
from tests.integration.news.conftest import write_and_publish
from tests.integration.notices.conftest import Row, outbox_rows, wait_for

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
CAM_TU = 15148
CAM_TU_EDITOR = "bientap.camtu@thanhhoa.gov.vn"
SILENT_EDITOR = "bientap.chuadiemdanh@thanhhoa.gov.vn"
ABSENT_EDITOR = "bientap.vang@thanhhoa.gov.vn"
LINK = re.compile(r"https?://\S+/articles/(\d+)/edit")


def roll_call(client: TestClient[Litestar], meeting: int) -> dict[str, list[dict]]:
    """The meeting's unit points by roll-call status."""
    points = client.get(f"/api/v1/meetings/{meeting}/attendance").json()["points"]
    found: dict[str, list[dict]] = {}
    for point in points:
        if point["unit_code"] is not None:
            found.setdefault(point["status"], []).append(point)
    return found


def draft_rows(database_url: str, meeting: int) -> list[Row]:
    """The meeting's deliveries of drafts' notices."""
    return [r for r in outbox_rows(database_url, meeting) if r.kind == "draft_review"]


def unit_draft(client: TestClient[Litestar], meeting: int, unit: int) -> dict | None:
    """The unit's article of the meeting, as the secretariat sees it."""
    items = client.get("/api/v1/articles", params={"meeting": meeting, "limit": 500}).json()
    return next((a for a in items["items"] if a["unit_code"] == unit), None)


def check_in(client: TestClient[Litestar], meeting: int, point_id: int, key: str, **answer) -> None:
    """The secretariat records (or corrects) a point's roll-call answer."""
    response = client.post(
        f"/api/v1/meetings/{meeting}/checkins",
        json={"point_id": point_id, "idempotency_key": key, **answer},
    )
    assert response.status_code == 201, response.text


def test_each_new_drafts_editors_get_one_email_whose_link_opens_it(
    make_client: Callable[..., TestClient[Litestar]], demo_seed: DemoSeed, demo_db: str
) -> None:
    meeting = demo_seed.past_meeting_id
    with smtp_server() as (url, inbox):
        client = make_client(smtp_url=url)
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        points = roll_call(client, meeting)
        silent, absent = points["pending"][0], points["absent"][0]
        create_accounts(
            demo_db,
            [
                (CAM_TU_EDITOR, "editor", {"unit_code": CAM_TU}),
                (SILENT_EDITOR, "editor", {"unit_code": silent["unit_code"]}),
                (ABSENT_EDITOR, "editor", {"unit_code": absent["unit_code"]}),
            ],
        )
        write_and_publish(client, meeting)
        # Cẩm Tú (present) has two editors, its editor and its chair's account; the silent
        # unit's editor is asked to confirm; the absent unit has no draft and no message.
        told = {CAM_TU_EDITOR, CHAIR_EMAIL, SILENT_EDITOR}

        def mails() -> dict[str, list[Message]]:
            found: dict[str, list[Message]] = {}
            for rcpts, message in list(inbox.messages):
                for rcpt in rcpts:
                    if rcpt in told | {ABSENT_EDITOR}:
                        found.setdefault(rcpt, []).append(message)
            return found

        wait_for(lambda: set(mails()) == told, "a message to each editor of a new draft")
        wait_for(
            lambda: {r.state for r in draft_rows(demo_db, meeting)} == {"delivered"},
            "the drafts' notices recorded as delivered",
        )
        rows = draft_rows(demo_db, meeting)
        assert sorted(r.recipient for r in rows) == sorted(told)
        assert {r.point_id for r in rows if r.recipient == SILENT_EDITOR} == {silent["point_id"]}
        received = mails()
        assert all(len(copies) == 1 for copies in received.values())

        cam_tu = unit_draft(client, meeting, CAM_TU)
        assert cam_tu is not None and cam_tu["state"] == "draft"
        (message,) = received[CAM_TU_EDITOR]
        assert message["Subject"] == f"Bản nháp chờ duyệt: {cam_tu['title']}"
        assert [p.get_content_type() for p in message.walk() if not p.is_multipart()] == [
            "text/plain"
        ]  # a held meeting: no calendar part
        text = message.get_body(("plain",)).get_content()
        assert "Xã Cẩm Tú" in text
        assert "kiểm tra bản nháp và đăng" in text
        link = LINK.search(text)
        assert link is not None and int(link.group(1)) == cam_tu["id"]
        silent_text = received[SILENT_EDITOR][0].get_body(("plain",)).get_content()
        assert "chưa điểm danh" in silent_text
        silent_link = LINK.search(silent_text)
        silent_draft = unit_draft(client, meeting, silent["unit_code"])
        assert silent_draft is not None and silent_draft["state"] == "needs_confirmation"
        assert silent_link is not None and int(silent_link.group(1)) == silent_draft["id"]

        # The link opens the draft for its editor; another unit's editor may not open it.
        editor = make_client(smtp_url=url)
        login(editor, CAM_TU_EDITOR, PASSWORD)
        page = editor.get(urlsplit(link.group(0)).path, headers=HTML)
        assert page.status_code == 200
        assert cam_tu["title"] in page.text
        stranger = make_client(smtp_url=url)
        login(stranger, SILENT_EDITOR, PASSWORD)
        assert stranger.get(urlsplit(link.group(0)).path, headers=HTML).status_code == 403

        # The silent point answers late: its draft is rewritten, not told of again.
        check_in(
            client,
            meeting,
            silent["point_id"],
            "late",
            status="present",
            delegates_present=12,
            presiding_name="Lê Văn Hùng",
        )
        write_and_publish(client, meeting)
        rewritten = unit_draft(client, meeting, silent["unit_code"])
        assert rewritten is not None and rewritten["id"] == silent_draft["id"]
        assert rewritten["state"] == "draft" and "Lê Văn Hùng" in rewritten["body"]
        assert [r.delivery_id for r in draft_rows(demo_db, meeting)] == [
            r.delivery_id for r in rows
        ]


def test_a_removed_draft_withdraws_its_message_and_the_outbox_shows_them(
    make_client: Callable[..., TestClient[Litestar]], demo_seed: DemoSeed, demo_db: str
) -> None:
    """Without a mail server the messages wait on the outbox page, as they would be sent."""
    meeting = demo_seed.past_meeting_id
    client = make_client()
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    create_accounts(demo_db, [(CAM_TU_EDITOR, "editor", {"unit_code": CAM_TU})])
    cam_tu_point = next(
        p for p in roll_call(client, meeting)["present"] if p["unit_code"] == CAM_TU
    )
    write_and_publish(client, meeting)
    first = unit_draft(client, meeting, CAM_TU)
    assert first is not None
    rows = draft_rows(demo_db, meeting)
    assert sorted(r.recipient for r in rows) == sorted([CAM_TU_EDITOR, CHAIR_EMAIL])
    assert {r.state for r in rows} == {"queued"}

    outbox = client.get("/outbox", headers=HTML).text
    assert outbox.count("Bản nháp chờ duyệt</a>") == 2
    assert CAM_TU_EDITOR in outbox
    shown = next(r for r in rows if r.recipient == CAM_TU_EDITOR)
    message = client.get(f"/outbox/{shown.delivery_id}", headers=HTML)
    assert message.status_code == 200
    assert f"/articles/{first['id']}/edit" in message.text
    assert "Phần lịch" not in message.text  # no calendar part to show
    assert client.get(f"/outbox/{shown.delivery_id}/invite.ics").status_code == 404

    # Corrected to absent: the untouched draft goes, and its messages with it.
    check_in(client, meeting, cam_tu_point["point_id"], "gone", status="absent", reason="Mất điện")
    write_and_publish(client, meeting)
    assert unit_draft(client, meeting, CAM_TU) is None
    withdrawn = draft_rows(demo_db, meeting)
    assert {(r.state, r.last_error) for r in withdrawn} == {
        ("failed", "Not sent: the draft was removed")
    }

    # Present again: a new draft, told of once more.
    check_in(
        client, meeting, cam_tu_point["point_id"], "back", status="present", delegates_present=30
    )
    write_and_publish(client, meeting)
    second = unit_draft(client, meeting, CAM_TU)
    assert second is not None and second["id"] != first["id"]
    fresh = [r for r in draft_rows(demo_db, meeting) if r.state == "queued"]
    assert sorted(r.recipient for r in fresh) == sorted([CAM_TU_EDITOR, CHAIR_EMAIL])
    assert {r.payload["article_id"] for r in fresh} == {second["id"]}
