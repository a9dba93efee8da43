"""Publishing the minutes of the seeded 10 Sept meeting: the province's article and one draft per
invited unit that was not absent (156 present, 4 never answered, 6 absent), Cẩm Tú's naming its
chair and delegates; editing and publishing by each unit's
editors; republishing that never silently changes a published unit article."""

from __future__ import annotations

import asyncio
import time

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.accounts.services import UserService
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from tests.conftest import login
from tests.integration.news.conftest import (
    CAM_TU,
    HTML,
    MINUTES,
    cam_tu_article,
    jpeg_bytes,
    write_and_publish,
)

pytestmark = pytest.mark.integration

HAC_THANH = 14797


def test_publishing_makes_one_province_article_and_160_drafts(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.post(
        f"/api/v1/meetings/{meeting}/minutes/photos",
        data={"caption": "Quang cảnh hội nghị"},
        files={"data": ("p.jpg", jpeg_bytes(), "image/jpeg")},
    )
    started = time.perf_counter()
    result = write_and_publish(secretariat, meeting)
    elapsed = time.perf_counter() - started
    assert elapsed < 3, f"publishing took {elapsed:.2f} s"
    assert (result["drafts_created"], result["drafts_regenerated"], result["articles_kept"]) == (
        160,
        0,
        0,
    )
    assert (result["drafts_waiting"], result["absent_units"]) == (4, 6)
    province = result["province_article"]
    assert province["status"] == "published"
    assert province["unit_code"] is None
    assert province["slug"].startswith("hoi-nghi-truc-tuyen-danh-gia-hoat-dong-chinh-quyen")
    assert province["url"] == f"/news/{province['slug']}"
    assert province["lead"].startswith(
        "Chiều 10/9, Thường trực Tỉnh ủy Thanh Hóa tổ chức hội nghị trực tuyến đánh giá"
    )
    assert "kết nối trực tuyến đến 166 xã, phường" in province["lead"]
    assert "156/166 điểm cầu tham dự với tổng số 4.247 đại biểu" in province["body"]
    assert province["figures"][0]["caption"] == "Quang cảnh hội nghị"

    listing = secretariat.get("/api/v1/articles", params={"meeting": meeting, "limit": 500})
    items = listing.json()["items"]
    assert listing.json()["total"] == 161
    drafts = [a for a in items if a["status"] == "draft"]
    assert len(drafts) == 160
    assert len({a["unit_code"] for a in drafts}) == 160
    assert all(a["url"] is None for a in drafts)
    assert {a["slug"] for a in items} == {province["slug"]}  # unique per site, not globally


def test_cam_tus_draft_names_its_chair_and_delegates(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    article = cam_tu_article(secretariat)
    assert article["status"] == "draft"
    assert article["title"].startswith("Hội nghị trực tuyến đánh giá hoạt động")
    assert article["lead"].startswith("Chiều 10/9, Thường trực Tỉnh ủy Thanh Hóa tổ chức")
    assert article["body"].startswith(
        "Chủ trì tại điểm cầu xã Cẩm Tú có đồng chí Phạm Thị Nhàn – Bí thư Đảng uỷ, Chủ tịch "
        "HĐND xã; cùng dự có 32 đại biểu tại điểm cầu."
    )
    assert "Nguyễn Doãn Anh" in article["body"]
    assert "Hội nghị đã nghe báo cáo" in article["body"]  # the shared body
    assert "<h3>Nội dung hội nghị</h3>" in article["html"]


def test_no_article_announces_a_units_absence(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    items = secretariat.get(
        "/api/v1/articles", params={"meeting": demo_seed.past_meeting_id, "limit": 500}
    ).json()["items"]
    assert not [a for a in items if "vắng mặt tại hội nghị" in a["body"]]


def test_drafts_are_seen_only_by_their_editors(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    client: TestClient[Litestar],
    make_client: object,
    demo_seed: DemoSeed,
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    mine = cam_tu_chair.get("/api/v1/articles", params={"status": "draft"}).json()
    assert mine["total"] == 1
    assert mine["items"][0]["unit_code"] == CAM_TU
    other = secretariat.get("/api/v1/articles", params={"unit": HAC_THANH}).json()["items"][0]
    assert cam_tu_chair.get(f"/api/v1/articles/{other['id']}").status_code == 403
    assert (
        cam_tu_chair.patch(f"/api/v1/articles/{other['id']}", json={"lead": "x"}).status_code == 403
    )
    assert cam_tu_chair.post(f"/api/v1/articles/{other['id']}/publish").status_code == 403
    client.cookies.clear()
    anonymous = client.get("/api/v1/articles", params={"unit": CAM_TU}).json()
    assert anonymous["total"] == 0
    assert client.get(f"/api/v1/articles/{other['id']}").status_code == 401
    province = client.get("/api/v1/articles").json()
    assert [a["unit_code"] for a in province["items"]] == [None]


def test_the_unit_editor_edits_and_publishes_its_draft(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    client: TestClient[Litestar],
    demo_seed: DemoSeed,
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    draft = cam_tu_article(cam_tu_chair)
    edited = cam_tu_chair.patch(
        f"/api/v1/articles/{draft['id']}",
        json={"title": "Xã Cẩm Tú dự hội nghị trực tuyến của Tỉnh ủy", "featured": True},
    )
    assert edited.status_code == 200
    assert edited.json()["edited_at"] is not None
    assert edited.json()["revised_at"] is None  # not published yet: no "updated" line
    published = cam_tu_chair.post(f"/api/v1/articles/{draft['id']}/publish").json()
    assert published["status"] == "published"
    assert published["url"] == f"/units/{CAM_TU}/news/{draft['slug']}"
    # The slug stays what it was (links already shared keep working).
    client.cookies.clear()
    page = client.get(published["url"], headers=HTML)
    assert page.status_code == 200
    assert "Xã Cẩm Tú dự hội nghị trực tuyến của Tỉnh ủy" in page.text


def test_an_editor_account_edits_only_its_units_articles(
    secretariat: TestClient[Litestar],
    make_client: object,
    demo_db: str,
    demo_seed: DemoSeed,
) -> None:
    async def create() -> None:
        engine = create_engine(demo_db)
        try:
            async with session_maker(engine)() as session, session.begin():
                await UserService(session=session).create_user(
                    email="bientap@camtu.example",
                    password="a-long-password-1",
                    role="editor",
                    unit_code=CAM_TU,
                )
        finally:
            await engine.dispose()

    asyncio.run(create())
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    assert callable(make_client)
    editor = make_client()
    login(editor, "bientap@camtu.example", "a-long-password-1")
    me = editor.get("/api/v1/auth/me").json()
    assert (me["role"], me["unit_code"], me["province_code"]) == ("editor", CAM_TU, 38)
    draft = cam_tu_article(editor)
    assert editor.post(f"/api/v1/articles/{draft['id']}/publish").status_code == 200
    other = secretariat.get("/api/v1/articles", params={"unit": HAC_THANH}).json()["items"][0]
    assert editor.post(f"/api/v1/articles/{other['id']}/publish").status_code == 403
    # An editor answers no roll call and changes no meeting.
    assert (
        editor.put(
            f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes", json={"markdown": "x"}
        ).status_code
        == 403
    )


def test_republishing_never_silently_changes_a_published_unit_article(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    demo_seed: DemoSeed,
) -> None:
    meeting = demo_seed.past_meeting_id
    first = write_and_publish(secretariat, meeting)
    assert first["province_article"]["revised_at"] is None
    cam_tu = cam_tu_article(cam_tu_chair)
    cam_tu_published = cam_tu_chair.post(f"/api/v1/articles/{cam_tu['id']}/publish").json()
    hac_thanh = secretariat.get("/api/v1/articles", params={"unit": HAC_THANH}).json()["items"][0]
    secretariat.patch(f"/api/v1/articles/{hac_thanh['id']}", json={"lead": "Sapo riêng."})

    second = write_and_publish(secretariat, meeting, MINUTES + "\nĐoạn bổ sung sau khi sửa.\n")
    assert second["drafts_created"] == 0
    assert second["articles_kept"] == 2  # Cẩm Tú's (published) and Hạc Thành's (edited draft)
    assert second["drafts_regenerated"] == 158
    province = second["province_article"]
    assert "Đoạn bổ sung" in province["body"]
    assert province["revised_at"] is not None  # the page shows "updated" with the time
    assert province["id"] == first["province_article"]["id"]
    assert province["slug"] == first["province_article"]["slug"]

    kept = cam_tu_article(cam_tu_chair)
    assert "Đoạn bổ sung" not in kept["body"]
    assert kept["updated"] == cam_tu_published["updated"]
    assert kept["revised_at"] is None
    edited = secretariat.get(f"/api/v1/articles/{hac_thanh['id']}").json()
    assert edited["lead"] == "Sapo riêng."
    assert "Đoạn bổ sung" not in edited["body"]
    drafts = secretariat.get(
        "/api/v1/articles", params={"meeting": meeting, "status": "draft", "limit": 500}
    ).json()["items"]
    regenerated = [a for a in drafts if a["id"] != hac_thanh["id"]]
    assert len(regenerated) == 158
    assert all("Đoạn bổ sung" in a["body"] for a in regenerated)


def test_the_secretariat_publishes_all_drafts_at_once(
    secretariat: TestClient[Litestar], client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    write_and_publish(secretariat, meeting)
    answer = secretariat.post(f"/api/v1/meetings/{meeting}/articles/publish-drafts")
    assert answer.json() == {"published": 156, "waiting": 4, "absent_units": 6}
    again = secretariat.post(f"/api/v1/meetings/{meeting}/articles/publish-drafts")
    assert again.json() == {"published": 0, "waiting": 4, "absent_units": 6}
    client.cookies.clear()
    assert client.get("/api/v1/articles", params={"unit": CAM_TU}).json()["total"] == 1
    listing = client.get("/api/v1/articles", params={"limit": 1}).json()
    assert (listing["total"], listing["limit"], listing["offset"]) == (157, 1, 0)


def test_a_meeting_not_yet_held_is_not_published(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.upcoming_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": "Dự kiến"})
    assert secretariat.post(f"/api/v1/meetings/{meeting}/minutes/publish").status_code == 409
    past = demo_seed.past_meeting_id
    assert secretariat.post(f"/api/v1/meetings/{past}/minutes/publish").status_code == 409


def test_the_pages_publish_and_list_the_articles(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": MINUTES})
    secretariat.get(f"/meetings/{meeting}/minutes", headers=HTML)
    token = secretariat.cookies.get("confhub_csrf")
    published = secretariat.post(
        f"/meetings/{meeting}/minutes/publish",
        data={"_csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert published.status_code == 303
    page = secretariat.get(published.headers["location"], headers=HTML)
    assert "đã viết 160 bản nháp" in page.text
    assert "Đăng 156 bài lên 156 trang xã" in page.text
    assert "Xã Cẩm Tú (15148)" in page.text
