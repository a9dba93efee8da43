"""The cells every exported spreadsheet is made of (confhub.core.spreadsheets): text never runs as
a formula, numbers stay numbers, and what a workbook cannot hold never fails an export."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from confhub.core import spreadsheets

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1", '=HYPERLINK("http://x","y")'],
)
def test_a_formula_start_gets_an_apostrophe_and_comes_back_without(value: str) -> None:
    cell = spreadsheets.safe_text(value)
    assert cell == "'" + value
    assert spreadsheets.imported_cell(cell) == value


@pytest.mark.parametrize("value", ["Hội nghị", "1+1", "Xã Cẩm Tú", "'quoted'", " =1", ""])
def test_other_text_is_written_as_it_is(value: str) -> None:
    assert spreadsheets.safe_text(value) == value
    assert spreadsheets.imported_cell(value) == value


def test_what_xml_cannot_hold_shows_as_a_replacement_character() -> None:
    assert spreadsheets.safe_text("a\x00b\x0bc\x1fd\ufffe") == "a\ufffdb\ufffdc\ufffdd\ufffd"
    assert spreadsheets.safe_text("dòng 1\ndòng 2\tcuối\r") == "dòng 1\ndòng 2\tcuối\r"


def test_csv_cells_and_numbers() -> None:
    body = spreadsheets.csv_bytes([("Mã", "Tên"), (15148, "=cmd"), (None, -3)])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["Mã", "Tên"], ["15148", "'=cmd"], ["", "-3"]]


def test_xlsx_text_cells_are_strings_never_formulas() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    spreadsheets.append_xlsx_row(sheet, ["=1+1", 15148, "a\x01b", None])
    spreadsheets.append_xlsx_row(sheet, [])
    spreadsheets.append_xlsx_row(sheet, ["Tổng", 3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    reread = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert reread is not None
    first = list(reread[1])
    assert [c.value for c in first] == ["'=1+1", 15148, "a\ufffdb"]
    assert [c.data_type for c in first] == ["s", "n", "s"]
    assert [c.value for c in reread[3]][:2] == ["Tổng", 3]
