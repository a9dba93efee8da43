"""Reading a page's upload form with the file bounded, so that an over-limit file is answered
with the form again (in the page's language, what was typed kept) instead of a bare 413.

The API keeps Litestar's body limit (`Settings.max_request_body_bytes`, a 413 before a byte is
read). A page's upload route lifts it (:data:`UPLOAD_ROUTE`: `request_max_body_size=None`, and
out of the CSRF middleware, which would read the whole body first) and reads the body here
instead, checking the form's CSRF token itself: the text fields are kept (each at most
:data:`MAX_FIELD_BYTES`), the file is kept only while it stays within its limit, and the rest
of an over-limit file is read and dropped, up to
:data:`DRAIN_FACTOR` times the body limit; past that the reading stops (nginx, in front, refuses
such a body at the body limit anyway, with its own page in the same words).
"""

from __future__ import annotations

from dataclasses import dataclass
from hmac import compare_digest
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.utils.scope.state import ScopeState
from multipart import (  # type: ignore[import-untyped]
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
)

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

# A text field of an upload form (a caption, a token) is short; more is dropped.
MAX_FIELD_BYTES = 64 * 1024
# How much of an over-limit body is read (and dropped) to reach the fields after the file.
DRAIN_FACTOR = 4
MAX_PARTS = 20
# The route options of a page's upload form (`@post(path, **UPLOAD_ROUTE)`).
UPLOAD_ROUTE: dict[str, Any] = {"request_max_body_size": None, "opt": {"exclude_from_csrf": True}}


@dataclass
class UploadForm:
    """What an upload form sent: its fields (the file only when within its limit)."""

    form: FormMultiDict
    too_large: bool


class _Reader:
    """One multipart body, part by part."""

    def __init__(self, file_limit: int) -> None:
        self.file_limit = file_limit
        self.fields: list[tuple[str, Any]] = []
        self.too_large = False
        self.segment: MultipartSegment | None = None
        self.data: UploadFile | bytearray | None = None
        self.size = 0

    async def feed(self, event: Any) -> None:
        if isinstance(event, MultipartSegment):
            self.segment, self.size = event, 0
            self.data = (
                UploadFile(
                    content_type=event.content_type or "application/octet-stream",
                    filename=event.filename,
                    headers=dict(event.headerlist),
                )
                if event.filename
                else bytearray()
            )
        elif event:
            await self._write(event)
        elif self.segment is not None:
            await self._close_part()

    async def _write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if isinstance(self.data, UploadFile):
            if self.size > self.file_limit:
                self.too_large = True
                await self.data.close()
                self.data = None
            else:
                await self.data.write(chunk)
        elif isinstance(self.data, bytearray) and self.size <= MAX_FIELD_BYTES:
            self.data.extend(chunk)

    async def _close_part(self) -> None:
        assert self.segment is not None
        if isinstance(self.data, UploadFile):
            await self.data.seek(0)
            self.fields.append((self.segment.name, self.data))
        elif isinstance(self.data, bytearray):
            text = self.data.decode(self.segment.charset or "utf-8", errors="replace")
            self.fields.append((self.segment.name, text))
        self.segment, self.data = None, None


async def read_upload_form(
    request: Request[Any, Any, Any], file_limit: int, body_limit: int
) -> UploadForm:
    """The form of an upload page, its file dropped (and `too_large` set) past `file_limit`.

    The route must lift Litestar's own body limit (`request_max_body_size=None`).
    """
    content_type, options = request.content_type
    boundary = options.get("boundary")
    if content_type != RequestEncodingType.MULTI_PART or not boundary:
        raise InvalidInputError("file", N_("Choose a file to upload."))
    reader = _Reader(file_limit)
    cap, total = DRAIN_FACTOR * body_limit, 0
    try:
        with PushMultipartParser(boundary.encode(), max_segment_count=MAX_PARTS) as parser:
            async for chunk in request.stream():
                total += len(chunk)
                if total > cap:
                    reader.too_large = True
                    break
                for event in parser.parse(chunk):
                    await reader.feed(event)
                if parser.closed:
                    break
    except (ParserError, ParserLimitReached):
        raise InvalidInputError("file", N_("The upload could not be read.")) from None
    form = FormMultiDict(reader.fields)
    _check_csrf(request, form)
    return UploadForm(form, reader.too_large or total > body_limit)


def _check_csrf(request: Request[Any, Any, Any], form: FormMultiDict) -> None:
    """The CSRF middleware's check, on the form read here (same cookie, token and secret)."""
    config = request.app.csrf_config
    assert config is not None

    def secret_of(token: Any) -> str | None:
        if not isinstance(token, str) or len(token) <= CSRF_SECRET_LENGTH:
            return None
        secret, digest = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        expected = generate_csrf_hash(token=secret, secret=config.secret)
        return secret if compare_digest(digest, expected) else None

    token = form.get("_csrf_token") or request.headers.get(config.header_name)
    sent = secret_of(token)
    cookie = secret_of(request.cookies.get(config.cookie_name))
    if sent is None or cookie is None or not compare_digest(sent, cookie):
        raise PermissionDeniedException("CSRF token verification failed")
    # As the middleware does: the page answered (a form again) carries the same token.
    ScopeState.from_scope(request.scope).csrf_token = str(token)
