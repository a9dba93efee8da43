"""Bulk assignment of chairs from an uploaded sheet (CSV or XLSX): parse, preview, apply.

A province's office collects chairs from 166 communes in a spreadsheet: one row per unit with the
chair's name, title and phone. :func:`parse_sheet` reads the file whatever its format and header
language, :func:`preview` says what each row would do (and what is wrong with it), and
:func:`apply` writes the chairs of every right row at once and leaves the others, each listed with
its reason (an unknown unit with the invited units whose names or codes come close: "did you mean
…"), for the clerk to correct and send again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import anyio.to_thread
from sqlalchemy import select

from confhub.accounts.principal import Principal
from confhub.core.errors import InvalidInputError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.messages import Message, Messages
from confhub.core.phones import parse_phone
from confhub.core.spreadsheets import imported_cell
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.audit import AuditAction
from confhub.meetings.directory import SheetChair, fill_directory
from confhub.meetings.invitations import apply_chair, require_editable
from confhub.meetings.models import Invitation, Meeting
from confhub.meetings.services import ChairAssignment
from confhub.meetings.sheet_limits import MAX_ROWS
from confhub.meetings.sheet_reader import sheet_rows
from confhub.points.contacts import is_email
from confhub.points.models import ConnectionPoint
from confhub.units.matching import (
    NO_CODE,
    NO_NAME,
    UnitIndex,
    UnitMatch,
    fold,
    near_misses,
    unit_index,
)
from confhub.units.models import Province, Unit

# A title row or two ("DANH SÁCH CHỦ TRÌ CÁC ĐIỂM CẦU") often sits above the header.
HEADER_SCAN_ROWS = 10
MAX_NAME = 200  # invitation.chair_name
MAX_TITLE = 300  # invitation.chair_title
MAX_PHONE = 40  # invitation.chair_phone

# Header names, folded (no case, no diacritics, punctuation as spaces). A unit code column wins
# over a unit name column when a sheet has both.
_UNIT_CODE_HEADERS = frozenset(
    {"ma don vi", "ma dv", "ma xa", "ma xa phuong", "ma dvhc", "unit code", "code", "ma"}
)
_UNIT_NAME_HEADERS = frozenset(
    {
        "don vi",
        "ten don vi",
        "xa",
        "ten xa",
        "phuong",
        "ten phuong",
        "xa phuong",
        "ten xa phuong",
        "xa phuong dac khu",
        "unit",
        "unit name",
    }
)
_FIELD_HEADERS: dict[str, frozenset[str]] = {
    "name": frozenset(
        {
            "ho ten",
            "ho va ten",
            "chu tri",
            "nguoi chu tri",
            "ho ten nguoi chu tri",
            "ho va ten nguoi chu tri",
            "ho ten chu tri",
            "chair",
            "chair name",
            "name",
        }
    ),
    "title": frozenset({"chuc vu", "chuc danh", "title", "chair title"}),
    "phone": frozenset(
        {"dien thoai", "so dien thoai", "sdt", "so dt", "dt", "phone", "chair phone", "mobile"}
    ),
    "email": frozenset({"email", "e mail", "thu dien tu", "dia chi email", "dia chi thu dien tu"}),
}


@dataclass(frozen=True)
class SheetRow:
    """One data row of the sheet; `row_number` is the row as the spreadsheet shows it."""

    row_number: int
    unit_entry: str
    chair_name: str
    chair_title: str
    chair_phone: str
    chair_email: str = ""


@dataclass(frozen=True)
class PreviewRow:
    """What one row would do: the unit and point it names, or why it cannot be imported."""

    row_number: int
    unit_entry: str
    unit_code: int | None
    unit_name: str | None
    point_id: int | None
    chair_name: str
    chair_title: str
    chair_phone: str
    errors: tuple[Message, ...] = ()
    chair_email: str = ""
    # What the import will do that the clerk should check (a phone whose leading 0 it restored).
    notes: tuple[Message, ...] = ()

    @property
    def findings(self) -> Messages:
        """What to check in the row, said as one text."""
        return Messages(self.notes)

    @property
    def problems(self) -> Messages:
        """What is wrong with the row, said as one text."""
        return Messages(self.errors)

    @property
    def error(self) -> str | None:
        """What is wrong with the row in English, as the API says it; None when it is right."""
        return self.problems.render() if self.errors else None


@dataclass(frozen=True)
class ImportPreview:
    """Every row of a sheet, checked; it can be applied only when `ok`."""

    rows: list[PreviewRow]

    @property
    def error_count(self) -> int:
        """How many rows cannot be imported."""
        return sum(1 for row in self.rows if row.errors)

    @property
    def note_count(self) -> int:
        """How many importable rows the clerk should check."""
        return sum(1 for row in self.rows if row.notes)

    @property
    def ok(self) -> bool:
        """No row has an error."""
        return self.error_count == 0

    @property
    def importable_count(self) -> int:
        """How many rows would be imported (the others are left, with their reasons)."""
        return len(self.rows) - self.error_count


@dataclass(frozen=True)
class ImportOutcome:
    """How many chairs an import assigned, and every row checked (those left with errors)."""

    count: int
    preview: ImportPreview


# --- Reading the file ---------------------------------------------------------------------------


async def read_sheet(data: bytes, filename: str = "") -> list[SheetRow]:
    """:func:`parse_sheet` in a worker thread: a national sheet takes openpyxl about 0.2 s,
    which on the event loop would hold up every live socket of the process."""
    return await anyio.to_thread.run_sync(parse_sheet, data, filename)


def parse_sheet(data: bytes, filename: str = "") -> list[SheetRow]:
    """The non-blank data rows of a CSV or XLSX chair sheet (the format is told by content).

    Raises :class:`InvalidInputError` (field "file") for an unreadable file, a sheet without
    rows, one with more than :data:`MAX_ROWS` rows, or one past any bound of
    :mod:`confhub.meetings.sheet_limits` (checked while it is read).
    """
    rows = _sheet_rows(sheet_rows(data, filename))
    if not rows:
        raise InvalidInputError("file", N_("The sheet has no rows."))
    return rows


def _header_key(cell: str) -> str:
    """ "Xã, Phường (*)" → "xa phuong"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(cell)).split())


@dataclass(frozen=True)
class _Columns:
    unit: tuple[int, ...]  # in order of preference: codes, then names
    name: int
    title: int | None
    phone: int | None
    email: int | None = None


POSITIONAL = _Columns(unit=(0,), name=1, title=2, phone=3, email=4)


def _header_columns(cells: Sequence[str]) -> _Columns | None:
    """The columns a header row names, or None when the row is not a header."""
    codes: list[int] = []
    names: list[int] = []
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        if key in _UNIT_CODE_HEADERS:
            codes.append(index)
        elif key in _UNIT_NAME_HEADERS:
            names.append(index)
        else:
            for field, aliases in _FIELD_HEADERS.items():
                if key in aliases and field not in found:
                    found[field] = index
    if not (codes or names) or "name" not in found:
        return None
    return _Columns(
        unit=tuple(codes + names),
        name=found["name"],
        title=found.get("title"),
        phone=found.get("phone"),
        email=found.get("email"),
    )


def _sheet_rows(raw_rows: Iterable[tuple[int, list[str]]]) -> list[SheetRow]:
    """Find the header (or read the columns by position) and keep the non-blank data rows."""
    rows_iter = iter(raw_rows)
    head: list[tuple[int, list[str]]] = []
    columns: _Columns | None = None
    # Look for a header among the first rows; everything above it (titles) is skipped.
    for number, cells in rows_iter:
        head.append((number, cells))
        columns = _header_columns(cells)
        if columns is not None:
            head = []
            break
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if columns is None:
        columns = POSITIONAL

    def cell(cells: list[str], index: int | None) -> str:
        # chairs.csv, filled in and sent back: a "'+84..." phone is the "+84..." it exported.
        return imported_cell(cells[index]) if index is not None and index < len(cells) else ""

    result: list[SheetRow] = []
    for number, cells in chain(head, rows_iter):
        if not any(cells):
            continue
        if len(result) >= MAX_ROWS:
            raise InvalidInputError("file", N_("the sheet has more than %(n)s rows"), n=MAX_ROWS)
        unit_entry = next((cells[i] for i in columns.unit if cell(cells, i)), "")
        result.append(
            SheetRow(
                row_number=number,
                unit_entry=unit_entry,
                chair_name=cell(cells, columns.name),
                chair_title=cell(cells, columns.title),
                chair_phone=cell(cells, columns.phone),
                chair_email=cell(cells, columns.email),
            )
        )
    return result


# --- Checking and applying ----------------------------------------------------------------------


class _Resolver:
    """Unit lookup for one meeting and actor, with messages naming another province's units."""

    def __init__(self, session: DbSession, meeting: Meeting, actor: Principal) -> None:
        self.session = session
        self.scope = None if actor.is_admin else meeting.province_code
        self._index: UnitIndex | None = None
        self._national: UnitIndex | None = None
        self._provinces: dict[int, str] | None = None

    async def match(self, entry: str) -> UnitMatch:
        if self._index is None:
            self._index = await unit_index(self.session, self.scope)
        match = self._index.match(entry)
        if match.unit is not None or self.scope is None or not entry.strip():
            return match
        # Not in the meeting's province: say where it is, if it is anywhere.
        if self._national is None:
            self._national = await unit_index(self.session, None)
        elsewhere = self._national.match(entry)
        if elsewhere.unit is None or elsewhere.unit.province_code == self.scope:
            return match
        here = await self._province_name(self.scope)
        there = await self._province_name(elsewhere.unit.province_code)
        unit = elsewhere.unit
        elsewhere_message = Message(
            N_("%(unit)s (%(code)s) is in %(there)s, not in %(here)s"),
            {"unit": unit.name, "code": unit.code, "there": there, "here": here},
        )
        return UnitMatch(entry, None, elsewhere_message)

    async def _province_name(self, code: int) -> str:
        if self._provinces is None:
            rows = await self.session.execute(select(Province.code, Province.name))
            self._provinces = dict(rows.all())
        return self._provinces.get(code, f"province {code}")

    def units(self, codes: Iterable[int]) -> list[Unit]:
        """The units of these codes among those matched against (after a first `match`)."""
        index = self._index
        return [index.by_code[c] for c in codes if index and c in index.by_code]


def _did_you_mean(entry: str, error: Message | None, invited: list[Unit]) -> Message | None:
    """ "did you mean …" for a name or code naming no unit, among the invited units."""
    if error is not None and error.id not in (NO_CODE, NO_NAME):
        return None  # ambiguous, or another province's: that says it already
    close = near_misses(entry, invited)
    if not close:
        return None
    names = " / ".join(f"{unit.name} ({unit.code})" for unit in close)
    return Message(N_("did you mean %(names)s?"), {"names": names})


async def _invited_points(session: DbSession, meeting_id: int) -> dict[int, int]:
    """unit code → the invited point to name the chair of (the unit's own point when invited)."""
    rows = await session.execute(
        select(ConnectionPoint.unit_code, ConnectionPoint.id, ConnectionPoint.default_key)
        .join(Invitation, Invitation.point_id == ConnectionPoint.id)
        .where(Invitation.meeting_id == meeting_id, ConnectionPoint.unit_code.is_not(None))
        .order_by(ConnectionPoint.id)
    )
    points: dict[int, int] = {}
    for unit_code, point_id, default_key in rows:
        assert unit_code is not None
        # A unit may have several points; its default point is the one the sheet means.
        if unit_code not in points or default_key == f"unit:{unit_code}":
            points[unit_code] = point_id
    return points


def _chair_errors(row: SheetRow) -> list[Message]:
    errors = []
    if not row.chair_name:
        errors.append(Message(N_("the chair's name is empty")))
    elif len(row.chair_name) > MAX_NAME:
        errors.append(
            Message(N_("the chair's name is longer than %(n)s characters"), {"n": MAX_NAME})
        )
    if len(row.chair_title) > MAX_TITLE:
        errors.append(Message(N_("the title is longer than %(n)s characters"), {"n": MAX_TITLE}))
    phone = row.chair_phone
    if len(phone) > MAX_PHONE:
        errors.append(
            Message(N_("the phone number is longer than %(n)s characters"), {"n": MAX_PHONE})
        )
    elif phone and parse_phone(phone) is None:
        errors.append(Message(N_("not a phone number: '%(value)s'"), {"value": phone}))
    if row.chair_email and not is_email(row.chair_email):
        errors.append(
            Message(N_("'%(value)s' is not an e-mail address"), {"value": row.chair_email[:80]})
        )
    return errors


def _chair_notes(row: SheetRow) -> list[Message]:
    """What the import restores and the clerk should check: a phone a spreadsheet stored as a
    number, its leading 0 lost."""
    phone = parse_phone(row.chair_phone) if row.chair_phone else None
    if phone is None or not phone.restored:
        return []
    return [
        Message(
            N_("%(value)s lost its leading 0 (stored as a number): read as %(phone)s"),
            {"value": row.chair_phone, "phone": phone.number},
        )
    ]


async def preview(
    session: DbSession, meeting: Meeting, actor: Principal, rows: Sequence[SheetRow]
) -> ImportPreview:
    """Check every row: its unit (in the actor's reach and invited), its chair, duplicates."""
    if not actor.manages_province(meeting.province_code):
        raise PermissionDeniedError(N_("Only the province's secretariat may assign chairs"))
    resolver = _Resolver(session, meeting, actor)
    invited = await _invited_points(session, meeting.id)
    invited_units: list[Unit] | None = None  # read at the first unknown unit
    checked: list[tuple[SheetRow, Unit | None, int | None, list[Message]]] = []
    rows_of_unit: dict[int, list[int]] = {}
    for row in rows:
        errors: list[Message] = []
        point_id: int | None = None
        match = await resolver.match(row.unit_entry)
        unit = match.unit
        if not row.unit_entry:
            errors.append(Message(N_("the unit is empty")))
        elif unit is None:
            unknown = Message(N_("unknown unit '%(value)s'"), {"value": row.unit_entry})
            errors.append(match.error or unknown)
            if invited_units is None:
                invited_units = resolver.units(invited)
            if suggestion := _did_you_mean(row.unit_entry, match.error, invited_units):
                errors.append(suggestion)
        else:
            point_id = invited.get(unit.code)
            if point_id is None:
                errors.append(
                    Message(
                        N_("%(unit)s (%(code)s) is not invited to this meeting"),
                        {"unit": unit.name, "code": unit.code},
                    )
                )
            rows_of_unit.setdefault(unit.code, []).append(row.row_number)
        errors.extend(_chair_errors(row))
        checked.append((row, unit, point_id, errors))

    result = []
    for row, unit, point_id, errors in checked:
        if unit is not None and len(rows_of_unit[unit.code]) > 1:
            others = ", ".join(str(n) for n in rows_of_unit[unit.code] if n != row.row_number)
            # Which of the two chairs is right is for a person to say; both rows are refused.
            duplicate = Message(
                N_("duplicate: %(unit)s (%(code)s) is also on row %(rows)s"),
                {"unit": unit.name, "code": unit.code, "rows": others},
            )
            errors.insert(0, duplicate)
        result.append(
            PreviewRow(
                row_number=row.row_number,
                unit_entry=row.unit_entry,
                unit_code=unit.code if unit else None,
                unit_name=unit.name if unit else None,
                point_id=point_id,
                chair_name=row.chair_name,
                chair_title=row.chair_title,
                chair_phone=row.chair_phone,
                errors=tuple(errors),
                chair_email=row.chair_email,
                notes=tuple(_chair_notes(row)) if not errors else (),
            )
        )
    return ImportPreview(rows=result)


async def apply(
    session: DbSession,
    meeting: Meeting,
    actor: Principal,
    rows: Sequence[SheetRow],
    *,
    this_meeting_only: bool = False,
) -> ImportOutcome:
    """Assign the chair of every right row; the rows with errors are left, each with its
    reasons in the outcome's preview. The points' directory entries take the rows too (name,
    position, phone, e-mail), unless `this_meeting_only`.

    When no row is right the error names every row in `more` (`row N`, its problems): the API's
    `extra` lists them after the usual entry for the "file" field.
    """
    require_editable(meeting)
    if not rows:
        raise InvalidInputError("file", N_("The sheet has no rows."))
    checked = await preview(session, meeting, actor, rows)
    if not checked.importable_count:
        error = InvalidInputError(
            "file",
            N_("none of the %(n)s rows can be imported; nothing was imported"),
            n=checked.error_count,
        )
        error.more = [(f"row {r.row_number}", r.problems) for r in checked.rows if r.errors]
        raise error
    by_point = {r.point_id: r for r in checked.rows if not r.errors}
    invitations = await session.scalars(
        select(Invitation).where(
            Invitation.meeting_id == meeting.id, Invitation.point_id.in_(list(by_point))
        )
    )
    count = 0
    for invitation in invitations:
        row = by_point[invitation.point_id]
        apply_chair(
            invitation,
            ChairAssignment(name=row.chair_name, title=row.chair_title, phone=row.chair_phone),
        )
        # Unless for this meeting only, the chair is the directory's from now on (filled below).
        invitation.chair_from_directory = not this_meeting_only
        count += 1
    audit.record(
        session,
        meeting.id,
        actor,
        AuditAction.CHAIRS_IMPORTED,
        count=count,
        # Said only when the directory was left as it was.
        **({"this_meeting_only": True} if this_meeting_only else {}),
    )
    await session.flush()
    if not this_meeting_only:
        chairs = [
            SheetChair(r.point_id, r.chair_name, r.chair_title, r.chair_phone, r.chair_email)
            for r in checked.rows
            if r.point_id is not None and not r.errors
        ]
        await fill_directory(session, meeting.id, actor, chairs)
    return ImportOutcome(count, checked)
