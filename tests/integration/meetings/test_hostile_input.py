"""Hostile input to meetings (issue #14, items 2 and 7): every case ends in a 4xx naming what is
wrong, never a 500; the chair sheet a secretariat downloads never carries a live formula, and
still goes back in as it came out.

The cases PostgreSQL alone fails on (a NUL in text, a code beyond its 32-bit INTEGER, times its
driver cannot convert) run on PostgreSQL; the rest on the embedded SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.demo import DemoSeed
from tests.conftest import PostgresDemo, login, make_settings
from tests.integration.meetings.test_schedule_pages import (
    HTML,
    TOMORROW,
    local_input,
    point_id_of,
    post_form,
)

pytestmark = pytest.mark.integration

CAM_TU = 15148
BEYOND_INT32 = 2**53 - 2  # a valid id, but no official code fits PostgreSQL's INTEGER
LINE = "must be one line of text, without control characters"
RANGE = "must be in the years 1900 to 2999"


def new_meeting(**fields: object) -> dict[str, object]:
    """A meeting to create through the API."""
    return {
        "title": "Giao ban trực tuyến",
        "province_code": 38,
        "starts_at": "2026-03-02T08:00:00+07:00",
        "ends_at": "2026-03-02T10:00:00+07:00",
    } | fields


@pytest.fixture
def pg_secretariat(postgres_demo: PostgresDemo, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    """The organizer, signed in to the app on the demo's PostgreSQL database."""
    with TestClient(create_app(make_settings(postgres_demo.url, tmp_path))) as client:
        seed = postgres_demo.seed
        login(client, seed.organizer_email, seed.organizer_password)
        yield client


# --- Text -----------------------------------------------------------------------------------------


@pytest.mark.services
def test_a_nul_in_a_title_is_a_400_naming_the_field(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    created = pg_secretariat.post("/api/v1/meetings", json=new_meeting(title="Giao ban\x00"))
    assert created.status_code == 400, created.text
    assert created.json()["extra"] == [{"key": "title", "message": LINE, "source": "body"}]
    meeting_id = postgres_demo.seed.upcoming_meeting_id
    patched = pg_secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"description": "Nội dung\x00"}
    )
    assert patched.status_code == 400, patched.text
    assert [e["key"] for e in patched.json()["extra"]] == ["description"]


@pytest.mark.services
def test_a_nul_typed_into_the_meeting_form_is_shown_next_to_the_field(
    pg_secretariat: TestClient[Litestar],
) -> None:
    form = {
        "title": "Giao ban\x00",
        "description": "Dòng 1\x0bDòng 2",  # a line break as Word writes it
        "starts_at": local_input(TOMORROW, "14:00"),
        "ends_at": local_input(TOMORROW, "16:00"),
    }
    page = post_form(pg_secretariat, "/meetings/new", form)
    assert page.status_code == 400
    title = (
        '<p class="field-error" id="title-error">Lỗi: Chỉ một dòng chữ, không có ký tự điều khiển.'
    )
    description = (
        '<p class="field-error" id="description-error">'
        "Lỗi: Hãy xóa các ký tự điều khiển (những ký tự ẩn như NUL)."
    )
    assert title in page.text
    assert description in page.text


def test_a_line_break_in_a_title_or_a_name_is_refused(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    refused = secretariat.post("/api/v1/meetings", json=new_meeting(title="Giao ban\r\nX"))
    assert refused.status_code == 400
    point = point_id_of(secretariat, meeting_id, CAM_TU)
    chair = secretariat.put(
        f"/api/v1/meetings/{meeting_id}/points/{point}/chair", json={"name": "Nhàn\nBCC"}
    )
    assert chair.status_code == 400
    assert chair.json()["extra"] == [{"key": "name", "message": LINE, "source": "body"}]
    # Text areas keep their line breaks.
    described = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"description": "Dòng 1\r\nDòng 2\tcuối"}
    )
    assert described.status_code == 200, described.text


# --- Codes and ids --------------------------------------------------------------------------------


@pytest.mark.services
def test_a_province_code_beyond_the_column_is_a_400(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    listed = pg_secretariat.get("/api/v1/meetings", params={"province": BEYOND_INT32})
    assert listed.status_code == 400, listed.text
    assert [e["key"] for e in listed.json()["extra"]] == ["province"]
    created = pg_secretariat.post("/api/v1/meetings", json=new_meeting(province_code=BEYOND_INT32))
    assert created.status_code == 400, created.text
    invitations = f"/api/v1/meetings/{postgres_demo.seed.upcoming_meeting_id}/invitations"
    for entry in (BEYOND_INT32, str(BEYOND_INT32)):
        named = pg_secretariat.post(invitations, json={"unit_codes": [entry]})
        assert named.status_code == 400, named.text
    assert (
        pg_secretariat.get("/", params={"province": BEYOND_INT32}, headers=HTML).status_code == 400
    )


@pytest.mark.services
def test_a_page_id_beyond_any_id_is_a_400(pg_secretariat: TestClient[Litestar]) -> None:
    for path in ("/meetings/99999999999999999999", "/m/99999999999999999999/live"):
        assert pg_secretariat.get(path, headers=HTML).status_code == 400, path


# --- Dates ----------------------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.parametrize(
    ("name", "day"), [("from", "0001-01-01"), ("from", "9999-12-31"), ("to", "0001-01-01")]
)
def test_list_filter_days_out_of_range_are_a_400(
    pg_secretariat: TestClient[Litestar], name: str, day: str
) -> None:
    listed = pg_secretariat.get("/api/v1/meetings", params={name: day})
    assert listed.status_code == 400, listed.text
    assert listed.json()["extra"][0] == {
        "key": name,
        "message": "must be in the years 1900 to 2999",
    }
    page = pg_secretariat.get("/meetings", params={name: day}, headers=HTML)
    assert page.status_code == 400
    assert "Choose a date in the years 1900 to 2999." not in page.text  # shown in Vietnamese
    assert "trong khoảng từ năm 1900 đến năm 2999" in page.text


@pytest.mark.services
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_week_of_a_day_out_of_range_is_a_400(
    pg_secretariat: TestClient[Litestar], day: str
) -> None:
    assert (
        pg_secretariat.get("/meetings/week", params={"date": day}, headers=HTML).status_code == 400
    )


@pytest.mark.services
@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        ("0001-01-01T00:00:00+07:00", "0001-01-01T02:00:00+07:00"),
        ("9999-12-31T20:00:00-07:00", "9999-12-31T22:00:00-07:00"),
    ],
)
def test_meeting_times_out_of_range_are_a_400(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo, starts_at: str, ends_at: str
) -> None:
    created = pg_secretariat.post(
        "/api/v1/meetings", json=new_meeting(starts_at=starts_at, ends_at=ends_at)
    )
    assert created.status_code == 400, created.text
    assert created.json()["extra"][0]["key"] == "starts_at"
    meeting_id = postgres_demo.seed.upcoming_meeting_id
    moved = pg_secretariat.patch(f"/api/v1/meetings/{meeting_id}", json={"starts_at": starts_at})
    assert moved.status_code == 400, moved.text
    copied = pg_secretariat.post(f"/api/v1/meetings/{meeting_id}/copy", json={"starts_at": ends_at})
    assert copied.status_code == 400, copied.text


# --- The chair sheet ------------------------------------------------------------------------------

SHEET = "text/csv"


def test_a_superscript_digit_in_the_code_column_is_a_row_error(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    sheet = "Mã đơn vị;Họ và tên;Chức vụ\n²;Phạm Thị Nhàn;Bí thư\n15148;Phạm Thị Nhàn;Bí thư\n"
    preview = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/chairs/import",
        params={"dry_run": True},
        files={"data": ("chu-tri.csv", sheet.encode(), SHEET)},
    )
    assert preview.status_code == 200, preview.text
    first, second = preview.json()["rows"]
    assert first["error"] == "no unit named '²'"
    assert second["error"] is None
    page = post_form(
        secretariat,
        f"/meetings/{meeting_id}/chairs/preview",
        files={"file": ("chu-tri.csv", sheet.encode(), SHEET)},
    )
    assert page.status_code == 200
    assert "không có đơn vị nào tên “²”" in page.text
