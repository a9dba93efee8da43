"""An uploaded list of units to invite (a text, CSV or XLSX file), read into codes or names.

The file is read like a pasted list: every non-blank cell is one unit code or name (one per line,
or several separated by commas, semicolons or tabs). A sheet whose header names a unit column
("Mã đơn vị", "Tên xã, phường", "Đơn vị", …) is read from that column only, so other columns
(numbering, notes, chairs) are ignored. The entries are matched later, all of them before any
invitation is made (see :meth:`InvitationService.invite`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

from confhub.core.errors import InvalidInputError
from confhub.meetings.chair_import import (
    _UNIT_CODE_HEADERS,
    _UNIT_NAME_HEADERS,
    HEADER_SCAN_ROWS,
    MAX_ROWS,
    XLSX_MAGIC,
    _csv_rows,
    _header_key,
    _xlsx_rows,
)


def _unit_columns(cells: Sequence[str]) -> list[int]:
    """The unit columns a header row names (codes first), or [] when it is not a header."""
    keys = [_header_key(cell) for cell in cells]
    codes = [i for i, key in enumerate(keys) if key in _UNIT_CODE_HEADERS]
    names = [i for i, key in enumerate(keys) if key in _UNIT_NAME_HEADERS]
    return codes + names


def unit_entries(data: bytes) -> list[str]:
    """The unit codes or names of an uploaded list, in file order.

    Raises :class:`InvalidInputError` (field "file") for an empty or unreadable file, or one with
    more than :data:`MAX_ROWS` entries.
    """
    if not data:
        raise InvalidInputError("file", "the file is empty")
    raw = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    rows = [cells for _number, cells in islice(raw, MAX_ROWS + HEADER_SCAN_ROWS) if any(cells)]
    entries: list[str] = []
    header = next(
        (
            (i, cols)
            for i, row in enumerate(rows[:HEADER_SCAN_ROWS])
            if (cols := _unit_columns(row))
        ),
        None,
    )
    if header is not None:
        start, columns = header
        for cells in rows[start + 1 :]:
            found = next((cells[c] for c in columns if c < len(cells) and cells[c]), "")
            if found:
                entries.append(found)
    else:
        entries = [cell for cells in rows for cell in cells if cell]
    if not entries:
        raise InvalidInputError("file", "the list is empty")
    if len(entries) > MAX_ROWS:
        raise InvalidInputError("file", f"the list has more than {MAX_ROWS} entries")
    return entries
