"""The minutes as a Word document (DOCX, python-docx), laid out as the PDF is: the same words
(news/official.py), the same order, the layout of Decree 30/2020/NĐ-CP in Times New Roman (the
font the decree names, on every clerk's computer).

The minutes' content is their stored, sanitised HTML, read back into paragraphs, lists and
tables: it can only hold the few tags news/markdown.py allows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from confhub.news import official
from confhub.news.official import OfficialMinutes

FONT = "Times New Roman"
TEXT_WIDTH_MM = 165  # A4's 210 mm less the margins, 30 mm left and 15 mm right
_BLOCKS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th"})
_VOID = frozenset({"br", "hr"})
# The order of a paragraph's properties in <w:pPr> (ECMA-376, CT_PPrBase): Word refuses a file
# that breaks it.
PARAGRAPH_PROPERTIES = (
    *("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr"),
    *("w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs"),
    *("w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct"),
    *("w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid"),
    *("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap"),
    *("w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl"),
    *("w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"),
)


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """Sanitised HTML as a small tree (nh3's output is well nested)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _tree(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass(frozen=True)
class _Style:
    bold: bool = False
    italic: bool = False
    strike: bool = False
    underline: bool = False
    mono: bool = False


def _inline(paragraph: Paragraph, node: _Node, style: _Style) -> None:
    """The runs of `node`'s inline content, styled as its tags say."""
    for child in node.children:
        if isinstance(child, str):
            text = " ".join(child.split()) if not style.mono else child
            if child[:1].isspace() and text:
                text = " " + text
            if child[-1:].isspace() and text and not text.endswith(" "):
                text += " "
            if text:
                run = paragraph.add_run(text)
                run.bold, run.italic = style.bold or None, style.italic or None
                run.font.strike, run.underline = style.strike or None, style.underline or None
                if style.mono:
                    run.font.name = "Courier New"
            continue
        tag = child.tag
        if tag == "br":
            paragraph.add_run().add_break()
        elif tag in ("strong", "b"):
            _inline(paragraph, child, _replace(style, bold=True))
        elif tag in ("em", "i"):
            _inline(paragraph, child, _replace(style, italic=True))
        elif tag in ("del", "s"):
            _inline(paragraph, child, _replace(style, strike=True))
        elif tag == "code":
            _inline(paragraph, child, _replace(style, mono=True))
        elif tag == "a":
            _inline(paragraph, child, _replace(style, underline=True))
            href = child.attrs.get("href", "")
            if href and href != _text(child).strip():
                paragraph.add_run(f" ({href})")
        else:
            _inline(paragraph, child, style)


def _replace(style: _Style, **changes: bool) -> _Style:
    return _Style(**{**style.__dict__, **changes})


def _text(node: _Node) -> str:
    return "".join(c if isinstance(c, str) else _text(c) for c in node.children)


class _ContentWriter:
    """Writes the minutes' HTML into the document as paragraphs, lists and tables."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document

    def blocks(self, node: _Node, indent_mm: float = 0, quote: bool = False) -> None:
        """Every block of `node` in order; loose inline content becomes a paragraph."""
        loose = _Node("p")
        for child in node.children:
            if isinstance(child, str) or child.tag not in (*_BLOCKS, "ul", "ol", "table", "hr"):
                loose.children.append(child)
                continue
            self._flush(loose, indent_mm, quote)
            loose = _Node("p")
            self.block(child, indent_mm, quote)
        self._flush(loose, indent_mm, quote)

    def _flush(self, loose: _Node, indent_mm: float, quote: bool) -> None:
        if _text(loose).strip():
            self.paragraph(loose, indent_mm, _Style(italic=quote))

    def paragraph(self, node: _Node, indent_mm: float, style: _Style, prefix: str = "") -> None:
        """One paragraph of inline content."""
        paragraph = self.document.add_paragraph()
        paragraph.paragraph_format.left_indent = Mm(indent_mm) if indent_mm else None
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if prefix:
            paragraph.add_run(prefix)
        _inline(paragraph, node, style)

    def block(self, node: _Node, indent_mm: float, quote: bool) -> None:
        """One block element."""
        tag = node.tag
        if tag in ("h2", "h3", "h4", "h5", "h6"):
            self.paragraph(node, indent_mm, _Style(bold=True, italic=tag != "h2"))
        elif tag in ("ul", "ol"):
            self.listing(node, indent_mm, quote)
        elif tag == "table":
            self.table(node)
        elif tag == "blockquote":
            self.blocks(node, indent_mm + 10, quote=True)
        elif tag == "pre":
            self.paragraph(node, indent_mm, _Style(mono=True))
        elif tag == "hr":
            self.document.add_paragraph("* * *").alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            self.paragraph(node, indent_mm, _Style(italic=quote))

    def listing(self, node: _Node, indent_mm: float, quote: bool) -> None:
        """A list: each item's first paragraph with its bullet or number, nested lists deeper."""
        number = int(node.attrs.get("start") or 1) if node.tag == "ol" else 0
        for item in node.children:
            if isinstance(item, str) or item.tag != "li":
                continue
            marker = f"{number}. " if node.tag == "ol" else "– "
            number += 1
            inline = _Node("li", children=[c for c in item.children if not _is_block(c)])
            blocks = [c for c in item.children if isinstance(c, _Node) and _is_block(c)]
            if not _text(inline).strip() and blocks and blocks[0].tag == "p":
                inline = blocks.pop(0)  # a loose list's item: its first paragraph
            self.paragraph(inline, indent_mm + 6, _Style(italic=quote), prefix=marker)
            for child in blocks:
                self.block(child, indent_mm + 12, quote)

    def table(self, node: _Node) -> None:
        """A table of the content, with borders, its header row in bold."""
        rows = _descendants(node, "tr")
        width = max((len(_cells(r)) for r in rows), default=0)
        if not width:
            return
        table = self.document.add_table(rows=0, cols=width)
        table.style = "Table Grid"
        for row in rows:
            cells = table.add_row().cells
            for cell, source in zip(cells, _cells(row), strict=False):
                paragraph = cell.paragraphs[0]
                _inline(paragraph, source, _Style(bold=source.tag == "th"))


def _is_block(node: _Node | str) -> bool:
    return isinstance(node, _Node) and node.tag in ("p", "ul", "ol", "table", "blockquote", "pre")


def _descendants(node: _Node, tag: str) -> list[_Node]:
    found: list[_Node] = []
    for child in node.children:
        if isinstance(child, _Node):
            found += [child] if child.tag == tag else _descendants(child, tag)
    return found


def _cells(row: _Node) -> list[_Node]:
    return [c for c in row.children if isinstance(c, _Node) and c.tag in ("td", "th")]


# --- the document's frame ------------------------------------------------------------------


def _centered(cell: _Cell | DocxDocument, text: str, *, size: float = 13, **run: bool) -> Paragraph:
    paragraph = cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    added = paragraph.add_run(text)
    added.font.size = Pt(size)
    added.bold, added.italic = run.get("bold") or None, run.get("italic") or None
    return paragraph


def _rule_below(paragraph: Paragraph, width_mm: float, cell_mm: float) -> None:
    """A line under `paragraph`, `width_mm` long and centred in its cell (as the decree draws
    under the issuing body and the motto): the paragraph's bottom border between indents."""
    side = Mm(max(0.0, (cell_mm - width_mm) / 2))
    paragraph.paragraph_format.left_indent = side
    paragraph.paragraph_format.right_indent = side
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (
        ("w:val", "single"),
        ("w:sz", "6"),
        ("w:space", "1"),
        ("w:color", "000000"),
    ):
        bottom.set(qn(name), value)
    borders.append(bottom)
    # In the schema's place (after numPr, before shd, spacing, ind, jc…): Word refuses a file
    # whose paragraph properties are out of order.
    successors = PARAGRAPH_PROPERTIES[PARAGRAPH_PROPERTIES.index("w:pBdr") + 1 :]
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *successors)


def _frame_table(document: DocxDocument, rows: int, widths_mm: tuple[float, ...]) -> Table:
    table: Table = document.add_table(rows=rows, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
    return table


def _drop_first_paragraph(cell: _Cell) -> None:
    first = cell.paragraphs[0]
    if not first.text and len(cell.paragraphs) > 1:
        first._p.getparent().remove(first._p)


def _heading(document: DocxDocument, doc: OfficialMinutes) -> None:
    left, right = 62.0, TEXT_WIDTH_MM - 62.0
    table = _frame_table(document, 2, (left, right))
    issuer, nation = table.rows[0].cells
    _centered(issuer, doc.issuing_body, size=12, bold=True)
    _rule_below(_centered(issuer, "", size=4), left * 0.3, left)
    _centered(nation, official.NATIONAL_TITLE, size=12, bold=True)
    _rule_below(_centered(nation, official.MOTTO, bold=True), 64, right)
    number, place = table.rows[1].cells
    _centered(number, doc.number_symbol)
    _centered(place, doc.place_date, italic=True)
    for cell in (issuer, nation, number, place):
        _drop_first_paragraph(cell)


def _labelled(document: DocxDocument, label: str, value: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(value)


def _grid(document: DocxDocument, columns: tuple[str, ...], rows: Sequence[Sequence[str]]) -> None:
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, columns, strict=True):
        cell.paragraphs[0].add_run(title).bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.paragraphs[0].add_run(value)
    for row in table.rows:
        row.cells[0].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        for cell in row.cells:
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(11)


def _attendance(document: DocxDocument, doc: OfficialMinutes) -> None:
    document.add_paragraph().add_run(official.ATTENDANCE_HEADING.upper()).bold = True
    document.add_paragraph(doc.roll_call)
    if doc.present:
        document.add_paragraph().add_run(doc.present_heading).bold = True
        _grid(
            document,
            official.PRESENT_COLUMNS,
            [
                (str(i), p.name, p.presiding, "" if p.delegates is None else str(p.delegates))
                for i, p in enumerate(doc.present, start=1)
            ],
        )
    if doc.absent:
        document.add_paragraph().add_run(doc.absent_heading).bold = True
        absent = [(str(i), p.name, p.reason) for i, p in enumerate(doc.absent, start=1)]
        _grid(document, official.ABSENT_COLUMNS, absent)
    if doc.unanswered:
        document.add_paragraph().add_run(doc.unanswered_heading).bold = True
        unanswered = [(str(i), name) for i, name in enumerate(doc.unanswered, start=1)]
        _grid(document, official.UNANSWERED_COLUMNS, unanswered)
    if doc.speakers:
        document.add_paragraph().add_run(official.SPEAKERS_HEADING.upper()).bold = True
        spoken = [(str(i), s.name, s.point, s.topic) for i, s in enumerate(doc.speakers, start=1)]
        _grid(document, official.SPEAKER_COLUMNS, spoken)


def _signatures(document: DocxDocument, doc: OfficialMinutes) -> None:
    document.add_paragraph(doc.closing)
    half = TEXT_WIDTH_MM / 2
    table = _frame_table(document, 1, (half, half))
    for cell, role, name in zip(
        table.rows[0].cells,
        (official.SECRETARY, official.CHAIR),
        (doc.secretary_name, doc.chair_name),
        strict=True,
    ):
        _centered(cell, role, bold=True)
        _centered(cell, official.SIGNATURE_HINT, size=12, italic=True)
        for _ in range(3):
            _centered(cell, "")
        _centered(cell, name, bold=True)
        _drop_first_paragraph(cell)
    recipients = document.add_paragraph()
    label = recipients.add_run("Nơi nhận:")
    label.bold, label.italic, label.font.size = True, True, Pt(12)
    for line in official.RECIPIENTS:
        document.add_paragraph(f"- {line}").runs[0].font.size = Pt(11)


class DocxExporter:
    """Writes an `OfficialMinutes` as a DOCX (call it in the documents' thread)."""

    media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    suffix = "docx"

    def render(self, doc: OfficialMinutes) -> bytes:
        """The DOCX's bytes."""
        document = Document()
        section = document.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin = section.bottom_margin = Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
        normal = document.styles["Normal"]
        normal.font.name, normal.font.size = FONT, Pt(13)
        normal.paragraph_format.space_after = Pt(4)
        document.core_properties.title = f"{official.DOCUMENT_TYPE} – {doc.title}"[:255]
        _heading(document, doc)
        _centered(document, official.DOCUMENT_TYPE, size=14, bold=True)
        _centered(document, doc.title, size=14, bold=True)
        for label, value in doc.particulars:
            _labelled(document, label, value)
        document.add_paragraph().add_run("Nội dung:").bold = True
        _ContentWriter(document).blocks(_tree(doc.content_html))
        _attendance(document, doc)
        _signatures(document, doc)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
