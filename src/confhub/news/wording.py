"""The Vietnamese text confhub writes from what it knows of a meeting: the minutes' header, and
each article's lead ("Chiều 10/9, Thường trực Tỉnh ủy … tổ chức …"), the paragraph about one
connection point, and the province's summary of the roll call.

This is content, not interface: a commune's article is Vietnamese whatever language its editor
reads the pages in, so the sentences live here rather than in the message catalogs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from confhub.core.timefmt import format_clock, format_meeting_time, format_number, local_time
from confhub.news.markdown import escape_markdown

KIND_ORDER = ("xã", "phường", "đặc khu")


def part_of_day(local: datetime) -> str:
    """ "Sáng", "Trưa", "Chiều" or "Tối", as Vietnamese news dates an event."""
    if local.hour < 11:
        return "Sáng"
    if local.hour < 13:
        return "Trưa"
    if local.hour < 18:
        return "Chiều"
    return "Tối"


def dated(starts_at: datetime, timezone: str) -> str:
    """ "Chiều 10/9": the part of the day and the day/month, without leading zeros."""
    local = local_time(starts_at, timezone)
    return f"{part_of_day(local)} {local.day}/{local.month}"


def lower_first(text: str) -> str:
    """ "Xã Cẩm Tú" → "xã Cẩm Tú" (a name mid-sentence)."""
    return text[:1].lower() + text[1:]


def kinds_phrase(unit_names: Sequence[str]) -> str:
    """ "xã, phường" for a list of unit names, in the usual order."""
    found = {kind for name in unit_names for kind in KIND_ORDER if name.lower().startswith(kind)}
    return ", ".join(kind for kind in KIND_ORDER if kind in found) or "đơn vị"


@dataclass(frozen=True)
class MeetingFacts:
    """What the text is written from: the meeting, its place and its roll call."""

    title: str
    convening_body: str
    presiding_official: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    province_name: str
    host_point_name: str | None
    points: list[dict[str, Any]]
    totals: dict[str, int]

    @property
    def unit_points(self) -> list[dict[str, Any]]:
        """The invited points that belong to a unit."""
        return [p for p in self.points if p["unit_code"] is not None]


def lead(facts: MeetingFacts) -> str:
    """The article's lead: when, who convened, what, and how many units were connected."""
    names = [p["unit_name"] or p["name"] for p in facts.unit_points]
    units = len({p["unit_code"] for p in facts.unit_points})
    subject = lower_first(facts.title.strip())
    who = facts.convening_body.strip() or f"Tỉnh {facts.province_name}"
    text = f"{dated(facts.starts_at, facts.timezone)}, {who} tổ chức {subject}"
    if units:
        text += f", kết nối trực tuyến đến {units} {kinds_phrase(names)} trên địa bàn tỉnh"
    return text + "."


def roll_call_sentence(facts: MeetingFacts) -> str:
    """ "Có 156/166 điểm cầu tham dự với 4.321 đại biểu." (empty before any answer)."""
    totals = facts.totals
    if not totals.get("present"):
        return ""
    return (
        f"Hội nghị có {totals['present']}/{totals['invited']} điểm cầu tham dự với tổng số "
        f"{format_number(totals['delegates'], 'vi')} đại biểu."
    )


def presiding_sentence(facts: MeetingFacts) -> str:
    """Who presided over the meeting, at the province's main point."""
    presiding = facts.presiding_official.strip()
    if not presiding:
        return ""
    place = f"điểm cầu chính của tỉnh {facts.province_name}"
    return f"{escape_markdown(presiding)} chủ trì hội nghị tại {escape_markdown(place)}."


def presiding_person(point: dict[str, Any]) -> tuple[str, str]:
    """(name, position) of who presided at a point: the person its chair named at check-in,
    else the invited chair; empty strings when nobody is known."""
    name = (point.get("presiding_name") or "").strip()
    if name:
        return name, (point.get("presiding_position") or "").strip()
    return (point.get("chair") or "").strip(), (point.get("chair_title") or "").strip()


def point_paragraph(point: dict[str, Any]) -> str:
    """The paragraph about one unit's own point: its chair and delegates, or why it was absent."""
    name = escape_markdown(lower_first(point["unit_name"] or point["name"]))
    where = f"điểm cầu {name}"
    # Who presided as the chair confirmed or corrected it at check-in, else the invited chair.
    chair, title = presiding_person(point)
    delegates = point.get("delegates_present")
    if point["status"] == "absent":
        reason = escape_markdown(point.get("reason") or "")
        return f"Điểm cầu {name} vắng mặt tại hội nghị" + (
            f" (lý do: {reason})." if reason else "."
        )
    if chair:
        person = escape_markdown(chair) + (f" – {escape_markdown(title)}" if title else "")
        sentence = f"Chủ trì tại {where} có đồng chí {person}"
        if delegates:
            sentence += f"; cùng dự có {format_number(delegates, 'vi')} đại biểu tại điểm cầu"
    elif delegates:
        sentence = f"Tham dự tại {where} có {format_number(delegates, 'vi')} đại biểu"
    else:
        sentence = f"Hội nghị được kết nối trực tuyến đến {where}"
    return sentence + "."


def province_paragraph(facts: MeetingFacts) -> str:
    """The province article's paragraph: who presided and how the roll call went."""
    return " ".join(s for s in (presiding_sentence(facts), roll_call_sentence(facts)) if s)


def _point_list(points: list[dict[str, Any]], with_delegates: bool) -> str:
    parts = []
    for point in points:
        name = escape_markdown(point["unit_name"] or point["name"])
        if with_delegates and point.get("delegates_present") is not None:
            name += f" ({format_number(point['delegates_present'], 'vi')})"
        elif point.get("reason"):
            name += f" – {escape_markdown(point['reason'])}"
        parts.append(name)
    return "; ".join(parts)


def minutes_header(facts: MeetingFacts) -> str:
    """The structured start of the minutes (Markdown): time, place, convening body, presiding,
    roll-call totals, and the points present, absent and not answered."""
    timezone = facts.timezone
    time = (
        f"{format_meeting_time(facts.starts_at, timezone, 'vi')} – "
        f"{format_clock(facts.ends_at, timezone)}"
    )
    unit_names = [p["unit_name"] or p["name"] for p in facts.unit_points]
    place = facts.host_point_name or f"Tỉnh {facts.province_name}"
    if facts.unit_points:
        place += f" và {len(facts.unit_points)} điểm cầu {kinds_phrase(unit_names)}"
    totals = facts.totals
    roll_call = (
        f"Có mặt {totals['present']}/{totals['invited']} điểm cầu, "
        f"{format_number(totals['delegates'], 'vi')} đại biểu; vắng {totals['absent']}; "
        f"chưa điểm danh {totals['pending']}"
    )
    rows = [
        ("Hội nghị", facts.title),
        ("Thời gian", time),
        ("Địa điểm", place),
        ("Cơ quan triệu tập", facts.convening_body),
        ("Chủ trì", facts.presiding_official),
        ("Điểm danh", roll_call),
    ]
    lines = ["| | |", "| --- | --- |"]
    lines += [f"| **{label}** | {escape_markdown(value)} |" for label, value in rows if value]
    groups = (
        ("Điểm cầu có mặt (số đại biểu)", "present", True),
        ("Điểm cầu vắng (lý do)", "absent", False),
        ("Điểm cầu chưa điểm danh", "pending", False),
    )
    for label, status, with_delegates in groups:
        chosen = [p for p in facts.points if p["status"] == status]
        if chosen:
            lines += ["", f"**{label} – {len(chosen)}:** {_point_list(chosen, with_delegates)}."]
    return "\n".join(lines)
