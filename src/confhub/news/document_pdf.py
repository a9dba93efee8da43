"""The minutes as a PDF: the official document's HTML template (templates/news/document/) printed
by WeasyPrint, with Noto Serif found by fontconfig and embedded (subset) in the file.

Nothing outside the template is ever fetched: the content is the minutes' sanitised HTML, which
has no images, and a URL fetcher that refuses everything keeps it that way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NoReturn

from jinja2 import Environment, FileSystemLoader, select_autoescape

from confhub.core.templating import resource_dir
from confhub.news import official
from confhub.news.official import OfficialMinutes

TEMPLATE = "news/document/minutes.html"
STYLESHEET = "news/document/minutes.css"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(resource_dir("templates")),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
    )


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"the minutes document fetches nothing ({url[:40]})")


def minutes_html(doc: OfficialMinutes) -> str:
    """The document as HTML, for WeasyPrint."""
    labels = {
        "national_title": official.NATIONAL_TITLE,
        "motto": official.MOTTO,
        "document_type": official.DOCUMENT_TYPE,
        "attendance_heading": official.ATTENDANCE_HEADING,
        "speakers_heading": official.SPEAKERS_HEADING,
        "present_columns": official.PRESENT_COLUMNS,
        "absent_columns": official.ABSENT_COLUMNS,
        "unanswered_columns": official.UNANSWERED_COLUMNS,
        "speaker_columns": official.SPEAKER_COLUMNS,
        "secretary": official.SECRETARY,
        "chair": official.CHAIR,
        "signature_hint": official.SIGNATURE_HINT,
        "recipients": official.RECIPIENTS,
    }
    return _environment().get_template(TEMPLATE).render(doc=doc, **labels)


class PdfExporter:
    """Writes an `OfficialMinutes` as a PDF (slow: call it in the documents' thread)."""

    media_type = "application/pdf"
    suffix = "pdf"

    def render(self, doc: OfficialMinutes) -> bytes:
        """The PDF's bytes."""
        # Imported here: WeasyPrint loads Pango when imported, which only this needs.
        from weasyprint import CSS, HTML

        stylesheet = CSS(filename=str(resource_dir("templates") / STYLESHEET))
        page = HTML(string=minutes_html(doc), url_fetcher=_refuse_fetch, base_url=None)
        pdf: bytes = page.write_pdf(stylesheets=[stylesheet])
        return pdf
