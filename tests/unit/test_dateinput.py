"""Days and times typed in the forms (issue 18, item 6): dd/mm/yyyy and hh:mm on the 24-hour
clock whatever the browser's locale, the ISO forms for programs and links, and a clear refusal
naming the field and the format otherwise."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest

from confhub.core.dateinput import (
    CLOCK_PATTERN,
    DAY_PATTERN,
    ENTER_CLOCK,
    ENTER_DAY,
    ENTER_MOMENT,
    MOMENT_PATTERN,
    NO_SUCH_DAY,
    parse_clock,
    parse_day,
    parse_moment,
)
from confhub.core.errors import InvalidInputError
from confhub.core.timefmt import format_input_datetime

ZONE = "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    "typed",
    ["14/12/2026 14:30", "14/12/2026 14h30", "14-12-2026 14.30", " 14/12/2026,14:30 ",
     "2026-12-14T14:30", "2026-12-14 14:30:00", "14.12.2026 14:30"],
)  # fmt: skip
def test_a_moment_is_read_in_the_provinces_zone(typed: str) -> None:
    assert parse_moment(typed, ZONE, "starts_at") == datetime(2026, 12, 14, 7, 30, tzinfo=UTC)


def test_a_moment_is_shown_as_it_is_typed() -> None:
    moment = datetime(2026, 12, 14, 7, 30, tzinfo=UTC)
    shown = format_input_datetime(moment, ZONE)
    assert shown == "14/12/2026 14:30"
    assert parse_moment(shown, ZONE, "starts_at") == moment


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", ENTER_MOMENT),
        ("12/14/2026, 02:30 PM", ENTER_MOMENT),  # what Chromium in English showed
        ("14/12/2026", ENTER_MOMENT),
        ("14/12/2026 24:00", ENTER_MOMENT),
        ("14/12/2026 14:61", ENTER_MOMENT),
        ("31/02/2026 14:00", NO_SUCH_DAY),
        ("ngày mai 14:00", ENTER_MOMENT),
    ],
)
def test_anything_else_is_refused_naming_the_field_and_the_format(typed: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_moment(typed, ZONE, "starts_at")
    assert refused.value.field == "starts_at"
    assert getattr(refused.value.message, "id", None) == message
    assert refused.value.message.render("vi").startswith(("Nhập ngày giờ", "Không có ngày"))


def test_days_and_clocks() -> None:
    assert parse_day("9/1/2026", "from") == date(2026, 1, 9)
    assert parse_day("2026-01-09", "from") == date(2026, 1, 9)
    assert parse_day("  ", "from") is None
    assert parse_clock("9h", "agenda") == time(9, 0)
    assert parse_clock("14:05", "agenda") == time(14, 5)
    assert parse_clock("", "agenda") is None
    for typed, reader, message in (
        ("01/13/2026", parse_day, ENTER_DAY),
        ("2:00 PM", parse_clock, ENTER_CLOCK),
        ("25:00", parse_clock, ENTER_CLOCK),
    ):
        with pytest.raises(InvalidInputError) as refused:
            reader(typed, "x")
        assert refused.value.message.render() in (
            message,
            NO_SUCH_DAY % {"day": "01/13/2026"},
        )
    assert re.fullmatch(DAY_PATTERN, "09/01/2026") and re.fullmatch(CLOCK_PATTERN, "14:00")
    assert re.fullmatch(MOMENT_PATTERN, "14/12/2026 14:30")
    assert not re.fullmatch(CLOCK_PATTERN, "02:00 PM")
