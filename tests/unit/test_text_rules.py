"""The rules every text, code and date a user sends goes through (confhub.core.text, .ids and
.dates): a 400 naming the field instead of a value PostgreSQL, a workbook or a calendar cannot
hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
import pytest

from confhub.core import text
from confhub.core.dates import check_day
from confhub.core.errors import InvalidInputError
from confhub.core.ids import parse_code

pytestmark = pytest.mark.unit

ALLOWED = ["Hội nghị trực tuyến", "Xã Cẩm Tú 😀", "a – b “c” ½ ² ﻿", ""]
CONTROL = [chr(c) for c in (*range(0x00, 0x20), 0x7F)]


@pytest.mark.parametrize("value", ALLOWED)
def test_ordinary_text_is_a_line_and_a_text(value: str) -> None:
    assert text.check_line("title", value) == value
    assert text.check_text("minutes", value) == value


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
def test_no_control_character_is_a_line(char: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        text.check_line("title", f"Giao ban{char}")
    assert refused.value.extra == [{"key": "title", "message": text.LINE_MESSAGE}]


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
def test_a_text_keeps_line_breaks_and_tabs_only(char: str) -> None:
    if char in "\t\n\r":
        assert text.is_text(f"a{char}b")
    else:
        assert not text.is_text(f"a{char}b")


def test_lone_surrogates_and_non_characters_are_refused() -> None:
    for value in ("\ud800", "a\udfffb", "\ufffe", "\uffff"):
        assert not text.is_line(value) and not text.is_text(value)


@pytest.mark.parametrize("sent", [b'"Giao\\u0000ban"', b'"Giao ban\\n"', b'"\\r\\nGiao ban"'])
def test_json_fields_follow_the_same_rule_in_words(sent: bytes) -> None:
    title = Annotated[str, msgspec.Meta(max_length=20), text.Line]
    assert msgspec.json.decode(b'"Giao ban"', type=title) == "Giao ban"
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.json.decode(sent, type=title)
    assert text.explain(str(refused.value)) == text.LINE_MESSAGE
    minutes = Annotated[str, text.Text]
    assert msgspec.json.decode(b'"a\\r\\nb\\n"', type=minutes) == "a\r\nb\n"
    assert text.explain("Expected `str` of length <= 10") == "Expected `str` of length <= 10"


def test_digits_are_the_ascii_ones() -> None:
    assert text.is_digits("15148")
    assert not text.is_digits("²")  # "²".isdigit() is True, int("²") fails
    assert not text.is_digits("١٥")
    assert not text.is_digits("")


@pytest.mark.parametrize(
    ("typed", "code"),
    [("38", 38), (" 15148 ", 15148), ("2147483647", 2**31 - 1), ("2147483648", None)],
)
def test_codes_fit_a_32_bit_column(typed: str, code: int | None) -> None:
    assert parse_code(typed) == code


@pytest.mark.parametrize("typed", ["0", "²", "-1", "1e3", "99999999999999999999", ""])
def test_what_is_not_a_code(typed: str) -> None:
    assert parse_code(typed) is None


def test_days_and_times_in_the_years_confhub_knows() -> None:
    assert check_day("from", date(1900, 1, 1)) == date(1900, 1, 1)
    assert check_day("to", datetime(2999, 12, 31, 23, tzinfo=UTC)).year == 2999
    for value in (date(1, 1, 1), date(1899, 12, 31), date(3000, 1, 1), date(9999, 12, 31)):
        with pytest.raises(InvalidInputError):
            check_day("from", value)
