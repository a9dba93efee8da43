"""An uploaded sheet (CSV or XLSX, told by its content) read into numbered rows of cell texts,
within the bounds of :mod:`confhub.meetings.sheet_limits`.

Rows are produced one at a time and counted as they are read: a file past a bound is refused
at that point, before anything after it is read, padded or kept. An XLSX file is checked whole
(:func:`confhub.meetings.xlsx_check.check_xlsx`) before openpyxl opens it; a CSV file is decoded,
then read record by record with every record's length bounded.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from itertools import islice
from typing import Any

from litestar.datastructures import UploadFile

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.meetings.sheet_limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_RECORD_CHARS,
    MAX_ROW_NUMBER,
    beyond_last_row,
    refused_file,
    too_large_file,
    too_long_cell,
    too_long_record,
)
from confhub.meetings.xlsx_check import check_xlsx, unreadable

XLSX_MAGIC = b"PK\x03\x04"
# Names Excel gives its workbooks (openpyxl reads these four).
XLSX_NAMES = (".xlsx", ".xlsm", ".xltx", ".xltm")
# The delimiter is guessed from the first rows; this many characters hold far more than 50.
SNIFF_CHARS = 64 * 1024

# Binary files that are sometimes uploaded by mistake, named so the message helps.
_KNOWN_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0", N_("this is an old Excel 97-2003 (.xls) file; save it as .xlsx or CSV")),
    (b"%PDF-", N_("this is a PDF file; upload the CSV or XLSX sheet")),
    (b"\x89PNG", N_("this is an image; upload the CSV or XLSX sheet")),
    (b"\xff\xd8\xff", N_("this is an image; upload the CSV or XLSX sheet")),
)
# Control characters, which a person never means in a cell (tab and line breaks aside).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The control characters (Unicode "Cc") binary data is full of and text almost never has.
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def sheet_rows(data: bytes, filename: str = "") -> Iterator[tuple[int, list[str]]]:
    """(row number as the spreadsheet shows it, cell texts) of a CSV or XLSX file, the first
    :data:`MAX_COLUMNS` columns of each row.

    Raises :class:`InvalidInputError` (field "file") for an empty, unreadable or too large
    file, and, while rows are read, at the first bound passed. The content decides the format
    (people rename files freely), except that a file named `.xlsx` must be one.
    """
    if not data:
        raise InvalidInputError("file", N_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise too_large_file()
    if data.startswith(XLSX_MAGIC):
        return _xlsx_rows(data)
    extension = filename.lower().rpartition(".")[2]
    if f".{extension}" in XLSX_NAMES:
        raise refused_file(
            N_("the file is named %(ext)s but is not a spreadsheet"), ext=f".{extension}"
        )
    return _csv_rows(data)


async def read_upload(upload: UploadFile) -> bytes:
    """An uploaded sheet's bytes; refused once past :data:`MAX_FILE_BYTES`, never read whole."""
    data = await upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise too_large_file()
    return data


def cell_text(value: Any) -> str:
    """A cell as the text a person sees; whole numbers lose the ".0" Excel gives them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = _CONTROLS.sub("", unicodedata.normalize("NFC", str(value)))
    # Any run of whitespace (line breaks in a cell, the non-breaking spaces of text copied from
    # the web) is one space.
    return " ".join(text.split())


def _row_texts(values: Iterable[Any], row: int) -> list[str]:
    texts = []
    for value in values:
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise too_long_cell(value, row)
        texts.append(cell_text(value))
    return texts


# --- XLSX ---------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The first worksheet of an XLSX file, checked whole before openpyxl opens it."""
    check_xlsx(data)
    from openpyxl import load_workbook  # 10 MiB; only imports need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl's own errors: all mean "broken file"
        raise unreadable() from exc
    return _xlsx_iter(workbook)


def _xlsx_iter(workbook: Any) -> Iterator[tuple[int, list[str]]]:
    try:
        if not workbook.worksheets:
            raise InvalidInputError("file", N_("The workbook has no worksheet."))
        sheet = workbook.worksheets[0]
        # Some generators write a wrong <dimension>; without it every row is read.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        # Missing rows come back empty, so the count matches the row numbers Excel shows; the
        # check above bounds them, and so does this count.
        for number, values in enumerate(rows, start=1):
            if number > MAX_ROW_NUMBER:
                raise beyond_last_row()
            yield number, _row_texts(values, number)
    except InvalidInputError:
        raise
    except Exception as exc:  # a damaged sheet fails while being read, not when opened
        raise unreadable() from exc
    finally:
        workbook.close()


# --- CSV ----------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for magic, message in _KNOWN_BINARY:
        if data.startswith(magic):
            raise InvalidInputError("file", message)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" export: UTF-16 with a byte order mark.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidInputError("file", N_("This is not a CSV or XLSX file.")) from None
    else:
        text = ""
        for encoding in ("utf-8-sig", "cp1258", "latin-1"):
            # UTF-8 first: a sheet that decodes as UTF-8 is UTF-8; cp1258 is the old
            # Vietnamese Windows code page; latin-1 never fails, hence last.
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    if not _looks_like_text(text):
        raise InvalidInputError("file", N_("This is not a CSV or XLSX file."))
    # cp1258 spells tones as combining marks; NFC makes them the characters units are named with.
    return unicodedata.normalize("NFC", text)


def _looks_like_text(text: str) -> bool:
    """Binary data decoded as latin-1 is full of control characters; a sheet has almost none."""
    if "\x00" in text:
        return False
    allowed = max(2, len(text) // 100)
    found = sum(1 for _ in islice(_BINARY_CONTROLS.finditer(text), allowed + 1))
    return found <= allowed


def _sniff_delimiter(text: str) -> str:
    """`,`, `;` or tab: the one that splits the first rows into the most regular columns."""
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        try:
            sample = list(islice(csv.reader(io.StringIO(text), delimiter=delimiter), 50))
        except csv.Error:
            continue
        widths = [len(row) for row in sample if row]
        if not widths:
            continue
        mode = max(set(widths), key=widths.count)
        # Rows that agree on a width above one, then the width itself.
        score = (widths.count(mode) if mode > 1 else 0, mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _Lines:
    """The lines of a text for csv.reader, refused once one record's lines pass
    :data:`MAX_RECORD_CHARS` (a record spans lines where a quoted cell holds line breaks)."""

    def __init__(self, text: str) -> None:
        self._stream = io.StringIO(text, newline="")
        self.record = 1
        self.pending = 0  # characters read for the current record

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._stream.readline(MAX_RECORD_CHARS + 1)
        if not line:
            raise StopIteration
        self.pending += len(line)
        if self.pending > MAX_RECORD_CHARS:
            raise too_long_record(self.record)
        return line

    def next_record(self) -> None:
        """The reader has made a record of what was read so far."""
        self.record += 1
        self.pending = 0


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a CSV file; each record is one row, as a spreadsheet shows it."""
    text = _decode(data)
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=_sniff_delimiter(text[:SNIFF_CHARS]))
    return _csv_iter(reader, lines)


def _csv_iter(reader: Iterable[list[str]], lines: _Lines) -> Iterator[tuple[int, list[str]]]:
    try:
        for number, cells in enumerate(reader, start=1):
            if number > MAX_ROW_NUMBER:
                raise beyond_last_row()
            yield number, _row_texts(cells[:MAX_COLUMNS], number)
            lines.next_record()
    except csv.Error as exc:
        raise InvalidInputError("file", N_("The CSV file cannot be read.")) from exc
