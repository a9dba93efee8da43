"""The cells of every spreadsheet confhub exports (CSV and XLSX): user text never runs.

A check-in reason, a meeting title or a chair's name is text someone typed. Opened in a
spreadsheet program, a cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return before
one) is taken for a formula: `=HYPERLINK(...)` becomes a live link in the secretariat's sheet. As
OWASP's CSV-injection guidance says, such a cell gets a leading apostrophe, in XLSX too (the
workbook may be saved again as CSV), and every text cell of an XLSX is a string cell. Characters
XML cannot hold (most control characters) are shown as U+FFFD, so a row stored before input was
checked never makes an export fail. Numbers stay numbers.

Exported sheets that come back (the chair sheet) read their cells through :func:`imported_cell`,
which takes the apostrophe off again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# What an XLSX (XML 1.0) cannot hold, and no CSV reader expects: control characters but tab and
# line breaks, DEL, lone surrogates and the two non-characters.
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"

Cell = str | int | float | None


def safe_text(value: str) -> str:
    """User text as a cell that shows it and never runs it."""
    text = _UNWRITABLE.sub(REPLACEMENT, value)
    return QUOTE + text if text.startswith(FORMULA_STARTS) else text


def safe_row(values: Iterable[Cell]) -> list[Cell]:
    """A row with every text cell made safe; numbers and empty cells as they are."""
    return [safe_text(value) if isinstance(value, str) else value for value in values]


def csv_bytes(rows: Iterable[Iterable[Cell]]) -> bytes:
    """The rows as CSV, every text cell made safe: UTF-8 with a byte order mark, so spreadsheet
    programs open the Vietnamese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(safe_row(row) for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def append_xlsx_row(sheet: Any, values: Iterable[Cell]) -> None:
    """Append a row to an openpyxl worksheet; its text cells are strings, never formulas."""
    # Imported here: openpyxl costs every serving process 10 MiB that few requests use.
    from openpyxl.cell.cell import Cell as WorkbookCell

    cells = []
    for value in safe_row(values):
        cell = WorkbookCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    sheet.append(cells)


def imported_cell(value: str) -> str:
    """A cell of a sheet confhub exported and someone sent back, without the apostrophe that
    :func:`safe_text` put before a formula character."""
    if value.startswith(QUOTE) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
