"""How much of an uploaded sheet (a chair sheet or a list of units, CSV or XLSX) is ever read,
and the errors that say which bound a file passed.

Every bound is checked while the file is read, before the work it guards is done: a file past
one is refused with a 400 naming it, and never echoed back (a message quotes at most
:data:`QUOTED_CHARS` of a cell). The values are far above any real list — the country has 3,321
communes and wards — and low enough that the worst file within all of them costs a process
about a second and some tens of MiB (bench/hostile_uploads.py measures both).
"""

from __future__ import annotations

from typing import Any

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

MIB = 1024 * 1024
# The file itself, as uploaded. A national chair list of 5,000 rows and eight columns is about
# 0.6 MB as CSV and 0.25 MB as XLSX; the room above that is for a logo in a workbook. CSV text is
# held decoded (up to four bytes a character) while read, hence not the 20 MB upload limit.
MAX_FILE_BYTES = 4 * MIB
# The data rows imported (blank rows do not count): more than the country's units, with room.
MAX_ROWS = 5000
# The last row read, as the spreadsheet numbers it: blank rows, titles and notes around the
# data push it past MAX_ROWS, never to twice that. Checked before a row is padded or kept.
MAX_ROW_NUMBER = 2 * MAX_ROWS
# Only the first columns matter; a sheet with thousands of columns is not a chair list.
MAX_COLUMNS = 40
# Cells in one sheet, counted as they are read: twenty columns on every row, where real chair
# lists have five to eight. openpyxl reads some 70,000 cells a second.
MAX_CELLS = MAX_ROWS * 20
# One cell's text. The longest field a row carries is a title (300 characters); a cell three
# times longer is no name, title or phone. Excel itself allows 32,767.
MAX_CELL_CHARS = 1000
# One CSV record (a row, quoted line breaks included): every column read full.
MAX_RECORD_CHARS = MAX_COLUMNS * MAX_CELL_CHARS
# How much of an overlong cell an error message quotes, so the person finds it.
QUOTED_CHARS = 20


def refused_file(message: str, **values: Any) -> InvalidInputError:
    """The error for a sheet past a bound (always about the field "file"); `message` is a
    message id (marked with `N_`) and `values` fill its placeholders."""
    return InvalidInputError("file", message, **values)


def too_large_file() -> InvalidInputError:
    """The file is larger than :data:`MAX_FILE_BYTES`."""
    return refused_file(N_("the sheet is larger than %(n)s MB"), n=MAX_FILE_BYTES // MIB)


def beyond_last_row() -> InvalidInputError:
    """A row past :data:`MAX_ROW_NUMBER` was reached."""
    return refused_file(N_("the sheet goes beyond row %(n)s"), n=MAX_ROW_NUMBER)


def too_many_cells() -> InvalidInputError:
    """More than :data:`MAX_CELLS` cells were read."""
    return refused_file(N_("the sheet has more than %(n)s cells"), n=MAX_CELLS)


def too_long_cell(text: str, row: int | None = None) -> InvalidInputError:
    """A cell longer than :data:`MAX_CELL_CHARS`, quoted by its first characters only."""
    start = "".join(c for c in text[:QUOTED_CHARS] if c.isprintable() and c not in "“”")
    if row is None:
        return refused_file(
            N_("a cell is longer than %(n)s characters (“%(value)s…”)"),
            n=MAX_CELL_CHARS,
            value=start,
        )
    return refused_file(
        N_("row %(row)s: a cell is longer than %(n)s characters (“%(value)s…”)"),
        row=row,
        n=MAX_CELL_CHARS,
        value=start,
    )


def too_long_record(row: int) -> InvalidInputError:
    """A CSV record longer than :data:`MAX_RECORD_CHARS`."""
    return refused_file(
        N_("row %(row)s is longer than %(n)s characters"), row=row, n=MAX_RECORD_CHARS
    )
