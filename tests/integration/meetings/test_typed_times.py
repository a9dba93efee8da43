"""The chair's page stays Vietnamese and every form's days and times are dd/mm/yyyy and 24-hour
whatever the browser's language (issue 18, item 6)."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.attendance.test_live_pages import HTML, csrf

pytestmark = pytest.mark.integration

ENGLISH_PHONE = {**HTML, "Accept-Language": "en-US,en;q=0.9"}


def test_the_check_in_page_stays_vietnamese_on_an_english_phone(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    path = f"/checkin/{demo_seed.cam_tu_token}"
    page = client.get(path, headers=ENGLISH_PHONE).text
    assert '<html lang="vi"' in page and "Điểm danh" in page
    # The switch to English stays, and is remembered for the link.
    english = client.get(f"{path}?lang=en", headers=ENGLISH_PHONE).text
    assert '<html lang="en"' in english and "Roll call" in english
    assert '<html lang="en"' in client.get(path, headers=ENGLISH_PHONE).text
    back = client.get(f"{path}?lang=vi", headers=ENGLISH_PHONE).text
    assert '<html lang="vi"' in back
    # A replaced link's page too; other pages still follow the browser.
    gone = client.get("/checkin/" + "A" * 22, headers={**ENGLISH_PHONE})
    assert gone.status_code == 404
    client.cookies.clear()
    assert '<html lang="vi"' in client.get("/checkin/" + "A" * 22, headers=ENGLISH_PHONE).text
    assert '<html lang="en"' in client.get("/news", headers=ENGLISH_PHONE).text


def test_the_meeting_form_reads_and_shows_dd_mm_yyyy_and_24_hours(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    edit = secretariat.get(f"/meetings/{meeting_id}/edit", headers=ENGLISH_PHONE).text
    assert not re.search(r'type="(datetime-local|date|time)"', edit)
    shown = re.search(r'id="starts_at" name="starts_at"[^>]*value="([^"]+)"', edit)
    assert shown and re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", shown[1]), shown
    base = {
        "_csrf_token": csrf(secretariat),
        "title": "Hội nghị sơ kết",
        "starts_at": "14/12/2026 14:30",
        "ends_at": "14/12/2026 17:00",
        "agenda-0-time": "14h30",
        "agenda-0-title": "Khai mạc",
        "shift_agenda": "",
    }
    saved = secretariat.post(
        f"/meetings/{meeting_id}/edit", data=base, headers=HTML, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text[:3000]
    meeting = secretariat.get(f"/api/v1/meetings/{meeting_id}").json()
    assert meeting["starts_at"].startswith("2026-12-14T07:30:00")
    assert meeting["agenda"][0]["starts_at"].startswith("2026-12-14T07:30:00")
    edit = secretariat.get(f"/meetings/{meeting_id}/edit", headers=HTML).text
    assert 'value="14/12/2026 14:30"' in edit and 'value="14:30"' in edit

    # What an English Chromium showed is refused in words, with what was typed kept.
    refused = secretariat.post(
        f"/meetings/{meeting_id}/edit",
        data={**base, "starts_at": "12/14/2026, 02:30 PM"},
        headers=HTML,
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "Nhập ngày giờ theo dạng dd/mm/yyyy hh:mm (24 giờ), ví dụ 10/09/2025 14:30." in (
        refused.text
    )
    assert 'value="12/14/2026, 02:30 PM"' in refused.text
    cut = secretariat.post(
        f"/meetings/{meeting_id}/edit",
        data={**base, "agenda-0-time": "02:00 PM"},
        headers=HTML,
        follow_redirects=False,
    )
    assert cut.status_code == 400
    assert "Mục 1: nhập giờ theo dạng hh:mm (24 giờ)." in cut.text
    assert 'value="02:00 PM"' in cut.text
    no_day = secretariat.post(
        f"/meetings/{meeting_id}/edit",
        data={**base, "starts_at": "31/02/2027 14:00"},
        headers=HTML,
        follow_redirects=False,
    )
    assert no_day.status_code == 400 and "Không có ngày 31/02/2027." in no_day.text


def test_filters_take_dd_mm_yyyy(secretariat: TestClient[Litestar]) -> None:
    listed = secretariat.get("/meetings", params={"from": "10/09/2025", "to": "10/09/2025"})
    assert listed.status_code == 200 and "10/09/2025" in listed.text
    assert "giao ban" in listed.text.lower() or "Hội nghị" in listed.text
    week = secretariat.get("/meetings/week", params={"date": "10/09/2025"}, headers=HTML)
    assert week.status_code == 200 and 'value="10/09/2025"' in week.text
    wrong = secretariat.get("/meetings", params={"from": "09/31/2025"}, headers=HTML)
    assert wrong.status_code == 400 and "Không có ngày 09/31/2025." in wrong.text
    report = secretariat.get(
        "/reports/incidents", params={"from": "01/09/2025", "to": "30/09/2025"}, headers=HTML
    )
    assert report.status_code == 200 and 'value="01/09/2025"' in report.text
    bad = secretariat.get("/reports/incidents", params={"from": "2025/09/01"}, headers=HTML)
    assert bad.status_code == 400
    assert "Nhập ngày theo dạng ngày/tháng/năm" in bad.text
