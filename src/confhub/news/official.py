"""The minutes as an official document (biên bản hội nghị) in the form of Decree 30/2020/NĐ-CP
(Appendix I and the minutes form of Appendix III): national title and motto, issuing body,
number and symbol, place and date, the document's type and title, its particulars and content,
the attendance, the speakers where recorded, and the signature blocks.

`OfficialMinutes` is what the document says, composed once from the meeting, its minutes and its
roll call; `document_pdf` lays it out through one HTML template (WeasyPrint) and `document_docx`
through python-docx, so both files say the same. Like news/wording.py this is content, not
interface: an official document is Vietnamese whatever language its clerk reads the pages in, so
its words live here rather than in the message catalogs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from confhub.attendance.speaking import record as speaking_record
from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.core.timefmt import format_number, local_time
from confhub.db import DbSession
from confhub.meetings.models import Meeting
from confhub.news.minutes import MinutesService
from confhub.news.wording import MeetingFacts

NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
DOCUMENT_TYPE = "BIÊN BẢN"
ATTENDANCE_HEADING = "Điểm danh các điểm cầu"
PRESENT_HEADING = "Các điểm cầu có mặt"
ABSENT_HEADING = "Các điểm cầu vắng mặt"
UNANSWERED_HEADING = "Các điểm cầu chưa điểm danh"
SPEAKERS_HEADING = "Các ý kiến phát biểu"
PRESENT_COLUMNS = ("STT", "Điểm cầu", "Người chủ trì tại điểm cầu", "Số đại biểu")
ABSENT_COLUMNS = ("STT", "Điểm cầu", "Lý do vắng mặt")
UNANSWERED_COLUMNS = ("STT", "Điểm cầu")
SPEAKER_COLUMNS = ("STT", "Người phát biểu", "Điểm cầu", "Nội dung")
SECRETARY = "THƯ KÝ"
CHAIR = "CHỦ TỌA"
SIGNATURE_HINT = "(Ký, ghi rõ họ tên)"
RECIPIENTS = ("Lưu: VT, hồ sơ.",)
# What the clerk fills in by hand where confhub does not know it (the register's number).
BLANK = "…"
# The usual symbols of the bodies that convene a province's conferences (Decree 30, Appendix
# III; Party bodies by Instruction 36-HD/VPTW). Anything else is left for the clerk.
_SYMBOLS = (
    ("ủy ban nhân dân", "UBND"),
    ("ubnd", "UBND"),
    ("hội đồng nhân dân", "HĐND"),
    ("hđnd", "HĐND"),
    ("tỉnh ủy", "TU"),
    ("thành ủy", "TU"),
)
_PROVINCE_PREFIX = re.compile(r"^(tỉnh|thành phố)\s+", re.IGNORECASE)
_HONORIFIC = re.compile(r"^(đồng chí|ông|bà)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class PresentPoint:
    """A point present at the roll call: who presided there and how many delegates attended."""

    name: str
    presiding: str
    delegates: int | None


@dataclass(frozen=True)
class AbsentPoint:
    """A point that answered absent, with its reason."""

    name: str
    reason: str


@dataclass(frozen=True)
class Speaker:
    """Someone who spoke at the meeting: name, the point they spoke from, what about."""

    name: str
    point: str
    topic: str


@dataclass(frozen=True)
class OfficialMinutes:
    """Everything the document says, in its order (the layouts add no words but the labels
    above)."""

    issuing_body: str
    number_symbol: str
    place_date: str
    title: str
    particulars: tuple[tuple[str, str], ...]
    content_html: str
    present: tuple[PresentPoint, ...]
    absent: tuple[AbsentPoint, ...]
    unanswered: tuple[str, ...]
    roll_call: str
    speakers: tuple[Speaker, ...]
    closing: str
    secretary_name: str
    chair_name: str
    filename: str

    @property
    def absent_heading(self) -> str:
        """ "Các điểm cầu vắng mặt (6)"."""
        return f"{ABSENT_HEADING} ({len(self.absent)})"

    @property
    def present_heading(self) -> str:
        """ "Các điểm cầu có mặt (156)"."""
        return f"{PRESENT_HEADING} ({len(self.present)})"

    @property
    def unanswered_heading(self) -> str:
        """ "Các điểm cầu chưa điểm danh (4)"."""
        return f"{UNANSWERED_HEADING} ({len(self.unanswered)})"


def two_digits_early(day: int, month: int) -> tuple[str, str]:
    """Decree 30's rule: a day below 10, and the months 1 and 2, take a leading zero."""
    return (f"{day:02d}" if day < 10 else str(day), f"{month:02d}" if month < 3 else str(month))


def vietnamese_date(moment: datetime) -> str:
    """ "ngày 10 tháng 9 năm 2025" (a local date)."""
    day, month = two_digits_early(moment.day, moment.month)
    return f"ngày {day} tháng {month} năm {moment.year}"


def vietnamese_clock(moment: datetime) -> str:
    """ "14 giờ 00 phút"."""
    return f"{moment.hour} giờ {moment.minute:02d} phút"


def place_name(province_name: str) -> str:
    """ "Thanh Hóa" for "Tỉnh Thanh Hóa" or "Thanh Hóa": the place a document is dated at."""
    return _PROVINCE_PREFIX.sub("", province_name.strip())


def number_symbol(convening_body: str) -> str:
    """ "Số:      /BB-TU": the number is the clerk's (from the register); the symbol is the
    convening body's when it is one of the usual ones, else left for the clerk too."""
    lowered = convening_body.lower()
    symbol = next((s for key, s in _SYMBOLS if key in lowered), BLANK)
    return f"Số: {BLANK}/BB-{symbol}"


def person_name(presiding_official: str) -> str:
    """ "Nguyễn Doãn Anh" from "Đồng chí Nguyễn Doãn Anh, Ủy viên Trung ương Đảng, …": the name
    under a signature."""
    first = presiding_official.split(",", 1)[0].strip()
    return _HONORIFIC.sub("", first)


def _presiding(point: dict[str, Any]) -> str:
    # Who actually presided, as the check-in confirmed or corrected it, else the invited chair
    # (never one's name with the other's position).
    if (point.get("presiding_name") or "").strip():
        name, position = point["presiding_name"], point.get("presiding_position")
    else:
        name, position = point.get("chair"), point.get("chair_title")
    name, position = (name or "").strip(), (position or "").strip()
    if name and position:
        return f"{name} – {position}"
    return name


def _point_name(point: dict[str, Any]) -> str:
    return str(point.get("unit_name") or point["name"])


def compose(
    facts: MeetingFacts, content_html: str, speakers: list[Speaker], meeting_id: int
) -> OfficialMinutes:
    """The document of a meeting from its facts (roll call included), the minutes' stored HTML
    and the speakers recorded."""
    starts = local_time(facts.starts_at, facts.timezone)
    ends = local_time(facts.ends_at, facts.timezone)
    points = facts.points
    present = tuple(
        PresentPoint(_point_name(p), _presiding(p), p.get("delegates_present"))
        for p in points
        if p["status"] == "present"
    )
    absent = tuple(
        AbsentPoint(_point_name(p), (p.get("reason") or "").strip())
        for p in points
        if p["status"] == "absent"
    )
    unanswered = tuple(_point_name(p) for p in points if p["status"] not in ("present", "absent"))
    totals = facts.totals
    roll_call = (
        f"Có mặt {len(present)}/{len(points)} điểm cầu với "
        f"{format_number(totals.get('delegates', 0), 'vi')} đại biểu; vắng {len(absent)}; "
        f"chưa điểm danh {len(unanswered)}."
    )
    place = facts.host_point_name or f"Tỉnh {place_name(facts.province_name)}"
    if len(points) > 1:
        place += f", kết nối trực tuyến đến {len(points) - 1} điểm cầu"
    particulars = (
        ("Thời gian bắt đầu", f"{vietnamese_clock(starts)}, {vietnamese_date(starts)}"),
        ("Địa điểm", place),
        ("Cơ quan triệu tập", facts.convening_body.strip() or BLANK),
        ("Thành phần tham dự", roll_call + " Danh sách tại mục Điểm danh các điểm cầu."),
        ("Chủ trì (chủ tọa)", facts.presiding_official.strip() or BLANK),
        ("Thư ký (người ghi biên bản)", BLANK),
    )
    closing_day = "cùng ngày" if ends.date() == starts.date() else vietnamese_date(ends)
    return OfficialMinutes(
        issuing_body=(facts.convening_body.strip() or f"Tỉnh {facts.province_name}").upper(),
        number_symbol=number_symbol(facts.convening_body),
        place_date=f"{place_name(facts.province_name)}, {vietnamese_date(starts)}",
        title=facts.title.strip(),
        particulars=particulars,
        content_html=content_html,
        present=present,
        absent=absent,
        unanswered=unanswered,
        roll_call=roll_call,
        speakers=tuple(speakers),
        closing=f"Hội nghị kết thúc vào {vietnamese_clock(ends)} {closing_day}./.",
        secretary_name="",
        chair_name=person_name(facts.presiding_official),
        filename=f"bien-ban-hoi-nghi-{meeting_id}",
    )


async def recorded_speakers(session: DbSession, meeting_id: int) -> list[Speaker]:
    """The people who spoke at the meeting, in the order they took the floor (the speaking
    requests given the floor on the live channel): the document's speakers section lists them
    when there are any."""
    turns = await speaking_record.spoken(session, meeting_id)
    return [Speaker(name=t.speaker, point=t.point_name, topic=t.topic) for t in turns]


async def official_minutes(service: MinutesService, meeting: Meeting) -> OfficialMinutes:
    """The document of `meeting`'s minutes; 404 while the meeting has none (none saved yet)."""
    minutes = await service.find(meeting.id)
    if minutes is None or minutes.revision == 0:
        raise NotFoundError(N_("This meeting has no minutes yet"))
    facts = await service.facts(meeting)
    speakers = await recorded_speakers(service.session, meeting.id)
    return compose(facts, minutes.markdown_html, speakers, meeting.id)
