"""Times shown the Vietnamese way ("14:00, thứ Tư, 10/09/2025") in the province's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal


def local_time(value: datetime, timezone: str) -> datetime:
    """`value` (UTC-aware) in the given zone."""
    return value.astimezone(ZoneInfo(timezone))


def _weekday_vi(local: datetime) -> str:
    # Babel says "Thứ Tư" … "Chủ Nhật"; Vietnamese writes "thứ Tư" mid-phrase, "Chủ nhật".
    weekday = format_datetime(local, "EEEE", locale="vi")
    return "Chủ nhật" if local.weekday() == 6 else weekday[:1].lower() + weekday[1:]


def format_meeting_time(value: datetime, timezone: str, language: str) -> str:
    """A meeting's time as people read it: "14:00, thứ Tư, 10/09/2025" in Vietnamese."""
    local = local_time(value, timezone)
    if language == "vi":
        return f"{local:%H:%M}, {_weekday_vi(local)}, {local:%d/%m/%Y}"
    return format_datetime(local, "HH:mm, EEEE, d MMMM yyyy", locale="en")


def format_day(value: datetime, timezone: str, language: str) -> str:
    """A day with its weekday: "thứ Tư, 10/09/2025" / "Wednesday, 10 September 2025"."""
    local = local_time(value, timezone)
    if language == "vi":
        return f"{_weekday_vi(local)}, {local:%d/%m/%Y}"
    return format_datetime(local, "EEEE, d MMMM yyyy", locale="en")


def format_clock(value: datetime, timezone: str) -> str:
    """The time of day, "14:00", the same in both languages."""
    return f"{local_time(value, timezone):%H:%M}"


def format_input_datetime(value: datetime, timezone: str) -> str:
    """A day and time as the forms show it (confhub.core.dateinput): "10/09/2025 14:00"."""
    return f"{local_time(value, timezone):%d/%m/%Y %H:%M}"


def format_iso_day(value: datetime, timezone: str) -> str:
    """The local day of `value` for links (`?date=2025-09-10`)."""
    return f"{local_time(value, timezone):%Y-%m-%d}"


def format_number(value: int, language: str) -> str:
    """2050 → "2.050" in Vietnamese, "2,050" in English."""
    return format_decimal(value, locale=language)
