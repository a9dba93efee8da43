"""Documents attached to a meeting (agenda papers, reports, scans), stored in the media folder.

An upload is streamed to a temporary file next to its final place, counted (refused as soon as it
passes the size limit), hashed, and recognised by its content: PDF, DOCX, XLSX and common images
only. It is then renamed to a random storage name; the uploaded name is only ever displayed, never
used on disk, and the content type served later is the one recognised here, not the client's.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import tempfile
import unicodedata
import zipfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select

from confhub.accounts.principal import Principal
from confhub.core.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.audit import AuditAction
from confhub.meetings.invitations import require_editable
from confhub.meetings.models import Meeting, MeetingDocument
from confhub.settings import Settings

REFUSED = N_("only PDF, DOCX, XLSX and images are accepted")
MAX_FILENAME = 255
# What `storage_name` looks like; anything else in the database is not ours to open.
_STORAGE_NAME = re.compile(r"[0-9a-f]{32}\.[a-z]{3,4}")


@dataclass(frozen=True)
class FileKind:
    """A recognised document type: its content type and the extensions it is known by."""

    content_type: str
    extensions: tuple[str, ...]

    @property
    def extension(self) -> str:
        """The extension the stored file gets."""
        return self.extensions[0]


PDF = FileKind("application/pdf", (".pdf",))
PNG = FileKind("image/png", (".png",))
JPEG = FileKind("image/jpeg", (".jpg", ".jpeg"))
GIF = FileKind("image/gif", (".gif",))
WEBP = FileKind("image/webp", (".webp",))
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
)
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
# Enough of the start of a file to tell every accepted kind apart.
HEAD_BYTES = 16


def documents_dir(settings: Settings) -> Path:
    """The folder every meeting's documents are stored in."""
    return settings.media_dir / "documents"


def sniff_head(head: bytes) -> FileKind | None:
    """The kind told by the first bytes alone (None for a zip: its members decide)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def sniff_file(path: Path, head: bytes) -> FileKind | None:
    """The kind of a stored file, or None when it is not one we accept."""
    kind = sniff_head(head)
    if kind is not None or not head.startswith(b"PK\x03\x04"):
        return kind
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    # Macro-enabled documents (.docm/.xlsm) carry a vbaProject.bin; they are not accepted.
    if any(name.endswith("vbaProject.bin") for name in names):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def display_filename(filename: str | None, kind: FileKind) -> str:
    """The uploaded name made safe to show and to offer as a download name.

    Only the last path component is kept (either separator), control and bidi-format characters
    are removed (a right-to-left override can disguise "exe.pdf"), and the extension is made to
    match what the content really is.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    name = " ".join(name.split()).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    if f".{suffix.lower()}" not in kind.extensions:
        stem = name  # keep what was there ("report.v2") and add the real extension
        suffix = kind.extension[1:]
    stem = stem or "document"
    limit = MAX_FILENAME - len(suffix) - 1
    return f"{stem[:limit].rstrip(' .') or 'document'}.{suffix}"


def _open_temp(folder: Path) -> tuple[IO[bytes], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    # Same folder as the final file, so the rename at the end is atomic and never copies.
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the caller
        dir=folder, prefix=".upload-", suffix=".part", delete=False
    )
    return handle, Path(handle.name)


async def _close_iterable(chunks: AsyncIterable[bytes]) -> None:
    """Stop the producer (e.g. the request body) instead of reading it to the end."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


@dataclass(frozen=True)
class StoredFile:
    """An upload written to the documents folder under a random name, recognised by content."""

    storage_name: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


async def store_file(
    settings: Settings, filename: str | None, chunks: AsyncIterable[bytes]
) -> StoredFile:
    """Stream an upload to the documents folder (see the module's docstring).

    Raises :class:`PayloadTooLargeError` as soon as the stream passes `settings.max_upload_bytes`
    and :class:`InvalidInputError` for an empty file or one of a refused type, leaving nothing
    behind; the caller removes the stored file (:func:`discard_file`) when what follows fails.
    """
    folder = documents_dir(settings)
    limit = settings.max_upload_bytes
    handle, temp_path = await asyncio.to_thread(_open_temp, folder)
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLargeError.upload(settings.max_upload_mb)
                digest.update(chunk)
                if len(head) < HEAD_BYTES:
                    head = (head + chunk[:HEAD_BYTES])[:HEAD_BYTES]
                await asyncio.to_thread(handle.write, chunk)
        except PayloadTooLargeError:
            await _close_iterable(chunks)
            raise
        await asyncio.to_thread(handle.close)
        if size == 0:
            raise InvalidInputError("file", N_("The file is empty."))
        kind = await asyncio.to_thread(sniff_file, temp_path, head)
        if kind is None:
            raise InvalidInputError("file", REFUSED)
        storage_name = f"{secrets.token_hex(16)}{kind.extension}"
        await asyncio.to_thread(temp_path.replace, folder / storage_name)
    except BaseException:
        # Cancelled, too large or refused: leave nothing on disk.
        await asyncio.to_thread(_discard, handle, temp_path, None)
        raise
    return StoredFile(
        storage_name=storage_name,
        filename=display_filename(filename, kind),
        content_type=kind.content_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
    )


async def discard_file(settings: Settings, storage_name: str | None) -> None:
    """Remove a stored file (one of ours by its name's shape); nothing when there is none."""
    if storage_name and _STORAGE_NAME.fullmatch(storage_name):
        await asyncio.to_thread((documents_dir(settings) / storage_name).unlink, missing_ok=True)


def stored_path(settings: Settings, storage_name: str | None) -> Path:
    """Where a stored file is on disk; 404 for a name that is not one of ours."""
    if not storage_name or not _STORAGE_NAME.fullmatch(storage_name):
        raise NotFoundError(N_("The document has no stored file"))
    return documents_dir(settings) / storage_name


async def store_document(
    session: DbSession,
    settings: Settings,
    meeting: Meeting,
    actor: Principal,
    filename: str | None,
    content_type_hint: str | None,
    chunks: AsyncIterable[bytes],
) -> MeetingDocument:
    """Store an uploaded file as a document of `meeting`.

    Raises :class:`PayloadTooLargeError` as soon as the stream passes `settings.max_upload_bytes`
    and :class:`InvalidInputError` for an empty file or one of a refused type; in every failure
    no file is left behind. `content_type_hint` (the client's claim) is not trusted: the stored
    type is the one recognised from the content.
    """
    del content_type_hint  # kept in the signature so callers pass what they have
    require_editable(meeting)
    stored = await store_file(settings, filename, chunks)
    try:
        document = MeetingDocument(
            meeting_id=meeting.id,
            filename=stored.filename,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            storage_name=stored.storage_name,
            uploaded_by_id=actor.id,
        )
        session.add(document)
        await session.flush()
        audit.record(
            session,
            meeting.id,
            actor,
            AuditAction.DOCUMENT_ADDED,
            document_id=document.id,
            filename=document.filename,
            content_type=document.content_type,
            size_bytes=stored.size_bytes,
        )
        await session.flush()
        return document
    except BaseException:
        # A database error or a cancellation: the file goes too.
        await discard_file(settings, stored.storage_name)
        raise


def _discard(handle: IO[bytes], temp_path: Path, final_path: Path | None) -> None:
    handle.close()
    temp_path.unlink(missing_ok=True)
    if final_path is not None:
        final_path.unlink(missing_ok=True)


async def list_documents(session: DbSession, meeting_id: int) -> list[MeetingDocument]:
    """A meeting's documents, oldest first."""
    rows = await session.scalars(
        select(MeetingDocument)
        .where(MeetingDocument.meeting_id == meeting_id)
        .order_by(MeetingDocument.created_at, MeetingDocument.id)
    )
    return list(rows)


async def get_document(session: DbSession, meeting_id: int, document_id: int) -> MeetingDocument:
    """One document of one meeting; 404 when missing or attached to another meeting."""
    document = await session.scalar(
        select(MeetingDocument).where(
            MeetingDocument.id == document_id, MeetingDocument.meeting_id == meeting_id
        )
    )
    if document is None:
        raise NotFoundError(
            N_("No document %(document)s in meeting %(meeting)s"),
            document=document_id,
            meeting=meeting_id,
        )
    return document


def document_path(settings: Settings, document: MeetingDocument) -> Path:
    """Where a document's file is on disk."""
    # Storage names are made here; refusing any other shape keeps a bad row off the disk.
    if not _STORAGE_NAME.fullmatch(document.storage_name):
        raise NotFoundError(N_("Document %(document)s has no stored file"), document=document.id)
    return documents_dir(settings) / document.storage_name


async def delete_document(
    session: DbSession, settings: Settings, meeting: Meeting, actor: Principal, document_id: int
) -> None:
    """Remove a document and its file."""
    require_editable(meeting)
    document = await get_document(session, meeting.id, document_id)
    path = document_path(settings, document)
    await session.delete(document)
    audit.record(
        session,
        meeting.id,
        actor,
        AuditAction.DOCUMENT_REMOVED,
        document_id=document_id,
        filename=document.filename,
    )
    await session.flush()
    # The file goes once the row is gone from the session's view; a missing file is no error.
    await asyncio.to_thread(path.unlink, missing_ok=True)
