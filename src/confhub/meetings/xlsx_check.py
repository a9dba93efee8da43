"""An uploaded XLSX file checked against bounds before openpyxl opens it.

openpyxl trusts what it reads: it unpacks whole every part it parses into a tree (styles,
relationships, the workbook), loads every shared string into memory, pads a sparse sheet with
empty rows, and parses a sheet without a `<dimension>` to its end just to size it. So first the
zip directory is checked (sizes and compression ratios, before a byte is unpacked), then every
XML part openpyxl will read is streamed once through expat, with counters that refuse the file
at the first bound passed: rows and their numbers, cells, the length of each text, the number of
shared strings and of elements in tree-parsed parts; no DTD (so no entity expansion) anywhere.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Iterable
from enum import Enum
from typing import Any
from xml.parsers import expat

from confhub.core.i18n import N_
from confhub.meetings.sheet_limits import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_ROW_NUMBER,
    MIB,
    QUOTED_CHARS,
    beyond_last_row,
    refused_file,
    too_long_cell,
    too_many_cells,
)

# Parts in the archive; a workbook of 100 sheets has some 300.
MAX_PARTS = 500
# Everything unpacked together. A 5,000-row chair list written in the most verbose form
# (inline strings, eight columns) unpacks to 2.7 MB.
MAX_UNPACKED_BYTES = 16 * MIB
# One sheet or the shared strings: three times that list. openpyxl streams these.
MAX_STREAMED_PART_BYTES = 8 * MIB
# Any other part (styles, relationships...): openpyxl reads each whole into a tree. Real ones are
# a few KB; a bloated style sheet of Excel's can reach a MB.
MAX_TREE_PART_BYTES = 2 * MIB
# Elements in a tree-parsed part (or outside the cells of a sheet: merged ranges, formatting),
# each of which costs openpyxl a Python object or more.
MAX_TREE_ELEMENTS = 50_000
# Unpacked size over packed size of one part. Spreadsheet XML packs 5 to 20 times; a run of one
# byte packs 1,000 times, which is how a 400 KB file unpacks to 400 MB.
MAX_RATIO = 100
# Small parts may pack as well as they like: they cannot unpack to much.
RATIO_FROM_BYTES = 256 * 1024
# Elements in one row of a sheet or one shared string: openpyxl holds each whole as a tree.
# Forty columns of rich text with ten runs each make about 2,400.
MAX_GROUP_ELEMENTS = 10_000
# Elements among a sheet's cells (cell, value, inline text, runs): a few per cell.
MAX_DATA_ELEMENTS = 4 * MAX_CELLS
# Elements in all the parts together: every sheet full, plus room for the rest. Checking costs
# about half a second a million.
MAX_ARCHIVE_ELEMENTS = MAX_DATA_ELEMENTS + 4 * MAX_TREE_ELEMENTS
# Sheets in the workbook: openpyxl sizes every one of them when it opens the file.
MAX_SHEETS = 50
READ_CHUNK = 64 * 1024

_REL_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WORKBOOK_TYPES = tuple(  # openpyxl's order
    f"application/vnd.{kind}.main+xml"
    for kind in (
        "ms-excel.template.macroEnabled",
        "openxmlformats-officedocument.spreadsheetml.template",
        "ms-excel.sheet.macroEnabled",
        "openxmlformats-officedocument.spreadsheetml.sheet",
    )
)
_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_CONTENT_TYPES = "[Content_Types].xml"
# Parts openpyxl finds by a fixed name and reads whole, whatever else claims them.
_FIXED_TREE_PARTS = frozenset(
    {_CONTENT_TYPES, "xl/styles.xml", "docProps/core.xml", "docProps/custom.xml"}
)
TOO_MUCH_BESIDES_CELLS = N_(
    "the XLSX file holds too much besides the cells (styles, formatting): save the sheet as CSV"
)


def unreadable() -> Exception:
    """The error for a file that is not a well-formed XLSX workbook."""
    return refused_file(N_("not a readable XLSX file"))


class Role(Enum):
    """How openpyxl reads a part, hence which bounds apply while it is scanned."""

    SHEET = "sheet"  # streamed row by row
    STRINGS = "strings"  # streamed, every string kept
    TREE = "tree"  # read whole into a tree


class _Scan:
    """The counters of one part while expat streams it; `handlers` are its role's callbacks
    (the hot path of the check: a sheet's cells take a few microseconds each)."""

    def __init__(self, role: Role, wanted: Iterable[str] = ()) -> None:
        self.role = role
        self.wanted = frozenset(wanted)
        self.found: list[dict[str, str]] = []  # attributes of the wanted elements
        self.elements = 0  # tree elements (in a sheet: those outside its cells)
        self.data_elements = 0  # a sheet's rows, cells and what is inside them
        self.group_elements = 0  # in the current row or shared string
        self.in_data = False  # inside a sheet's <sheetData>
        self.in_text = False  # inside a <v> or <t>: a cell's text
        self.text_chars = 0
        self.text_start = ""
        self.row = 0
        self.cells = 0
        self.strings = 0

    def handlers(self) -> tuple[Any, Any, Any]:
        """(start, end, character data) for expat."""
        if self.role is Role.SHEET:
            return self._sheet_start, self._end, self._text
        if self.role is Role.STRINGS:
            return self._strings_start, self._end, self._text
        return self._tree_start, None, None

    def _tree_start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > MAX_TREE_ELEMENTS:
            raise refused_file(TOO_MUCH_BESIDES_CELLS)
        if self.wanted and name[name.rfind(" ") + 1 :] in self.wanted:
            self.found.append(attrs)

    def _in_group(self) -> None:
        self.group_elements += 1
        if self.group_elements > MAX_GROUP_ELEMENTS:
            raise refused_file(TOO_MUCH_BESIDES_CELLS)

    def _sheet_start(self, name: str, attrs: dict[str, str]) -> None:
        local = name[name.rfind(" ") + 1 :]
        if not self.in_data:
            self._tree_start(name, attrs)
            if local == "sheetData":
                self.in_data = True
            elif local == "dimension":
                _check_dimension(attrs.get("ref", ""))
            return
        self.data_elements += 1
        if self.data_elements > MAX_DATA_ELEMENTS:
            raise too_many_cells()
        if local == "row":
            # openpyxl numbers a row without "r" as the one after the last.
            number = attrs.get("r")
            self.row = _row_number(number) if number is not None else self.row + 1
            if self.row > MAX_ROW_NUMBER:
                raise beyond_last_row()
            self.group_elements = 0
            return
        self._in_group()
        if local == "c":
            self.cells += 1
            if self.cells > MAX_CELLS:
                raise too_many_cells()
            self.text_chars = 0
            self.text_start = ""
        elif local == "v" or local == "t":
            self.in_text = True

    def _strings_start(self, name: str, attrs: dict[str, str]) -> None:
        local = name[name.rfind(" ") + 1 :]
        if local == "si":
            self.strings += 1
            if self.strings > MAX_CELLS:
                raise refused_file(
                    N_("The workbook has more than %(n)s different texts."), n=MAX_CELLS
                )
            self.text_chars = 0
            self.text_start = ""
            self.group_elements = 0
            return
        self._in_group()
        if local == "t":
            self.in_text = True

    def _end(self, name: str) -> None:
        if self.in_text:
            self.in_text = False  # a <v> or <t> holds no element, so this is its end
        elif name.endswith("sheetData"):
            self.in_data = False

    def _text(self, data: str) -> None:
        if not self.in_text:
            return
        if len(self.text_start) < QUOTED_CHARS * 2:
            self.text_start += data[: QUOTED_CHARS * 2]
        self.text_chars += len(data)
        if self.text_chars > MAX_CELL_CHARS:
            row = self.row if self.role is Role.SHEET else None
            raise too_long_cell(self.text_start.strip(), row)


def _row_number(text: str) -> int:
    if not text.isdigit() or len(text) > 7:
        raise unreadable()
    return int(text)


def _check_dimension(ref: str) -> None:
    """`A1:H5003` → row 5003 must be within bounds (the declared size is checked, not trusted:
    rows are counted as they are read too)."""
    last = ref.rpartition(":")[2].lstrip("$ABCDEFGHIJKLMNOPQRSTUVWXYZ").replace("$", "")
    if last.isdigit() and len(last) <= 7 and int(last) > MAX_ROW_NUMBER:
        raise refused_file(
            N_("the sheet says it reaches row %(row)s; at most %(n)s rows are read"),
            row=int(last),
            n=MAX_ROW_NUMBER,
        )


def _refuse_doctype(*_args: Any) -> None:
    # A DTD is what entity expansion ("billion laughs") needs; spreadsheets never carry one.
    raise unreadable()


def _scan(archive: zipfile.ZipFile, name: str, role: Role, wanted: Iterable[str] = ()) -> _Scan:
    """Stream one part through expat with the counters of its role."""
    try:
        size = archive.getinfo(name).file_size
    except KeyError:
        raise unreadable() from None
    if role is Role.TREE and size > MAX_TREE_PART_BYTES:
        raise refused_file(TOO_MUCH_BESIDES_CELLS)
    scan = _Scan(role, wanted)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.buffer_size = READ_CHUNK
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    start, end, text = scan.handlers()
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
    try:
        with archive.open(name) as stream:
            while chunk := stream.read(READ_CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError):
        raise unreadable() from None
    return scan


def _check_directory(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Sizes and ratios as the zip directory declares them: zipfile never unpacks more than a
    part declares (it stops there, and a wrong CRC is an error), so nothing is unpacked yet."""
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise refused_file(N_("The XLSX file has more than %(n)s parts."), n=MAX_PARTS)
    if sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        raise refused_file(
            N_("the XLSX file unpacks to more than %(n)s MB"), n=MAX_UNPACKED_BYTES // MIB
        )
    for part in parts:
        if part.file_size > MAX_STREAMED_PART_BYTES:
            raise refused_file(
                N_("the XLSX file unpacks to more than %(n)s MB"), n=MAX_STREAMED_PART_BYTES // MIB
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise refused_file(
                N_("the XLSX file expands more than %(n)s times when unpacked"), n=MAX_RATIO
            )
        if part.flag_bits & 0x1:
            raise unreadable()  # an encrypted part
    return parts


def _override_types(archive: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Part name → content type, from [Content_Types].xml's overrides."""
    if _CONTENT_TYPES not in names:
        raise unreadable()
    scan = _scan(archive, _CONTENT_TYPES, Role.TREE, wanted={"Override"})
    return {
        a.get("PartName", "").lstrip("/"): a.get("ContentType", "")
        for a in scan.found
        if a.get("PartName")
    }


def _resolve(rels_path: str, target: str) -> str:
    """A relationship's target as a part name (openpyxl's rule)."""
    if target.startswith("/"):
        return target[1:]
    parent = posixpath.split(posixpath.dirname(rels_path))[0]
    return posixpath.normpath(posixpath.join(parent, target))


def _roles(archive: zipfile.ZipFile, names: set[str]) -> tuple[dict[str, Role], set[str]]:
    """Which parts openpyxl streams: the worksheets and the shared strings. Anything claimed by
    a part openpyxl reads whole stays a tree part (the stricter bounds). Also the parts scanned
    to find out (the content types, the workbook and its relationships)."""
    overrides = _override_types(archive, names)
    workbook = next(
        (name for kind in _WORKBOOK_TYPES for name, t in overrides.items() if t == kind),
        "xl/workbook.xml",
    )
    folder, base = posixpath.split(workbook)
    rels_path = posixpath.join(folder, "_rels", f"{base}.rels")
    if workbook not in names or rels_path not in names:
        raise unreadable()
    rels = _scan(archive, rels_path, Role.TREE, wanted={"Relationship"}).found
    targets = {
        r.get("Id", ""): (r.get("Type", ""), _resolve(rels_path, r.get("Target", "")))
        for r in rels
        if r.get("TargetMode") != "External"
    }
    sheets = _scan(archive, workbook, Role.TREE, wanted={"sheet"}).found
    if len(sheets) > MAX_SHEETS:
        raise refused_file(N_("The workbook has more than %(n)s sheets."), n=MAX_SHEETS)
    used = [targets.get(s.get(f"{_REL_TYPES} id", ""), ("", "")) for s in sheets]
    if len({target for _, target in used if target}) < len([t for _, t in used if t]):
        raise unreadable()  # two sheets reading one part: openpyxl would size it twice
    roles = {target: Role.SHEET for kind, target in used if kind.endswith("/worksheet")}
    strings = next((n for n, t in overrides.items() if t == _STRINGS_TYPE), None)
    if strings is not None:
        roles[strings] = Role.STRINGS
    tree = {*_FIXED_TREE_PARTS, workbook, rels_path}
    tree |= {target for kind, target in used if not kind.endswith("/worksheet")}
    streamed = {name: role for name, role in roles.items() if name not in tree and name in names}
    return streamed, {_CONTENT_TYPES, workbook, rels_path}


def check_xlsx(data: bytes) -> None:
    """Refuse (:class:`InvalidInputError` on "file") an XLSX file past any bound; return when
    openpyxl may read it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):
        raise unreadable() from None
    with archive:
        parts = _check_directory(archive)
        names = {p.filename for p in parts}
        roles, scanned = _roles(archive, names)
        elements = 0
        for name in sorted(names - scanned):
            role = roles.get(name)
            if role is None and not name.endswith((".xml", ".rels")):
                continue  # images and binaries: openpyxl does not parse them here
            scan = _scan(archive, name, role or Role.TREE)
            elements += scan.elements + scan.data_elements + scan.strings
            if elements > MAX_ARCHIVE_ELEMENTS:
                raise refused_file(TOO_MUCH_BESIDES_CELLS)
