"""Hostile uploads through the API and the pages, as an outside security check sent them: chair
sheets that unpack to hundreds of MB or claim a million rows, a text file named .xlsx, unit lists
of the same kind, and confirmed rows no preview made.

Each is answered with a 4xx and a message a person can act on, in the page's language on the
pages; the time and memory each refusal costs is bench/hostile_uploads.py's to measure.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.helpers import hostile_files as hostile
from tests.integration.meetings.test_schedule_pages import create_meeting, post_form

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    ("filename", "build", "message"),
    [
        pytest.param(
            "chu-tri.xlsx",
            hostile.huge_shared_string,
            "the XLSX file unpacks to more than 16 MB",
            id="400-MB-shared-string",
        ),
        pytest.param(
            "chu-tri.xlsx",
            hostile.many_rows,
            "the XLSX file unpacks to more than 16 MB",
            id="3-million-rows",
        ),
        pytest.param(
            "chu-tri.xlsx",
            hostile.far_cell,
            "the sheet says it reaches row 1048576; at most 10000 rows are read",
            id="cell-in-row-1048576",
        ),
        pytest.param(
            "chu-tri.xlsx",
            lambda: hostile.far_cell(declared=False),
            "the sheet goes beyond row 10000",
            id="cell-in-row-1048576-undeclared",
        ),
        pytest.param(
            "chu-tri.xlsx",
            hostile.zip_bomb_part,
            "the XLSX file unpacks to more than 16 MB",
            id="zip-bomb-part",
        ),
        pytest.param(
            "chu-tri.xlsx",
            lambda: b"Danh sach chu tri\n15148 Pham Thi Nhan\n",
            "the file is named .xlsx but is not a spreadsheet",
            id="text-named-xlsx",
        ),
        pytest.param(
            "chu-tri.csv",
            lambda: hostile.many_csv_lines(1_000_000),
            "the sheet is larger than 4 MB",
            id="million-line-csv",
        ),
    ],
)
def test_hostile_chair_sheets_are_refused_with_a_readable_400(
    secretariat: TestClient[Litestar],
    demo_seed: DemoSeed,
    filename: str,
    build: Callable[[], bytes],
    message: str,
) -> None:
    url = f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/chairs/import?dry_run=true"
    answer = secretariat.post(url, files={"data": (filename, build(), XLSX)})
    assert answer.status_code == 400, answer.text[:500]
    assert answer.json()["extra"] == [{"key": "file", "message": message}]


def test_an_overlong_cell_is_quoted_by_its_start_not_echoed(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/chairs/import?dry_run=true"
    answer = secretariat.post(
        url, files={"data": ("chu-tri.xlsx", hostile.long_inline_cell(100_000), XLSX)}
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        "file: row 1: a cell is longer than 1000 characters (“Nguyễn Văn A xxxxxxx…”)"
    )
    assert len(answer.content) < 500


def test_the_chair_sheet_form_says_what_is_wrong_in_vietnamese(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/meetings/{demo_seed.upcoming_meeting_id}/chairs/preview"
    cases = [
        ("chu-tri.xlsx", hostile.huge_shared_string(), "Tệp XLSX giải nén ra hơn 16 MB."),
        (
            "chu-tri.xlsx",
            hostile.far_cell(),
            "Bảng tính ghi là có đến dòng 1048576; chỉ đọc tối đa 10000 dòng.",
        ),
        (
            "chu-tri.xlsx",
            hostile.long_inline_cell(),
            "Dòng 1: có ô dài hơn 1000 ký tự (“Nguyễn Văn A xxxxxxx…”).",
        ),
        ("chu-tri.xlsx", b"15148 Pham Thi Nhan\n", "Tệp có đuôi .xlsx nhưng không phải bảng tính."),
        ("chu-tri.csv", b"\r\n" * 10_000 + b"15148,x\r\n", "Bảng tính vượt quá dòng 10000."),
    ]
    for filename, data, shown in cases:
        page = post_form(secretariat, url, files={"file": (filename, data, XLSX)})
        assert page.status_code == 400
        assert 'id="chair_file-error"' in page.text
        assert shown in page.text, filename
        assert "x" * 100 not in page.text  # an overlong cell is quoted by its start only
    english = post_form(
        secretariat,
        f"{url}?lang=en",
        files={"file": ("chu-tri.xlsx", hostile.long_inline_cell(), XLSX)},
    )
    assert "Row 1: a cell is longer than 1000 characters (“Nguyễn Văn A xxxxxxx…”)." in english.text


def test_a_unit_list_upload_has_the_same_bounds(secretariat: TestClient[Litestar]) -> None:
    meeting_id = create_meeting(secretariat)
    url = f"/meetings/{meeting_id}/invitations"
    refused = post_form(
        secretariat,
        url,
        {"how": "file"},
        files={"file": ("don-vi.xlsx", hostile.far_cell(declared=False), XLSX)},
    )
    assert refused.status_code == 400
    assert 'id="invite_file-error"' in refused.text
    assert "Bảng tính vượt quá dòng 10000." in refused.text
    listed = secretariat.get(f"/api/v1/meetings/{meeting_id}/points").json()
    assert listed["items"] == []


def test_confirmed_rows_far_longer_than_a_preview_makes_are_not_read(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    # 5,000 rows of 2,000-character names: 10 MB no preview page ever carried back.
    row = {
        "row_number": 1,
        "unit_entry": "15148",
        "chair_name": "x" * 2000,
        "chair_title": "",
        "chair_phone": "",
    }
    rows = json.dumps([row] * 5000)
    page = post_form(
        secretariat, f"/meetings/{demo_seed.upcoming_meeting_id}/chairs/import", {"rows": rows}
    )
    assert page.status_code == 400
    assert 'id="chair_file-error"' in page.text
    assert "x" * 2000 not in page.text
