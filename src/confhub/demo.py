"""Seed data for `confhub demo`: Thanh Hóa's conference of 10 Sept 2025, as it happened, and a
follow-up conference one hour from now with the same 166 points.

The Cẩm Tú chair is real (as published by the commune); every other chair is generated and
marked as sample data, so nobody mistakes it for a real person.

The standing directory of contacts holds the same chairs for every point, with an e-mail of the
reserved `.example` domain (a demo run with a real mail server sends nothing to anyone) and a
technician's phone, and the gaps a real directory has: some points without an e-mail or a
technician, the Cẩm Tú chair without a phone, and one number that a spreadsheet stored as a
number (its leading 0 lost), restored and flagged for checking.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.models import Role, User
from confhub.accounts.principal import Principal
from confhub.accounts.services import UserService
from confhub.attendance.rollcall import record_checkin
from confhub.attendance.schemas import CheckinWrite
from confhub.meetings.actors import Actor
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.meetings.roll_call_limits import RollCallChanges
from confhub.meetings.services import AgendaEntry, ChairAssignment, MeetingService
from confhub.points.contacts import check_contacts
from confhub.points.models import ConnectionPoint
from confhub.points.services import province_point, save_contacts
from confhub.units.matching import fold
from confhub.units.models import Unit

THANH_HOA = 38
CAM_TU = 15148
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
ORGANIZER_EMAIL = "thuky@thanhhoa.confhub.example"
CHAIR_EMAIL = "camtu@thanhhoa.confhub.example"

SEPT_10_TITLE = (
    "Hội nghị trực tuyến đánh giá hoạt động chính quyền địa phương 2 cấp và công tác khắc phục "
    "hậu quả do bão số 5 gây ra"
)
CONVENING_BODY = "Thường trực Tỉnh ủy Thanh Hóa"
PRESIDING = "Đồng chí Nguyễn Doãn Anh, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy"
CAM_TU_CHAIR = ChairAssignment(
    name="Phạm Thị Nhàn", title="Bí thư Đảng uỷ, Chủ tịch HĐND xã", phone=""
)

_FAMILY = ["Nguyễn", "Lê", "Trịnh", "Hoàng", "Phạm", "Đỗ", "Mai", "Lưu", "Vũ", "Bùi", "Đào", "Hà"]
_MIDDLE = ["Văn", "Thị", "Đình", "Xuân", "Ngọc", "Minh", "Hữu", "Thu"]
_GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dung",
    "Hà",
    "Hải",
    "Hùng",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Quang",
    "Sơn",
    "Thắng",
    "Thảo",
    "Trung",
    "Tuấn",
    "Việt",
    "Yến",
]
_TITLES = ["Bí thư Đảng uỷ", "Chủ tịch UBND", "Bí thư Đảng uỷ, Chủ tịch HĐND", "Phó Bí thư Đảng uỷ"]
# The roll call of 10 Sept: most points present, a few absent (the storm's aftermath), a few
# never answered; Cẩm Tú present with its delegates.
CAM_TU_DELEGATES = 32
_ABSENT_REASONS = [
    "Mất điện do ảnh hưởng của bão số 5, chưa khôi phục được đường truyền",
    "Đường truyền Internet bị gián đoạn do sạt lở",
    "Lãnh đạo xã đang trực tiếp chỉ đạo khắc phục hậu quả bão tại cơ sở",
    "Thiết bị hội nghị trực tuyến hỏng, đang chờ sửa chữa",
]
_ABSENT_COUNT = 6
_PENDING_COUNT = 4
# The directory's gaps (the same on every run): points without an e-mail, without a technician.
MAIL_DOMAIN = "thanhhoa.confhub.example"
_WITHOUT_EMAIL = 12
_WITHOUT_TECHNICIAN = 20
# The unit whose chair's phone a spreadsheet stored as a number (its leading 0 lost).
LOST_ZERO_UNIT = 16531  # Phường Sầm Sơn
PROVINCE_TECHNICIAN = "0237 385 2468"


@dataclass(frozen=True)
class DemoSeed:
    """What the demo printed lines need."""

    organizer_email: str
    organizer_password: str
    chair_email: str
    chair_password: str
    past_meeting_id: int
    upcoming_meeting_id: int
    cam_tu_token: str


def _sample_chair(rng: random.Random, unit_name: str) -> ChairAssignment:
    name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
    kind = "phường" if unit_name.lower().startswith("phường") else "xã"
    title = f"{rng.choice(_TITLES)} {kind}"
    phone = f"09{rng.randrange(10_000_000, 99_999_999)}"
    return ChairAssignment(name=name, title=title, phone=phone, is_sample=True)


async def _invite_province(
    service: MeetingService, meeting: Meeting, points: list[ConnectionPoint], names: dict[int, str]
) -> Invitation:
    """Invite every unit point, name their chairs; return the Cẩm Tú invitation."""
    invitations = await service.invite_points(meeting, points)
    rng = random.Random(2025_09_10)  # noqa: S311 - sample names, the same on every run
    cam_tu: Invitation | None = None
    by_point = {p.id: p for p in points}
    for invitation in invitations:
        unit_code = by_point[invitation.point_id].unit_code
        assert unit_code is not None
        if unit_code == CAM_TU:
            await service.assign_chair(invitation, CAM_TU_CHAIR)
            cam_tu = invitation
        else:
            await service.assign_chair(invitation, _sample_chair(rng, names[unit_code]))
    assert cam_tu is not None
    return cam_tu


async def _roll_call(
    session: AsyncSession, meeting: Meeting, organizer: User, points: list[ConnectionPoint]
) -> None:
    """The ended meeting's roll call, as the secretariat recorded it (same on every run)."""
    rng = random.Random(2025_09_10_14)  # noqa: S311 - sample figures, the same on every run
    others = [p for p in points if p.unit_code != CAM_TU]
    chosen = rng.sample(others, _ABSENT_COUNT + _PENDING_COUNT)
    absent = {p.id for p in chosen[:_ABSENT_COUNT]}
    pending = {p.id for p in chosen[_ABSENT_COUNT:]}
    actor = Actor.of_user(Principal.of(organizer))
    for point in points:
        if point.id in pending:
            continue
        if point.id in absent:
            answer = CheckinWrite(
                point_id=point.id,
                status="absent",
                idempotency_key=f"demo-{meeting.id}-{point.id}",
                reason=rng.choice(_ABSENT_REASONS),
            )
        else:
            delegates = CAM_TU_DELEGATES if point.unit_code == CAM_TU else rng.randint(15, 40)
            answer = CheckinWrite(
                point_id=point.id,
                status="present",
                idempotency_key=f"demo-{meeting.id}-{point.id}",
                delegates_present=delegates,
            )
        await record_checkin(session, meeting, actor, answer)


def _mailbox(unit_name: str) -> str:
    """ "Xã Cẩm Tú" → "ubnd.camtu@thanhhoa.confhub.example", as communes name their mailboxes."""
    words = fold(unit_name).split()
    bare = words[1:] if words and words[0] in ("xa", "phuong") else words
    return f"ubnd.{''.join(bare)}@{MAIL_DOMAIN}"


async def _directory(
    session: AsyncSession,
    organizer: User,
    invitations: list[Invitation],
    points: list[ConnectionPoint],
    names: dict[int, str],
    host: ConnectionPoint | None,
) -> None:
    """Every point's directory entry, as the secretariat imported it from its spreadsheet: the
    chairs the invitations name, an e-mail and a technician's phone, with the gaps above."""
    rng = random.Random(2025_08_01)  # noqa: S311 - sample contacts, the same on every run
    by_point = {p.id: p for p in points}
    others = sorted(p.id for p in points if p.unit_code not in (CAM_TU, LOST_ZERO_UNIT))
    without_email = set(rng.sample(others, _WITHOUT_EMAIL))
    without_technician = set(rng.sample(others, _WITHOUT_TECHNICIAN))
    actor = Principal.of(organizer)
    for invitation in sorted(invitations, key=lambda i: i.point_id):
        point = by_point[invitation.point_id]
        assert point.unit_code is not None
        phone = invitation.chair_phone or ""
        if point.unit_code == LOST_ZERO_UNIT:
            phone = phone.removeprefix("0")  # as the spreadsheet's number cell kept it
        technician = f"08{rng.randrange(10_000_000, 99_999_999)}"
        checked = check_contacts(
            point.id,
            chair_name=invitation.chair_name,
            chair_position=invitation.chair_title,
            phones=[phone] if phone else [],
            email=None if point.id in without_email else _mailbox(names[point.unit_code]),
            technician_phone=None if point.id in without_technician else technician,
        )
        await save_contacts(
            session,
            checked.contacts,
            actor,
            action="imported",
            restored_phones=checked.restored_phones,
        )
    if host is not None:  # the province's own point: its technicians, no chair of its own
        checked = check_contacts(host.id, technician_phone=PROVINCE_TECHNICIAN)
        await save_contacts(session, checked.contacts, actor, action="imported")


async def seed_thanh_hoa(session: AsyncSession, now: datetime | None = None) -> DemoSeed:
    """Create the demo accounts and both Thanh Hóa conferences (units must be loaded)."""
    now = now or datetime.now(UTC)
    users = UserService(session=session)
    organizer_password = secrets.token_urlsafe(9)
    chair_password = secrets.token_urlsafe(9)
    organizer = await users.create_user(
        email=ORGANIZER_EMAIL,
        password=organizer_password,
        role=Role.SECRETARIAT.value,
        province_code=THANH_HOA,
        full_name="Văn phòng Tỉnh ủy Thanh Hóa",
    )
    await users.create_user(
        email=CHAIR_EMAIL,
        password=chair_password,
        role=Role.CHAIR.value,
        unit_code=CAM_TU,
        full_name=CAM_TU_CHAIR.name,
    )

    rows = (
        await session.execute(
            select(ConnectionPoint, Unit.name)
            .join(Unit, Unit.code == ConnectionPoint.unit_code)
            .where(
                ConnectionPoint.province_code == THANH_HOA,
                ConnectionPoint.default_key.like("unit:%"),
            )
            .order_by(ConnectionPoint.unit_code)
        )
    ).all()
    points = [point for point, _name in rows]
    names = {point.unit_code: name for point, name in rows if point.unit_code is not None}
    host = await province_point(session, THANH_HOA)
    meetings = MeetingService(session=session)

    start = datetime(2025, 9, 10, 14, 0, tzinfo=VIETNAM)
    past = await meetings.create_meeting(
        province_code=THANH_HOA,
        title=SEPT_10_TITLE,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(hours=3)).astimezone(UTC),
        convening_body=CONVENING_BODY,
        presiding_official=PRESIDING,
        description=(
            "Kết nối trực tuyến đến 166 xã, phường trên địa bàn tỉnh để đánh giá hoạt động của "
            "chính quyền địa phương 2 cấp và công tác khắc phục hậu quả do bão số 5 gây ra."
        ),
        host_point_id=host.id if host else None,
        status=MeetingStatus.ENDED,
        agenda=[
            AgendaEntry(
                "Báo cáo đánh giá hoạt động chính quyền địa phương 2 cấp",
                "Văn phòng Tỉnh ủy",
                (start + timedelta(minutes=10)).astimezone(UTC),
            ),
            AgendaEntry(
                "Báo cáo công tác khắc phục hậu quả bão số 5",
                "UBND tỉnh",
                (start + timedelta(minutes=50)).astimezone(UTC),
            ),
            AgendaEntry(
                "Ý kiến các điểm cầu xã, phường",
                "",
                (start + timedelta(minutes=90)).astimezone(UTC),
            ),
            AgendaEntry(
                "Kết luận hội nghị",
                "Bí thư Tỉnh ủy Nguyễn Doãn Anh",
                (start + timedelta(minutes=150)).astimezone(UTC),
            ),
        ],
        created_by_id=organizer.id,
    )
    await _invite_province(meetings, past, points, names)
    await _roll_call(session, past, organizer, points)
    past_invitations = list(
        await session.scalars(select(Invitation).where(Invitation.meeting_id == past.id))
    )
    await _directory(session, organizer, past_invitations, points, names, host)

    next_start = now.replace(second=0, microsecond=0) + timedelta(hours=1)
    upcoming = await meetings.create_meeting(
        province_code=THANH_HOA,
        title="Hội nghị trực tuyến giao ban công tác chính quyền địa phương 2 cấp",
        starts_at=next_start,
        ends_at=next_start + timedelta(hours=2),
        convening_body=CONVENING_BODY,
        presiding_official=PRESIDING,
        description="Tiếp theo hội nghị ngày 10/9/2025: kiểm điểm việc khắc phục các tồn tại về "
        "đường truyền và công tác truyền thông tại các xã, phường.",
        host_point_id=host.id if host else None,
        status=MeetingStatus.SCHEDULED,
        agenda=[AgendaEntry("Các xã, phường báo cáo kết quả khắc phục", "")],
        created_by_id=organizer.id,
        # Open from the demo's start, so the check-in link can be tried at once.
        roll_call=RollCallChanges(roll_call_opens_at=now),
    )
    cam_tu = await _invite_province(meetings, upcoming, points, names)
    await session.flush()
    assert cam_tu.checkin_token is not None
    return DemoSeed(
        organizer_email=ORGANIZER_EMAIL,
        organizer_password=organizer_password,
        chair_email=CHAIR_EMAIL,
        chair_password=chair_password,
        past_meeting_id=past.id,
        upcoming_meeting_id=upcoming.id,
        cam_tu_token=cam_tu.checkin_token,
    )
