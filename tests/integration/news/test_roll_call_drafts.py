"""Drafts follow the roll call (issue #17): a present point's unit gets a ready draft naming who
actually presided there (as its chair confirmed or corrected it at check-in, through any door);
an absent one gets no article, its editor an internal note; one that never answered gets a
draft that waits for its editor's confirmation (409 on publishing until then). The review
queue's bulk publishing publishes only the ready drafts, exactly as many as its confirmation
says. The province article is signed by the meeting's convening body."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html import unescape

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.accounts.services import UserService
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from tests.conftest import login
from tests.integration.news.conftest import CAM_TU, HTML, MINUTES, write_and_publish

pytestmark = pytest.mark.integration

ATOM = "{http://www.w3.org/2005/Atom}"


def roll_call_by_unit(client: TestClient[Litestar], meeting: int) -> dict[int, str]:
    """Each invited unit's roll-call status (the demo invites one point per unit)."""
    points = client.get(f"/api/v1/meetings/{meeting}/attendance").json()["points"]
    return {p["unit_code"]: p["status"] for p in points if p["unit_code"] is not None}


def articles_of(client: TestClient[Litestar], meeting: int) -> list[dict]:
    """Every article of the meeting the caller sees."""
    found = client.get("/api/v1/articles", params={"meeting": meeting, "limit": 500}).json()
    items: list[dict] = found["items"]
    return items


def csrf(client: TestClient[Litestar]) -> str:
    """The CSRF token a page gave the client."""
    return str(client.cookies.get("confhub_csrf"))


def test_present_absent_and_silent_points_get_exactly_their_drafts(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    roll_call = roll_call_by_unit(secretariat, meeting)
    present = {code for code, status in roll_call.items() if status == "present"}
    absent = {code for code, status in roll_call.items() if status == "absent"}
    silent = {code for code, status in roll_call.items() if status == "pending"}
    assert (len(present), len(absent), len(silent)) == (156, 6, 4)

    result = write_and_publish(secretariat, meeting)
    assert (result["drafts_created"], result["drafts_waiting"], result["absent_units"]) == (
        160,
        4,
        6,
    )
    units = {a["unit_code"]: a for a in articles_of(secretariat, meeting) if a["unit_code"]}
    assert set(units) == present | silent  # no article at all for an absent point
    assert {code for code, a in units.items() if a["state"] == "draft"} == present
    assert {code for code, a in units.items() if a["state"] == "needs_confirmation"} == silent
    for code in silent:  # claims nothing about a point that never answered
        assert "Chủ trì tại điểm cầu" not in units[code]["body"]
        assert units[code]["roll_call"] == "pending"
    for code in present:
        assert units[code]["presiding_name"], code
        assert units[code]["body"].startswith(("Chủ trì tại điểm cầu", "Tham dự tại điểm cầu"))

    # The unit API answers `state`, as the contract says, and nothing for an absent unit.
    code = next(iter(silent))
    listing = secretariat.get("/api/v1/articles", params={"unit": code}).json()
    assert [a["state"] for a in listing["items"]] == ["needs_confirmation"]
    gone = next(iter(absent))
    assert secretariat.get("/api/v1/articles", params={"unit": gone}).json()["total"] == 0


def test_a_silent_points_draft_is_409_until_its_editor_confirms(
    secretariat: TestClient[Litestar], client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    write_and_publish(secretariat, meeting)
    draft = next(a for a in articles_of(secretariat, meeting) if a["state"] == "needs_confirmation")
    refused = secretariat.post(f"/api/v1/articles/{draft['id']}/publish")
    assert refused.status_code == 409
    assert "never answered the roll call" in refused.json()["detail"]
    assert secretariat.get(f"/api/v1/articles/{draft['id']}").json()["status"] == "draft"

    half = secretariat.patch(f"/api/v1/articles/{draft['id']}", json={"presiding_name": "A"})
    assert half.status_code == 400
    assert half.json()["extra"][0]["key"] == "delegates_present"

    confirmed = secretariat.patch(
        f"/api/v1/articles/{draft['id']}",
        json={
            "presiding_name": "Lê Văn Thành",
            "presiding_position": "Phó Chủ tịch UBND xã",
            "delegates_present": 27,
        },
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["state"] == "draft"
    assert body["body"].startswith("Chủ trì tại điểm cầu")
    assert "đồng chí Lê Văn Thành – Phó Chủ tịch UBND xã; cùng dự có 27 đại biểu" in body["body"]

    # A correction replaces the paragraph rather than adding a second one.
    corrected = secretariat.patch(
        f"/api/v1/articles/{draft['id']}",
        json={"presiding_name": "Lê Thị Hoa", "delegates_present": 30},
    ).json()
    assert corrected["body"].count("Chủ trì tại điểm cầu") == 1
    assert "Lê Thị Hoa" in corrected["body"] and "Lê Văn Thành" not in corrected["body"]

    published = secretariat.post(f"/api/v1/articles/{draft['id']}/publish")
    assert published.status_code == 200
    assert published.json()["state"] == "published"
    public = client.get(published.json()["url"], headers=HTML)
    assert "Lê Thị Hoa" in public.text


def test_the_edit_page_says_why_it_cannot_publish_then_publishes(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    write_and_publish(secretariat, meeting)
    draft = next(a for a in articles_of(secretariat, meeting) if a["state"] == "needs_confirmation")
    page = secretariat.get(f"/articles/{draft['id']}/edit", headers=HTML)
    assert "Chưa điểm danh: chờ xác nhận" in page.text
    fields = {"title": draft["title"], "lead": draft["lead"], "body": draft["body"]}
    refused = secretariat.post(
        f"/articles/{draft['id']}/edit",
        data={**fields, "action": "publish", "_csrf_token": csrf(secretariat)},
        headers=HTML,
    )
    assert refused.status_code == 409
    assert "Bản nháp này đang chờ xác nhận: điểm cầu chưa điểm danh" in refused.text
    done = secretariat.post(
        f"/articles/{draft['id']}/edit",
        data={
            **fields,
            "presiding_name": "Trịnh Văn Nam",
            "presiding_position": "Chủ tịch UBND xã",
            "delegates_present": "19",
            "action": "publish",
            "_csrf_token": csrf(secretariat),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    article = secretariat.get(f"/api/v1/articles/{draft['id']}").json()
    assert article["state"] == "published"
    assert "đồng chí Trịnh Văn Nam – Chủ tịch UBND xã; cùng dự có 19 đại biểu" in article["body"]


def review_sentence(page: str) -> str:
    """The confirmation the bulk publish button asks (its `data-confirm`)."""
    found = re.search(r'data-confirm="([^"]*)"', page)
    assert found, "no confirmation on the bulk publish form"
    return unescape(found.group(1))


def test_bulk_publish_publishes_exactly_what_its_confirmation_says(
    secretariat: TestClient[Litestar], client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    write_and_publish(secretariat, meeting)
    page = secretariat.get(f"/meetings/{meeting}/articles", headers=HTML)
    sentence = review_sentence(page.text)
    assert sentence == (
        "Đăng 156 bài lên 156 trang xã; 4 bài chờ xác nhận; 6 điểm vắng không có bài."
    )
    for heading in ("Có mặt – 156", "Chưa điểm danh – 4", "Vắng – 6"):
        assert heading in page.text
    promised = int(re.match(r"Đăng (\d+) bài", sentence).group(1))  # type: ignore[union-attr]

    # A stale promise publishes nothing and shows the queue again with the new counts.
    stale = secretariat.post(
        f"/meetings/{meeting}/articles/publish-drafts",
        data={"expected": str(promised + 1), "_csrf_token": csrf(secretariat)},
        headers=HTML,
    )
    assert stale.status_code == 409
    assert "nay có 156 bài sẵn sàng, không phải 157" in stale.text
    assert not [a for a in articles_of(secretariat, meeting) if a["state"] == "published"][1:]

    done = secretariat.post(
        f"/meetings/{meeting}/articles/publish-drafts",
        data={"expected": str(promised), "_csrf_token": csrf(secretariat)},
        headers=HTML,
    )
    assert done.status_code == 200
    assert "Đã đăng 156 bản nháp" in done.text or "156" in done.text
    after = secretariat.get(f"/meetings/{meeting}/articles", headers=HTML).text
    assert "Chưa có bản nháp nào sẵn sàng để đăng." in after
    assert "4 bài chờ xác nhận; 6 điểm vắng không có bài" in after
    client.cookies.clear()  # (the secretariat's client) now as the public
    public = [a for a in articles_of(client, meeting) if a["unit_code"]]
    assert len(public) == promised
    assert {a["state"] for a in public} == {"published"}
    assert {a["roll_call"] for a in public} == {"present"}


def test_the_presiding_person_corrected_at_check_in_is_named_in_the_article(
    secretariat: TestClient[Litestar],
    make_client: Callable[[], TestClient[Litestar]],
    demo_seed: DemoSeed,
) -> None:
    meeting = demo_seed.upcoming_meeting_id
    chair = make_client()
    page = chair.get(f"/checkin/{demo_seed.cam_tu_token}", headers=HTML)
    # Prefilled with the invited chair, for the chair to confirm or correct.
    assert 'name="presiding_name"' in page.text
    assert 'value="Phạm Thị Nhàn"' in page.text
    answered = chair.post(
        f"/checkin/{demo_seed.cam_tu_token}",
        data={
            "status": "present",
            "delegates_present": "41",
            "presiding_name": "Lê Đình Hùng",
            "presiding_position": "Phó Bí thư Đảng ủy xã",
            "idempotency_key": "cam-tu-present-1",
            "_csrf_token": csrf(chair),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    shown = chair.get(answered.headers["location"], headers=HTML)
    assert 'value="Lê Đình Hùng"' in shown.text  # what was stored, shown again

    for status in ("live", "ended"):
        moved = secretariat.post(f"/api/v1/meetings/{meeting}/status", json={"status": status})
        assert moved.status_code == 200, moved.text
    write_and_publish(secretariat, meeting, MINUTES)
    article = secretariat.get("/api/v1/articles", params={"unit": CAM_TU, "meeting": meeting})
    (item,) = article.json()["items"]
    assert item["state"] == "draft"
    assert item["body"].startswith(
        "Chủ trì tại điểm cầu xã Cẩm Tú có đồng chí Lê Đình Hùng – Phó Bí thư Đảng ủy xã; "
        "cùng dự có 41 đại biểu tại điểm cầu."
    )
    assert "Phạm Thị Nhàn" not in item["body"]


def test_presiding_fields_through_the_api_and_the_live_channel(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.upcoming_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{meeting}/points", params={"limit": 3}).json()
    first, second = points["items"][0], points["items"][1]
    stored = secretariat.post(
        f"/api/v1/meetings/{meeting}/checkins",
        json={
            "point_id": first["point_id"],
            "status": "present",
            "delegates_present": 12,
            "presiding_name": "  Nguyễn   Văn  A ",
            "presiding_position": "Chủ tịch UBND xã",
            "idempotency_key": "api-1",
        },
    )
    assert stored.status_code == 201, stored.text
    assert stored.json()["presiding_name"] == "Nguyễn Văn A"
    assert stored.json()["presiding_position"] == "Chủ tịch UBND xã"
    bad = secretariat.post(
        f"/api/v1/meetings/{meeting}/checkins",
        json={
            "point_id": first["point_id"],
            "status": "present",
            "delegates_present": 12,
            "presiding_name": "two\nlines",
            "idempotency_key": "api-2",
        },
    )
    assert bad.status_code == 400
    assert bad.json()["extra"][0]["key"] == "presiding_name"
    absent = secretariat.post(
        f"/api/v1/meetings/{meeting}/checkins",
        json={
            "point_id": second["point_id"],
            "status": "absent",
            "reason": "Mất điện",
            "presiding_name": "Không ai",
            "idempotency_key": "api-3",
        },
    ).json()
    assert absent["presiding_name"] is None  # nobody presides at an absent point

    with secretariat.websocket_connect(f"/ws/meetings/{meeting}") as socket:
        assert socket.receive_json()["type"] == "snapshot"
        socket.send_json(
            {
                "type": "checkin",
                "point_id": second["point_id"],
                "status": "present",
                "delegates_present": 8,
                "presiding_name": "Trần Thị B",
                "presiding_position": "Phó Chủ tịch UBND xã",
                "idempotency_key": "ws-1",
            }
        )
        while (message := socket.receive_json())["type"] != "ack":
            pass
    assert message["idempotency_key"] == "ws-1"
    repeat = secretariat.post(
        f"/api/v1/meetings/{meeting}/checkins",
        json={
            "point_id": second["point_id"],
            "status": "present",
            "delegates_present": 8,
            "idempotency_key": "ws-1",
        },
    )
    assert repeat.status_code == 200  # the answer stored through the socket
    assert repeat.json()["presiding_name"] == "Trần Thị B"


def test_generated_bodies_stay_clean_whatever_the_chair_typed(
    secretariat: TestClient[Litestar], client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{meeting}/attendance").json()["points"]
    silent = next(p for p in points if p["status"] == "pending" and p["unit_code"])
    typed = "<b>Ông</b> <script>alert(1)</script> [x](javascript:alert(1))"
    answered = secretariat.post(
        f"/api/v1/meetings/{meeting}/checkins",
        json={
            "point_id": silent["point_id"],
            "status": "present",
            "delegates_present": 5,
            "presiding_name": typed,
            "idempotency_key": "late-answer",
        },
    )
    assert answered.status_code == 201, answered.text
    write_and_publish(secretariat, meeting)
    (article,) = secretariat.get(
        "/api/v1/articles", params={"unit": silent["unit_code"], "meeting": meeting}
    ).json()["items"]
    assert article["state"] == "draft"  # the late answer made it ready
    published = secretariat.post(f"/api/v1/articles/{article['id']}/publish").json()
    for html in (published["html"], client.get(published["url"], headers=HTML).text):
        assert "<script>alert" not in html
        assert "<b>Ông</b>" not in html
        assert 'href="javascript:' not in html
    page = client.get(published["url"], headers=HTML).text
    # Nor as literal tags: text that looks like a tag loses its `<` (confhub.news.markdown).
    assert "&lt;b&gt;" not in page and "&lt;script&gt;" not in page
    assert "Ông" in page


def test_the_convening_body_signs_the_province_article(
    secretariat: TestClient[Litestar], client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    province = write_and_publish(secretariat, meeting)["province_article"]
    assert province["byline"] == "Thường trực Tỉnh ủy Thanh Hóa"
    page = client.get(province["url"], headers=HTML).text
    source = re.search(r'<p class="article-source">([^<]*)</p>', page)
    assert source and source.group(1) == "Thường trực Tỉnh ủy Thanh Hóa"
    assert "Ủy ban nhân dân tỉnh" not in source.group(1)
    assert '<span class="byline">Thường trực Tỉnh ủy Thanh Hóa</span>' in page

    feed = ET.fromstring(client.get("/news/feed.atom").content)
    (entry,) = [e for e in feed.iter(ATOM + "entry") if e.findtext(ATOM + "title")]
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Thường trực Tỉnh ủy Thanh Hóa"


def test_another_convening_body_signs_its_meeting_and_leads_every_article(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.upcoming_meeting_id
    changed = secretariat.patch(
        f"/api/v1/meetings/{meeting}", json={"convening_body": "Ban Thường vụ Tỉnh ủy Thanh Hóa"}
    )
    assert changed.status_code == 200, changed.text
    for status in ("live", "ended"):
        secretariat.post(f"/api/v1/meetings/{meeting}/status", json={"status": status})
    province = write_and_publish(secretariat, meeting)["province_article"]
    assert province["byline"] == "Ban Thường vụ Tỉnh ủy Thanh Hóa"
    assert ", Ban Thường vụ Tỉnh ủy Thanh Hóa tổ chức" in province["lead"]
    units = secretariat.get("/api/v1/articles", params={"meeting": meeting, "limit": 500}).json()[
        "items"
    ]
    assert all(", Ban Thường vụ Tỉnh ủy Thanh Hóa tổ chức" in a["lead"] for a in units)
    assert all(a["byline"] is None for a in units if a["unit_code"])  # the commune's own body


def test_a_commune_editor_is_told_of_drafts_and_absences_on_signing_in(
    secretariat: TestClient[Litestar],
    make_client: Callable[[], TestClient[Litestar]],
    demo_seed: DemoSeed,
    demo_db: str,
) -> None:
    meeting = demo_seed.past_meeting_id
    write_and_publish(secretariat, meeting)
    chair = make_client()
    login(chair, demo_seed.chair_email, demo_seed.chair_password)
    home = chair.get("/", headers=HTML).text
    assert "Bản nháp chờ duyệt: 1" in home
    assert f'href="/units/{CAM_TU}/news"' in home
    assert "Bản nháp chờ duyệt" in chair.get(f"/units/{CAM_TU}/news", headers=HTML).text

    # An absent unit's editor: no draft, an internal note on its own news page.
    roll_call = roll_call_by_unit(secretariat, meeting)
    gone = next(code for code, status in roll_call.items() if status == "absent")
    password = "a long editor password"

    async def create() -> None:
        engine = create_engine(demo_db)
        try:
            async with session_maker(engine)() as session, session.begin():
                await UserService(session=session).create_user(
                    email="bt@example.gov.vn", password=password, role="editor", unit_code=gone
                )
        finally:
            await engine.dispose()

    asyncio.run(create())
    editor = make_client()
    login(editor, "bt@example.gov.vn", password)
    assert "Bản nháp chờ duyệt" not in editor.get("/", headers=HTML).text
    news = editor.get(f"/units/{gone}/news", headers=HTML).text
    assert "Ghi chú nội bộ: hội nghị không có tin bài" in news
    assert "Hội nghị trực tuyến đánh giá hoạt động" in news
