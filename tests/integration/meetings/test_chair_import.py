"""Assigning chairs from a sheet: CSV and XLSX parsing, the per-row preview, all-or-nothing apply.

Runs on the seeded Thanh Hóa demo: the upcoming conference invites all 166 units, each with a
chair already named (sample chairs, and Phạm Thị Nhàn at Xã Cẩm Tú = 15148).
"""

from __future__ import annotations

import io
import random
import unicodedata
import zipfile
from collections.abc import AsyncIterator

import pytest
from openpyxl import Workbook
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.models import Role, User
from confhub.accounts.principal import Principal
from confhub.core.errors import ConflictError, InvalidInputError
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from confhub.meetings import chair_import
from confhub.meetings.audit import AuditAction
from confhub.meetings.chair_import import SheetRow
from confhub.meetings.models import AuditEntry, Invitation, Meeting
from confhub.points.models import ConnectionPoint

pytestmark = pytest.mark.integration

CAM_TU = 15148
HAC_THANH = 14797  # Phường Hạc Thành
HAM_RONG = 14758  # Phường Hàm Rồng
HOAN_KIEM = 70  # Phường Hoàn Kiếm, Hà Nội

ChairState = tuple[str | None, str | None, str | None, bool]


@pytest.fixture
async def session(demo_db: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(demo_db)
    try:
        async with session_maker(engine)() as db_session:
            yield db_session
    finally:
        await engine.dispose()


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


async def chairs(session: AsyncSession, meeting_id: int) -> dict[int, ChairState]:
    """unit code → (name, title, phone, is_sample) of every invited unit point, read from the DB."""
    rows = await session.execute(
        select(
            ConnectionPoint.unit_code,
            Invitation.chair_name,
            Invitation.chair_title,
            Invitation.chair_phone,
            Invitation.chair_is_sample,
        )
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .where(Invitation.meeting_id == meeting_id, ConnectionPoint.unit_code.is_not(None))
    )
    return {code: (name, title, phone, sample) for code, name, title, phone, sample in rows}


async def audit_count(session: AsyncSession, meeting_id: int, action: AuditAction) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.meeting_id == meeting_id, AuditEntry.action == action.value)
    )
    return int(count or 0)


def csv_bytes(lines: list[str], *, bom: bool = True, encoding: str = "utf-8") -> bytes:
    data = "\r\n".join(lines).encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def xlsx_bytes(rows: list[list[object]], *, start_row: int = 1) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Chủ trì"
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=start_row + offset, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 spells tones as a base letter (with its hat or horn) plus a combining mark."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        for mark in marks:
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1 and composed.encode("cp1258", errors="ignore"):
                base = composed
                marks.remove(mark)
                break
        out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


# --- parsing ------------------------------------------------------------------------------------


def test_csv_with_vietnamese_header_bom_and_semicolons() -> None:
    data = csv_bytes(
        [
            "DANH SÁCH NGƯỜI CHỦ TRÌ CÁC ĐIỂM CẦU;;;",
            "Mã đơn vị;Họ và tên;Chức vụ;Số điện thoại",
            "15148;Lê Văn An;Bí thư Đảng uỷ, Chủ tịch HĐND xã;0912 345 678",
            ";;;",
            "Phường Hạc Thành;Trần Thị Bình;Chủ tịch UBND phường;+84 (237) 385.1234",
        ]
    )
    rows = chair_import.parse_sheet(data)
    assert rows == [
        SheetRow(3, "15148", "Lê Văn An", "Bí thư Đảng uỷ, Chủ tịch HĐND xã", "0912 345 678"),
        SheetRow(
            5, "Phường Hạc Thành", "Trần Thị Bình", "Chủ tịch UBND phường", "+84 (237) 385.1234"
        ),
    ]


def test_csv_header_names_match_without_case_or_diacritics_in_any_column_order() -> None:
    data = csv_bytes(
        ['STT,SĐT,ho ten,"XÃ, PHƯỜNG",chuc vu', "1,0912345678,Lê Văn An,Cẩm Tú,Bí thư"],
        bom=False,
    )
    assert chair_import.parse_sheet(data) == [
        SheetRow(2, "Cẩm Tú", "Lê Văn An", "Bí thư", "0912345678")
    ]


def test_csv_without_header_is_read_by_position_with_tabs() -> None:
    data = csv_bytes(
        ["15148\tLê Văn An\tBí thư Đảng uỷ, Chủ tịch HĐND xã\t0912345678", "cam tu\tB"],
        bom=False,
    )
    assert chair_import.parse_sheet(data) == [
        SheetRow(1, "15148", "Lê Văn An", "Bí thư Đảng uỷ, Chủ tịch HĐND xã", "0912345678"),
        SheetRow(2, "cam tu", "B", "", ""),
    ]


def test_csv_without_header_comma_and_quoted_title() -> None:
    data = csv_bytes(['15148,Lê Văn An,"Bí thư Đảng uỷ, Chủ tịch HĐND xã",0912345678'])
    (row,) = chair_import.parse_sheet(data)
    assert row.chair_title == "Bí thư Đảng uỷ, Chủ tịch HĐND xã"
    assert row.chair_phone == "0912345678"


def test_cells_lose_stray_whitespace_and_control_characters() -> None:
    data = csv_bytes(
        ["Đơn vị;Họ tên;Chức vụ;SĐT", " Cẩm Tú ;Lê  Văn\x01 An;Bí thư;0912\xa0345\xa0678"]
    )
    assert chair_import.parse_sheet(data) == [
        SheetRow(2, "Cẩm Tú", "Lê Văn An", "Bí thư", "0912 345 678")
    ]


def test_csv_in_windows_1258_is_decoded() -> None:
    text = "Mã đơn vị;Họ tên;Chức vụ;Điện thoại\r\nCẩm Tú;Phạm Thị Nhàn;Bí thư Đảng uỷ;0912345678"
    data = encode_cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert chair_import.parse_sheet(data) == [
        SheetRow(2, "Cẩm Tú", "Phạm Thị Nhàn", "Bí thư Đảng uỷ", "0912345678")
    ]


def test_csv_in_utf16_from_excel_unicode_text() -> None:
    data = "Đơn vị\tHọ tên\r\nCẩm Tú\tPhạm Thị Nhàn\r\n".encode("utf-16")
    assert chair_import.parse_sheet(data) == [SheetRow(2, "Cẩm Tú", "Phạm Thị Nhàn", "", "")]


def test_xlsx_with_english_header_below_a_title_and_numeric_cells() -> None:
    data = xlsx_bytes(
        [
            ["Chairs of the conference"],
            [],
            ["unit_code", "Chair", "Title", "Phone"],
            [15148, "Lê Văn An", "Bí thư Đảng uỷ", "0912345678"],
            [],
            [14797.0, "Trần Thị Bình", None, 912345678],
        ]
    )
    assert chair_import.parse_sheet(data) == [
        SheetRow(4, "15148", "Lê Văn An", "Bí thư Đảng uỷ", "0912345678"),
        SheetRow(6, "14797", "Trần Thị Bình", "", "912345678"),
    ]


def test_xlsx_detected_by_content_not_name() -> None:
    data = xlsx_bytes([["Đơn vị", "Họ tên"], ["cam tu", "Lê Văn An"]], start_row=2)
    assert data.startswith(b"PK\x03\x04")
    assert chair_import.parse_sheet(data) == [SheetRow(3, "cam tu", "Lê Văn An", "", "")]


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(random.Random(7).randbytes(4000), id="random-bytes"),
        pytest.param(PNG_BYTES, id="png"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", id="pdf"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), id="xls"),
        pytest.param(docx_bytes(), id="docx"),
        pytest.param(b"PK\x03\x04broken", id="broken-zip"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\r\n;;;\r\n\r\n", id="blank-rows"),
        pytest.param(b"Ma don vi;Ho ten\r\n", id="header-only"),
    ],
)
def test_unreadable_or_empty_files_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        chair_import.parse_sheet(data)
    assert caught.value.field == "file"


def test_too_many_rows_are_refused() -> None:
    lines = ["Mã đơn vị;Họ tên", *(f"{n};Người {n}" for n in range(5001))]
    with pytest.raises(InvalidInputError, match="more than 5000"):
        chair_import.parse_sheet(csv_bytes(lines))
    assert len(chair_import.parse_sheet(csv_bytes(lines[:5001]))) == 5000


# --- preview and apply --------------------------------------------------------------------------


@pytest.mark.parametrize("cam_tu_entry", ["15148", "Xã Cẩm Tú", "Cẩm Tú", "cam tu"])
async def test_csv_import_assigns_chairs_by_code_and_name(
    session: AsyncSession, meeting: Meeting, actor: Principal, cam_tu_entry: str
) -> None:
    data = csv_bytes(
        [
            "Xã, phường;Người chủ trì;Chức vụ;SĐT",
            f"{cam_tu_entry};Lê Văn An;Bí thư Đảng uỷ, Chủ tịch HĐND xã;0912 345 678",
            f"{HAC_THANH};Trần Thị Bình;Chủ tịch UBND phường;",
            "ham rong;Hoàng Minh Cường;;+84 237 385 1234",
        ]
    )
    rows = chair_import.parse_sheet(data)
    preview = await chair_import.preview(session, meeting, actor, rows)
    assert preview.ok, preview.rows
    assert preview.error_count == 0
    assert [(r.row_number, r.unit_code) for r in preview.rows] == [
        (2, CAM_TU),
        (3, HAC_THANH),
        (4, HAM_RONG),
    ]
    assert all(r.point_id is not None for r in preview.rows)
    assert preview.rows[0].unit_name == "Xã Cẩm Tú"
    before = await chairs(session, meeting.id)

    assert (await chair_import.apply(session, meeting, actor, rows)).count == 3

    after = await chairs(session, meeting.id)
    # Phones are stored in the national form (confhub.core.phones).
    assert after[CAM_TU] == ("Lê Văn An", "Bí thư Đảng uỷ, Chủ tịch HĐND xã", "0912345678", False)
    assert after[HAC_THANH] == ("Trần Thị Bình", "Chủ tịch UBND phường", None, False)
    assert after[HAM_RONG] == ("Hoàng Minh Cường", None, "02373851234", False)
    untouched = set(before) - {CAM_TU, HAC_THANH, HAM_RONG}
    assert all(after[code] == before[code] for code in untouched)
    assert await audit_count(session, meeting.id, AuditAction.CHAIRS_IMPORTED) == 1
    entry = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.meeting_id == meeting.id,
            AuditEntry.action == AuditAction.CHAIRS_IMPORTED.value,
        )
    )
    assert entry is not None
    assert entry.details == {"count": 3}
    assert entry.actor_id == actor.id


@pytest.mark.parametrize("cam_tu_entry", ["15148", "Xã Cẩm Tú", "Cẩm Tú", "cam tu"])
async def test_xlsx_import_assigns_chairs_by_code_and_name(
    session: AsyncSession, meeting: Meeting, actor: Principal, cam_tu_entry: str
) -> None:
    data = xlsx_bytes(
        [
            ["Danh sách chủ trì"],
            ["Mã đơn vị", "Họ tên", "Chức vụ", "Điện thoại"],
            [int(cam_tu_entry) if cam_tu_entry.isdigit() else cam_tu_entry, "Lê Văn An"],
            [float(HAC_THANH), "Trần Thị Bình", "Chủ tịch UBND phường", "0237.385.1234"],
            ["Phường Hàm Rồng", "Hoàng Minh Cường", "Bí thư Đảng uỷ phường", 912345678],
        ]
    )
    rows = chair_import.parse_sheet(data)
    preview = await chair_import.preview(session, meeting, actor, rows)
    assert preview.ok, preview.rows
    assert [(r.row_number, r.unit_code) for r in preview.rows] == [
        (3, CAM_TU),
        (4, HAC_THANH),
        (5, HAM_RONG),
    ]
    # The number the spreadsheet kept as a number lost its 0: restored, and said so.
    assert [bool(r.notes) for r in preview.rows] == [False, False, True]
    assert "read as 0912345678" in preview.rows[2].findings.render()

    assert (await chair_import.apply(session, meeting, actor, rows)).count == 3

    after = await chairs(session, meeting.id)
    assert after[CAM_TU] == ("Lê Văn An", None, None, False)
    assert after[HAC_THANH] == ("Trần Thị Bình", "Chủ tịch UBND phường", "02373851234", False)
    assert after[HAM_RONG] == ("Hoàng Minh Cường", "Bí thư Đảng uỷ phường", "0912345678", False)
    assert await audit_count(session, meeting.id, AuditAction.CHAIRS_IMPORTED) == 1


async def test_the_right_rows_are_imported_and_the_rest_listed_with_the_reason(
    session: AsyncSession, meeting: Meeting, actor: Principal
) -> None:
    """Issue 18, item 11: one wrong row no longer stops the 165 others."""
    data = csv_bytes(
        [
            "Mã đơn vị;Họ tên;Chức vụ;Điện thoại",
            "15148;Lê Văn An;Bí thư;0912345678",
            f"{HAC_THANH};Trần Thị Bình;Chủ tịch;0912345679",
            "Xã Không Có Thật;Hoàng Minh Cường;Chủ tịch;0912345670",
            f"{HAM_RONG};Đỗ Thu Hà;Chủ tịch;",
            "Xa Cam Tuu;Ngô Văn Ba;Chủ tịch;",
            "15184;Vũ Thị Tư;Chủ tịch;",
        ]
    )
    rows = chair_import.parse_sheet(data)
    preview = await chair_import.preview(session, meeting, actor, rows)
    assert not preview.ok
    assert (preview.error_count, preview.importable_count) == (3, 3)
    flagged = {r.row_number: r.error or "" for r in preview.rows if r.error}
    assert list(flagged) == [4, 6, 7]
    assert "Không Có Thật" in flagged[4] and "did you mean" not in flagged[4]
    # Near misses of an invited unit's name (folded) or code: "did you mean …".
    assert flagged[6].startswith("no unit named 'Xa Cam Tuu'; did you mean Xã Cẩm Tú (15148)")
    assert "did you mean Xã Cẩm Tú (15148)" in flagged[7]
    vietnamese = next(r for r in preview.rows if r.row_number == 6).problems.render("vi")
    assert "có phải là Xã Cẩm Tú (15148)" in vietnamese

    outcome = await chair_import.apply(session, meeting, actor, rows)
    assert outcome.count == 3
    assert [r.row_number for r in outcome.preview.rows if r.errors] == [4, 6, 7]
    after = await chairs(session, meeting.id)
    assert after[CAM_TU][0] == "Lê Văn An"
    assert await audit_count(session, meeting.id, AuditAction.CHAIRS_IMPORTED) == 1


async def test_a_sheet_without_a_right_row_imports_nothing_and_names_every_row(
    session: AsyncSession, meeting: Meeting, actor: Principal
) -> None:
    data = csv_bytes(
        [
            "Mã đơn vị;Họ tên;Chức vụ;Điện thoại",
            "Xã Không Có Thật;Hoàng Minh Cường;Chủ tịch;0912345670",
            "15148;;Bí thư;0912345678",
        ]
    )
    rows = chair_import.parse_sheet(data)
    before = await chairs(session, meeting.id)
    with pytest.raises(InvalidInputError) as caught:
        await chair_import.apply(session, meeting, actor, rows)
    error = caught.value
    assert error.field == "file"
    assert "none of the 2 rows can be imported; nothing was imported" in error.detail
    assert error.extra is not None
    row_entries = [e for e in error.extra if e["key"].startswith("row ")]
    assert [e["key"] for e in row_entries] == ["row 2", "row 3"]
    assert not session.dirty and not session.new
    assert await chairs(session, meeting.id) == before
    assert before[CAM_TU][0] == "Phạm Thị Nhàn"
    assert await audit_count(session, meeting.id, AuditAction.CHAIRS_IMPORTED) == 0


async def test_duplicate_units_are_both_flagged(
    session: AsyncSession, meeting: Meeting, actor: Principal
) -> None:
    data = csv_bytes(
        [
            "Đơn vị;Họ tên",
            "15148;Lê Văn An",
            f"{HAC_THANH};Trần Thị Bình",
            "cam tu;Hoàng Minh Cường",
        ]
    )
    preview = await chair_import.preview(session, meeting, actor, chair_import.parse_sheet(data))
    assert preview.error_count == 2
    errors = {r.row_number: r.error for r in preview.rows}
    assert errors[3] is None
    assert errors[2] is not None and "duplicate" in errors[2] and "row 4" in errors[2]
    assert errors[4] is not None and "duplicate" in errors[4] and "row 2" in errors[4]


@pytest.mark.parametrize("entry", [str(HOAN_KIEM), "Phường Hoàn Kiếm"])
async def test_unit_of_another_province_names_that_province(
    session: AsyncSession, meeting: Meeting, actor: Principal, entry: str
) -> None:
    rows = [SheetRow(2, entry, "Lê Văn An", "", "")]
    preview = await chair_import.preview(session, meeting, actor, rows)
    (row,) = preview.rows
    assert row.error is not None
    assert "Hà Nội" in row.error
    assert "Thanh Hóa" in row.error
    assert row.unit_code is None


async def test_chair_and_phone_errors_and_uninvited_units(
    session: AsyncSession, meeting: Meeting, actor: Principal
) -> None:
    cam_tu_point = await session.scalar(
        select(ConnectionPoint.id).where(ConnectionPoint.default_key == f"unit:{CAM_TU}")
    )
    await session.execute(
        delete(Invitation).where(
            Invitation.meeting_id == meeting.id, Invitation.point_id == cam_tu_point
        )
    )
    rows = [
        SheetRow(2, "15148", "Lê Văn An", "", ""),
        SheetRow(3, str(HAC_THANH), "", "Chủ tịch", ""),
        SheetRow(4, str(HAM_RONG), "Đỗ Thu Hà", "", "gọi văn phòng"),
        SheetRow(5, "", "Đỗ Thu Hà", "", ""),
        SheetRow(6, "Sầm Sơn", "Đỗ Thu Hà", "", "+84 (237) 385-1234"),
    ]
    preview = await chair_import.preview(session, meeting, actor, rows)
    errors = {r.row_number: r.error for r in preview.rows}
    assert errors[2] is not None and "not invited to this meeting" in errors[2]
    assert errors[3] is not None and "name is empty" in errors[3]
    assert errors[4] is not None and "not a phone number" in errors[4]
    assert errors[5] is not None and "unit is empty" in errors[5]
    assert errors[6] is None
    assert preview.error_count == 4


async def test_apply_refuses_an_ended_meeting(
    session: AsyncSession, demo_seed: DemoSeed, actor: Principal
) -> None:
    past = await session.get(Meeting, demo_seed.past_meeting_id)
    assert past is not None
    with pytest.raises(ConflictError):
        await chair_import.apply(session, past, actor, [SheetRow(2, "15148", "Lê Văn An", "", "")])
