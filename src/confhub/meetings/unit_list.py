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

import anyio.to_thread

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.meetings.chair_import import (
    _UNIT_CODE_HEADERS,
    _UNIT_NAME_HEADERS,
    HEADER_SCAN_ROWS,
    _header_key,
)
from confhub.meetings.sheet_limits import MAX_ROWS
from confhub.meetings.sheet_reader import sheet_rows


def _unit_columns(cells: Sequence[str]) -> list[int]:
    """The unit columns a header row names (codes first), or [] when it is not a header."""
    keys = [_header_key(cell) for cell in cells]
    codes = [i for i, key in enumerate(keys) if key in _UNIT_CODE_HEADERS]
    names = [i for i, key in enumerate(keys) if key in _UNIT_NAME_HEADERS]
    return codes + names


async def read_unit_list(data: bytes, filename: str = "") -> list[str]:
    """:func:`unit_entries` in a worker thread, off the event loop (an XLSX list takes openpyxl
    a good part of a second)."""
    return await anyio.to_thread.run_sync(unit_entries, data, filename)


def unit_entries(data: bytes, filename: str = "") -> list[str]:
    """The unit codes or names of an uploaded list, in file order.

    Raises :class:`InvalidInputError` (field "file") for an empty or unreadable file, one with
    more than :data:`MAX_ROWS` entries, or one past any bound of
    :mod:`confhub.meetings.sheet_limits` (checked while it is read).
    """
    raw = sheet_rows(data, filename)
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
        raise InvalidInputError("file", N_("The list is empty."))
    if len(entries) > MAX_ROWS:
        raise InvalidInputError("file", N_("the list has more than %(n)s entries"), n=MAX_ROWS)
    return entries
