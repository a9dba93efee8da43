"""Documents of a meeting: streamed to disk under a random name, recognised by content, limited
in size, and never leaving a file behind when refused."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.models import Role, User
from confhub.accounts.principal import Principal
from confhub.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
)
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from confhub.meetings import documents
from confhub.meetings.audit import AuditAction
from confhub.meetings.models import AuditEntry, Meeting, MeetingDocument
from confhub.settings import Settings
from tests.conftest import make_settings

pytestmark = pytest.mark.integration

PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types/>',
            "word/document.xml": '<?xml version="1.0"?><w:document/>',
        }
    )


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Mã đơn vị", "Họ tên"])
    sheet.append([15148, "Phạm Thị Nhàn"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def chunked(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    """A small chunk size exercises reassembling the head across chunks."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
async def session(demo_db: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(demo_db)
    try:
        async with session_maker(engine)() as db_session:
            yield db_session
    finally:
        await engine.dispose()


@pytest.fixture
def settings(demo_db: str, tmp_path: Path) -> Settings:
    return make_settings(demo_db, tmp_path)


@pytest.fixture
def folder(settings: Settings) -> Path:
    return documents.documents_dir(settings)


@pytest.fixture
async def actor(session: AsyncSession, demo_seed: DemoSeed) -> Principal:
    user = await session.scalar(select(User).where(User.email == demo_seed.organizer_email))
    assert user is not None
    return Principal(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=Role.SECRETARIAT,
        province_code=38,
        unit_code=None,
    )


@pytest.fixture
async def meeting(session: AsyncSession, demo_seed: DemoSeed) -> Meeting:
    found = await session.get(Meeting, demo_seed.upcoming_meeting_id)
    assert found is not None
    return found


async def audit_actions(
    session: AsyncSession, meeting_id: int
) -> list[tuple[str, dict[str, object]]]:
    rows = await session.scalars(
        select(AuditEntry).where(AuditEntry.meeting_id == meeting_id).order_by(AuditEntry.id)
    )
    return [(e.action, e.details) for e in rows]


@pytest.mark.parametrize(
    ("filename", "data", "content_type", "extension"),
    [
        ("Báo cáo bão số 5.pdf", PDF_BYTES, "application/pdf", ".pdf"),
        ("Chương trình.docx", docx_bytes(), DOCX_TYPE, ".docx"),
        ("Danh sách.xlsx", xlsx_bytes(), XLSX_TYPE, ".xlsx"),
        ("Ảnh hội trường.png", PNG_BYTES, "image/png", ".png"),
    ],
)
async def test_accepted_documents_are_stored_with_the_sniffed_type(
    session: AsyncSession,
    settings: Settings,
    folder: Path,
    meeting: Meeting,
    actor: Principal,
    filename: str,
    data: bytes,
    content_type: str,
    extension: str,
) -> None:
    document = await documents.store_document(
        session, settings, meeting, actor, filename, "text/html", chunked(data)
    )

    # The client said text/html; the content decides.
    assert document.content_type == content_type
    assert document.filename == filename
    assert document.size_bytes == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.uploaded_by_id == actor.id
    assert document.storage_name.endswith(extension)
    assert filename not in document.storage_name
    path = documents.document_path(settings, document)
    assert path.parent == folder
    assert path.read_bytes() == data
    # Only the stored file: no temporary file is left next to it.
    assert files_in(folder) == [document.storage_name]
    assert [d.id for d in await documents.list_documents(session, meeting.id)] == [document.id]
    assert await documents.get_document(session, meeting.id, document.id) is document
    actions = await audit_actions(session, meeting.id)
    assert (AuditAction.DOCUMENT_ADDED.value, filename) in [
        (action, details.get("filename")) for action, details in actions
    ]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<!DOCTYPE html><html><script>alert(document.cookie)</script>", id="html"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200), id="exe"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', id="svg"),
        pytest.param(zip_bytes({"payload.exe": "MZ"}), id="plain-zip"),
        pytest.param(
            zip_bytes({"word/document.xml": "<w/>", "word/vbaProject.bin": "x"}), id="docm"
        ),
        pytest.param(b"PK\x03\x04not really a zip", id="broken-zip"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_other_content_is_refused_and_leaves_no_file(
    session: AsyncSession,
    settings: Settings,
    folder: Path,
    meeting: Meeting,
    actor: Principal,
    data: bytes,
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await documents.store_document(
            session, settings, meeting, actor, "x.pdf", "application/pdf", chunked(data)
        )
    assert caught.value.field == "file"
    assert files_in(folder) == []
    assert await documents.list_documents(session, meeting.id) == []


async def test_too_large_upload_stops_early_and_leaves_no_file(
    session: AsyncSession,
    settings: Settings,
    folder: Path,
    meeting: Meeting,
    actor: Principal,
) -> None:
    small = settings.with_overrides(max_upload_mb=1)
    chunk_size = 64 * 1024
    total_chunks = 2 * 1024 * 1024 // chunk_size
    produced: list[int] = []
    finished: list[bool] = []

    async def two_mebibytes() -> AsyncIterator[bytes]:
        try:
            for n in range(total_chunks):
                produced.append(n)
                head = b"%PDF-1.4\n" if n == 0 else b""
                yield head + bytes(chunk_size - len(head))
        finally:
            finished.append(True)

    with pytest.raises(PayloadTooLargeError) as caught:
        await documents.store_document(
            session, small, meeting, actor, "big.pdf", "application/pdf", two_mebibytes()
        )

    assert caught.value.status_code == 413
    # 1 MiB is 16 chunks: the 17th passes the limit, and reading stops there.
    assert len(produced) == 17
    assert len(produced) < total_chunks
    assert finished == [True]  # the producer was closed, not left hanging
    assert files_in(folder) == []
    assert await documents.list_documents(session, meeting.id) == []


async def test_exactly_the_limit_is_accepted(
    session: AsyncSession, settings: Settings, meeting: Meeting, actor: Principal
) -> None:
    small = settings.with_overrides(max_upload_mb=1)
    data = b"%PDF-1.4\n" + bytes(small.max_upload_bytes - 9)
    document = await documents.store_document(
        session, small, meeting, actor, "edge.pdf", None, chunked(data, 64 * 1024)
    )
    assert document.size_bytes == small.max_upload_bytes


@pytest.mark.parametrize(
    ("filename", "data", "shown"),
    [
        ("../../etc/passwd\x00.pdf", PDF_BYTES, "passwd.pdf"),
        ("C:\\Users\\thuky\\Desktop\\Báo cáo.pdf", PDF_BYTES, "Báo cáo.pdf"),
        ("invoice\u202efdp.exe", PDF_BYTES, "invoicefdp.exe.pdf"),
        ("..", PDF_BYTES, "document.pdf"),
        (None, PNG_BYTES, "document.png"),
        ("scan.pdf", PNG_BYTES, "scan.pdf.png"),
        ("a" * 300 + ".pdf", PDF_BYTES, "a" * 251 + ".pdf"),
    ],
)
async def test_filenames_are_sanitised_and_never_used_on_disk(
    session: AsyncSession,
    settings: Settings,
    folder: Path,
    meeting: Meeting,
    actor: Principal,
    filename: str | None,
    data: bytes,
    shown: str,
) -> None:
    document = await documents.store_document(
        session, settings, meeting, actor, filename, None, chunked(data)
    )
    assert document.filename == shown
    assert len(document.filename) <= 255
    assert len(document.storage_name) == 32 + len(Path(document.storage_name).suffix)
    assert files_in(folder) == [document.storage_name]
    assert not (settings.media_dir.parent / "etc").exists()


async def test_delete_removes_the_file_and_the_row(
    session: AsyncSession,
    settings: Settings,
    folder: Path,
    meeting: Meeting,
    actor: Principal,
) -> None:
    document = await documents.store_document(
        session, settings, meeting, actor, "Báo cáo.pdf", None, chunked(PDF_BYTES)
    )
    path = documents.document_path(settings, document)
    assert path.exists()

    await documents.delete_document(session, settings, meeting, actor, document.id)

    assert not path.exists()
    assert files_in(folder) == []
    with pytest.raises(NotFoundError):
        await documents.get_document(session, meeting.id, document.id)
    assert await session.get(MeetingDocument, document.id) is None
    actions = [action for action, _ in await audit_actions(session, meeting.id)]
    assert actions[-2:] == [AuditAction.DOCUMENT_ADDED.value, AuditAction.DOCUMENT_REMOVED.value]
    with pytest.raises(NotFoundError):
        await documents.delete_document(session, settings, meeting, actor, document.id)


async def test_documents_of_another_meeting_are_not_found(
    session: AsyncSession,
    settings: Settings,
    meeting: Meeting,
    actor: Principal,
    demo_seed: DemoSeed,
) -> None:
    document = await documents.store_document(
        session, settings, meeting, actor, "a.pdf", None, chunked(PDF_BYTES)
    )
    with pytest.raises(NotFoundError):
        await documents.get_document(session, demo_seed.past_meeting_id, document.id)


async def test_an_ended_meeting_takes_no_documents(
    session: AsyncSession,
    settings: Settings,
    folder: Path,
    actor: Principal,
    demo_seed: DemoSeed,
) -> None:
    past = await session.get(Meeting, demo_seed.past_meeting_id)
    assert past is not None
    with pytest.raises(ConflictError):
        await documents.store_document(
            session, settings, past, actor, "a.pdf", None, chunked(PDF_BYTES)
        )
    assert files_in(folder) == []


def test_document_path_refuses_a_storage_name_that_is_not_ours(settings: Settings) -> None:
    document = MeetingDocument(id=1, storage_name="../../etc/passwd")
    with pytest.raises(NotFoundError):
        documents.document_path(settings, document)


def test_sniffing_by_content() -> None:
    assert documents.sniff_head(b"GIF89a\x01\x00") == documents.GIF
    assert documents.sniff_head(b"\xff\xd8\xff\xe0\x00\x10JFIF") == documents.JPEG
    assert documents.sniff_head(b"RIFF\x24\x00\x00\x00WEBPVP8 ") == documents.WEBP
    assert documents.sniff_head(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None
