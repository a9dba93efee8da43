"""Every bound of an uploaded sheet (chair sheet or unit list), one hostile file each: refused
with a message naming the bound, quoting at most the start of an overlong cell, before the work
it guards is done. The files are built in milliseconds (tests.helpers.hostile_files); how fast
and how cheaply the refusals come is measured by bench/hostile_uploads.py, not here."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from confhub.core.errors import InvalidInputError
from confhub.meetings import chair_import
from confhub.meetings.unit_list import unit_entries
from tests.helpers import hostile_files as hostile

pytestmark = pytest.mark.unit


def refusal(data: bytes, filename: str = "") -> str:
    """The message parsing `data` as a chair sheet is refused with."""
    with pytest.raises(InvalidInputError) as caught:
        chair_import.parse_sheet(data, filename) if filename else chair_import.parse_sheet(data)
    assert caught.value.field == "file"
    return str(caught.value.extra[0]["message"]) if caught.value.extra else ""


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(
            hostile.huge_shared_string,
            "the XLSX file unpacks to more than 16 MB",
            id="400-MB-shared-string",
        ),
        pytest.param(
            hostile.many_rows, "the XLSX file unpacks to more than 16 MB", id="3-million-rows"
        ),
        pytest.param(
            hostile.zip_bomb_part, "the XLSX file unpacks to more than 16 MB", id="zip-bomb-part"
        ),
        pytest.param(
            lambda: hostile.zip_bomb_part(mebibytes=1),
            "the XLSX file expands more than 100 times when unpacked",
            id="small-zip-bomb",
        ),
        pytest.param(
            hostile.far_cell,
            "the sheet says it reaches row 1048576; at most 10000 rows are read",
            id="cell-in-row-1048576",
        ),
        pytest.param(
            lambda: hostile.far_cell(declared=False),
            "the sheet goes beyond row 10000",
            id="cell-in-row-1048576-dimension-lies",
        ),
        pytest.param(
            lambda: hostile.numbered_rows(10_001),
            "the sheet goes beyond row 10000",
            id="10001-rows",
        ),
        pytest.param(
            lambda: hostile.numbered_rows(5000, columns=21),
            "the sheet has more than 100000 cells",
            id="too-many-cells",
        ),
        pytest.param(
            hostile.busy_styles,
            "the XLSX file holds too much besides the cells (styles, formatting): "
            "save the sheet as CSV",
            id="60000-style-elements",
        ),
        pytest.param(
            hostile.scattered_elements,
            "the XLSX file holds too much besides the cells (styles, formatting): "
            "save the sheet as CSV",
            id="480-parts-of-8000-elements",
        ),
        pytest.param(hostile.entity_expansion, "not a readable XLSX file", id="billion-laughs"),
    ],
)
def test_hostile_workbooks_are_refused_naming_the_bound(build: object, message: str) -> None:
    assert callable(build)
    assert refusal(build()) == message


def test_an_overlong_cell_is_refused_and_quoted_by_its_start_only() -> None:
    inline = refusal(hostile.long_inline_cell(100_000))
    assert inline == "row 1: a cell is longer than 1000 characters (“Nguyễn Văn A xxxxxxx…”)"
    shared = refusal(hostile.long_shared_string(5000))
    assert shared == "a cell is longer than 1000 characters (“BBBBBBBBBBBBBBBBBBBB…”)"
    csv_cell = refusal(b"15148;" + "Trần Thị Bình ".encode() * 100 + b"\r\n")
    assert csv_cell == "row 1: a cell is longer than 1000 characters (“Trần Thị Bình Trần T…”)"


def test_hostile_csv_files_are_refused_while_read() -> None:
    assert refusal(hostile.many_csv_lines(1_000_000)) == "the sheet is larger than 4 MB"
    # Blank lines do not count as rows imported, but they are read: 10,001 of them are too many.
    assert refusal(b"\r\n" * 10_000 + b"15148,x\r\n") == "the sheet goes beyond row 10000"
    # One record of 50,000 characters: a quoted cell whose line breaks never end it.
    record = b'15148,"' + b"a\r\n" * 17_000 + b'"\r\n'
    assert refusal(record) == "row 1 is longer than 40000 characters"
    assert refusal(b"x," * 30_000) == "row 1 is longer than 40000 characters"


def test_a_text_file_named_xlsx_is_not_a_spreadsheet() -> None:
    text = b"Danh sach chu tri\r\n15148 Pham Thi Nhan\r\n"
    assert refusal(text, "chu-tri.xlsx") == "the file is named .xlsx but is not a spreadsheet"
    assert refusal(text, "CHU-TRI.XLSM") == "the file is named .xlsm but is not a spreadsheet"
    # Named .csv (or not named at all), the same text is a sheet read by position.
    assert [r.unit_entry for r in chair_import.parse_sheet(text, "chu-tri.csv")] == [
        "Danh sach chu tri",
        "15148 Pham Thi Nhan",
    ]


@pytest.mark.slow  # a sheet of all 3,321 units: `make test` runs it, `make check` does not
def test_a_national_sheet_within_every_bound_is_read() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["DANH SÁCH CHỦ TRÌ CÁC ĐIỂM CẦU"])
    sheet.append([])
    sheet.append(["STT", "Mã đơn vị", "Tên xã, phường", "Họ và tên", "Chức vụ", "Điện thoại"])
    for n in range(3321):  # every commune and ward of the country
        sheet.append([n + 1, 10_000 + n, f"Xã {n}", f"Nguyễn Văn {n}", "Chủ tịch UBND xã", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = chair_import.parse_sheet(buffer.getvalue(), "chu-tri.xlsx")
    assert len(rows) == 3321
    assert (rows[-1].row_number, rows[-1].unit_entry) == (3324, "13320")


def test_a_unit_list_has_the_same_bounds() -> None:
    with pytest.raises(InvalidInputError, match="goes beyond row 10000"):
        unit_entries(hostile.far_cell(declared=False))
    with pytest.raises(InvalidInputError, match="unpacks to more than 16 MB"):
        unit_entries(hostile.huge_shared_string())
    with pytest.raises(InvalidInputError, match=r"named \.xlsx but is not a spreadsheet"):
        unit_entries(b"15148\n14797\n", "don-vi.xlsx")
    assert unit_entries(b"15148\n14797\n", "don-vi.txt") == ["15148", "14797"]
