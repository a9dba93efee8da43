"""Hostile uploads, built in a few milliseconds however large they unpack.

A deflate stream flushed with Z_FULL_FLUSH after each chunk forgets its history, so every
further identical chunk compresses to the very same bytes: a 400 MiB run is one compressed MiB
repeated 400 times (about 415 KB), with no 400 MiB ever in memory. The zip container around such
entries is written here by hand (zipfile can only compress what it is given). Used by the tests
and by bench/hostile_uploads.py.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MIB = 1024 * 1024
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{SHEET_NS}" '
    f'xmlns:r="{REL_NS}"><sheets><sheet name="Chủ trì" sheetId="1" r:id="rId1"/></sheets>'
    "</workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


@dataclass(frozen=True)
class Entry:
    """One zip entry: its name and its raw deflate data, CRC-32 and unpacked size."""

    name: str
    data: bytes
    crc: int
    size: int


def deflated(text: str | bytes) -> Entry:
    """An entry holding `text` as it is (named later)."""
    raw = text.encode() if isinstance(text, str) else text
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)  # fast: these parts are small or varied
    return Entry("", compressor.compress(raw) + compressor.flush(), zlib.crc32(raw), len(raw))


def repeated(head: bytes, chunk: bytes, times: int, tail: bytes) -> Entry:
    """An entry holding head + chunk × times + tail, compressed without ever being built."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(tail) + compressor.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    # The first chunk is compressed once above; the same bytes stand for every later one.
    data = first + again * times + last
    return Entry("", data, crc, len(head) + len(chunk) * times + len(tail))


def zip_bytes(entries: dict[str, Entry]) -> bytes:
    """A zip archive of already deflated entries (no zip64: each under 4 GiB)."""
    out = bytearray()
    central = bytearray()
    for name, entry in entries.items():
        encoded = name.encode()
        offset = len(out)
        sizes = (entry.crc, len(entry.data), entry.size, len(encoded))
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, *sizes, 0)
        out += encoded + entry.data
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, offset
        )
        central += encoded
    count, start = len(entries), len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0)
    return bytes(out)


def xlsx(
    sheet: Entry, shared_strings: Entry | None = None, extra: dict[str, Entry] | None = None
) -> bytes:
    """A minimal workbook whose first (only) worksheet is `sheet`."""
    strings = shared_strings or deflated(f'<sst xmlns="{SHEET_NS}" count="0" uniqueCount="0"/>')
    parts = {
        "[Content_Types].xml": deflated(_TYPES),
        "_rels/.rels": deflated(_PACKAGE_RELS),
        "xl/workbook.xml": deflated(_WORKBOOK),
        "xl/_rels/workbook.xml.rels": deflated(_WORKBOOK_RELS),
        "xl/sharedStrings.xml": strings,
        "xl/worksheets/sheet1.xml": sheet,
    }
    return zip_bytes(parts | (extra or {}))


def sheet_xml(rows: str, dimension: str | None = None) -> Entry:
    """A worksheet part with these `<row>` elements."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return deflated(
        f'<worksheet xmlns="{SHEET_NS}">{declared}<sheetData>{rows}</sheetData></worksheet>'
    )


# --- The hostile files --------------------------------------------------------------------------


def huge_shared_string(mebibytes: int = 400) -> bytes:
    """One cell whose shared string is `mebibytes` MiB of "A" (the audit's 410 KB file)."""
    strings = repeated(
        f'<sst xmlns="{SHEET_NS}" count="1" uniqueCount="1"><si><t>'.encode(),
        b"A" * MIB,
        mebibytes,
        b"</t></si></sst>",
    )
    return xlsx(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings)


def many_rows(rows: int = 3_000_000) -> bytes:
    """`rows` rows of one number each, without row numbers (as some generators write them)."""
    row = b"<row><c><v>1</v></c></row>"
    per_chunk = 40_000
    head = f'<worksheet xmlns="{SHEET_NS}"><sheetData>'.encode()
    sheet = repeated(head, row * per_chunk, rows // per_chunk, b"</sheetData></worksheet>")
    return xlsx(sheet)


def far_cell(row: int = 1_048_576, declared: bool = True) -> bytes:
    """One cell in the last row Excel has (a 2 KB file); `declared`: the <dimension> says so,
    else it claims the sheet is just A1."""
    cell = f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>x</t></is></c></row>'
    return xlsx(sheet_xml(cell, dimension=f"A{row}" if declared else "A1"))


def zip_bomb_part(mebibytes: int = 512) -> bytes:
    """A workbook whose styles part unpacks to `mebibytes` MiB of spaces (openpyxl reads the
    styles whole)."""
    styles = repeated(
        f'<styleSheet xmlns="{SHEET_NS}">'.encode(), b" " * MIB, mebibytes, b"</styleSheet>"
    )
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>15148</t></is></c></row>'
    return xlsx(sheet_xml(rows, "A1"), extra={"xl/styles.xml": styles})


def long_inline_cell(chars: int = 100_000) -> bytes:
    """One cell of `chars` characters, written in the sheet itself (no shared string)."""
    text = "Nguyễn Văn A " + "x" * chars
    rows = f'<row r="1"><c r="A1" t="inlineStr"><is><t>{text}</t></is></c></row>'
    return xlsx(sheet_xml(rows, "A1"))


def numbered_rows(rows: int, columns: int = 1) -> bytes:
    """`rows` numbered rows of `columns` distinct numbers: packs like a real sheet (some 8 to 1)."""
    cells = (
        f'<row r="{r}">'
        + "".join(f'<c r="{_column(c)}{r}"><v>{r * 100 + c}</v></c>' for c in range(columns))
        + "</row>"
        for r in range(1, rows + 1)
    )
    return xlsx(sheet_xml("".join(cells)))


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def long_shared_string(chars: int = 5000) -> bytes:
    """One cell whose shared string is `chars` characters long (a few KB unpacked)."""
    strings = deflated(f'<sst xmlns="{SHEET_NS}"><si><t>{"B" * chars}</t></si></sst>')
    return xlsx(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings)


def busy_styles(elements: int = 60_000) -> bytes:
    """A styles part of `elements` tiny elements (openpyxl reads it whole into a tree)."""
    body = "".join(f'<xf numFmtId="{n}"/>' for n in range(elements))
    styles = deflated(f'<styleSheet xmlns="{SHEET_NS}"><cellXfs>{body}</cellXfs></styleSheet>')
    return xlsx(
        sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>'), extra={"xl/styles.xml": styles}
    )


def scattered_elements(parts: int = 480, elements: int = 8000) -> bytes:
    """`parts` extra XML parts of `elements` empty elements each: every part small, together
    millions of elements to parse."""
    part = deflated("<r>" + "<a/>" * elements + "</r>")
    extra = {f"customXml/item{n}.xml": part for n in range(parts)}
    return xlsx(sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>'), extra=extra)


def entity_expansion() -> bytes:
    """A shared strings part whose DTD defines nested entities ("billion laughs")."""
    dtd = '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    strings = deflated(f'{dtd}]><sst xmlns="{SHEET_NS}"><si><t>&i;</t></si></sst>')
    return xlsx(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings)


def many_csv_lines(lines: int = 1_000_000) -> bytes:
    """A CSV of `lines` one-number lines."""
    return b"15148,x\n" * lines


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">L", len(body)) + kind + body + struct.pack(">L", zlib.crc32(kind + body))


def _png(side_x: int, side_y: int, idat: bytes) -> bytes:
    header = struct.pack(">2L5B", side_x, side_y, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width × height pixels and carries almost no data."""
    return _png(width, height, zlib.compress(b"\x00" * 1024))


def png_flood(side: int = 7000) -> bytes:
    """A real side × side black PNG, decodable to its last row, in some 50 KB."""
    rows_per_chunk = 100
    chunk = (b"\x00" * (side + 1)) * rows_per_chunk  # each row: its filter byte, then pixels
    entry = repeated(b"", chunk, side // rows_per_chunk, b"")
    adler = 1
    for _ in range(side // rows_per_chunk):
        adler = zlib.adler32(chunk, adler)
    # The zlib wrapper PNG wants around the raw deflate data: header, data, Adler-32.
    return _png(side, side, b"\x78\xda" + entry.data + struct.pack(">L", adler))


def jpeg_header(width: int, height: int, *, progressive: bool = False, scans: int = 1) -> bytes:
    """The markers of a JPEG that declares width × height (one component) and `scans` scans,
    with no image data worth decoding."""
    frame = b"\xff\xc2" if progressive else b"\xff\xc0"
    sof = frame + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00" + b"\x00" * 16
    return b"\xff\xd8" + sof + sos * scans + b"\xff\xd9"
