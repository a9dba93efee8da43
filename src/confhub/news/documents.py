"""The minutes as files (DOCX and PDF), rendered off the event loop and bounded.

A document is a few seconds of CPU (WeasyPrint lays out every row of a province's roll call), so
each process renders one at a time in a thread of its own, never on the event loop, and lets at
most `MAX_WAITING` more wait for it: past that the answer is a 503 with `Retry-After`, and the
clerk's browser asks again a little later. What a render reads is bounded before it starts: the
minutes' stored HTML (from at most 100,000 characters within the Markdown work allowance) and
the meeting's invited points (one province's). bench/minutes_documents.py measures the largest.
The last few files are kept: the same minutes asked for again (a clerk's second click, every
commune's editor downloading the same biên bản) cost nothing until they change.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from litestar import Response

from confhub.core.errors import ConfhubError
from confhub.core.i18n import N_
from confhub.meetings.models import Meeting
from confhub.news.minutes import MinutesService
from confhub.news.official import OfficialMinutes, official_minutes

MAX_WAITING = 4
RETRY_AFTER_SECONDS = 10
_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="confhub-documents")


class Exporter(Protocol):
    """Writes the official minutes in one format."""

    media_type: str
    suffix: str

    def render(self, doc: OfficialMinutes) -> bytes:
        """The file's bytes."""
        ...


_exporters: dict[str, Exporter] = {}


def exporter_for(fmt: str) -> Exporter:
    """The writer of `fmt` ("docx" or "pdf"), imported when first asked for: python-docx and
    WeasyPrint stay out of a serving process that never writes a document (issue 20)."""
    if fmt not in _exporters:
        if fmt == "docx":
            from confhub.news.document_docx import DocxExporter

            _exporters[fmt] = DocxExporter()
        elif fmt == "pdf":
            from confhub.news.document_pdf import PdfExporter

            _exporters[fmt] = PdfExporter()
        else:
            raise ValueError(f"no document format {fmt!r}")
    return _exporters[fmt]


class DocumentsBusyError(ConfhubError):
    """Too many documents are being rendered by this process; `Retry-After` says when to retry."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__(
            N_("Too many documents are being prepared; try again in %(seconds)s seconds"),
            seconds=RETRY_AFTER_SECONDS,
        )
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class _Queue:
    """The renders this process has started or is waiting to start."""

    def __init__(self) -> None:
        self.in_flight = 0

    async def render(self, exporter: Exporter, doc: OfficialMinutes) -> bytes:
        if self.in_flight > MAX_WAITING:
            raise DocumentsBusyError
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(_thread, exporter.render, doc)
        finally:
            self.in_flight -= 1


_queue = _Queue()

KEEP_RECENT = 8


class _Recent:
    """The last `KEEP_RECENT` files rendered, by what they were rendered from."""

    def __init__(self) -> None:
        self.files: OrderedDict[str, bytes] = OrderedDict()

    @staticmethod
    def key(fmt: str, doc: OfficialMinutes) -> str:
        # Frozen dataclasses of plain values: their repr is all a file is made of.
        return hashlib.sha256(f"{fmt}\n{doc!r}".encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        body = self.files.get(key)
        if body is not None:
            self.files.move_to_end(key)
        return body

    def put(self, key: str, body: bytes) -> None:
        self.files[key] = body
        self.files.move_to_end(key)
        while len(self.files) > KEEP_RECENT:
            self.files.popitem(last=False)


_recent = _Recent()


async def minutes_file(service: MinutesService, meeting: Meeting, fmt: str) -> Response[bytes]:
    """The minutes of `meeting` as a `fmt` ("docx" or "pdf") download; 404 while there are
    none, 503 when too many are being rendered."""
    exporter = exporter_for(fmt)
    doc = await official_minutes(service, meeting)
    key = _recent.key(fmt, doc)
    body = _recent.get(key)
    if body is None:
        body = await _queue.render(exporter, doc)
        _recent.put(key, body)
    return Response(
        body,
        media_type=exporter.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{doc.filename}.{exporter.suffix}"',
            "Cache-Control": "private, no-store",
        },
    )
