"""Errors carry their own words: a message id and its values, said in English to the API and in
the page's language to people, from the same raise, with no page reading the English text.

One refusal per domain, raised by the domain's own code: its `detail` and `extra` are the API's
English; a page shows `sentence(error.message.render(language))` (confhub.core.forms).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from confhub.attendance.schemas import CheckinWrite
from confhub.calendar.controllers import _stem as feed_file_stem
from confhub.core.errors import ConfhubError, InvalidInputError
from confhub.core.messages import Message, Messages, sentence, status_word
from confhub.core.text import check_line
from confhub.meetings import chair_import
from confhub.meetings.invitations import require_editable
from confhub.meetings.models import Meeting
from confhub.news.markdown import MAX_MARKDOWN_LENGTH, render_bounded
from confhub.units.matching import UnitIndex
from confhub.units.models import Unit

pytestmark = pytest.mark.unit


def raised(refuse: Callable[[], object]) -> ConfhubError:
    """The error `refuse()` raises."""
    with pytest.raises(ConfhubError) as caught:
        refuse()
    return caught.value


def cancelled_meeting() -> None:
    require_editable(Meeting(status="cancelled"))


def unknown_unit() -> None:
    index = UnitIndex([Unit(code=15148, name="Xã Cẩm Tú", codename="xa_cam_tu")])
    match = index.match("Xã Không Có Thật")
    raise InvalidInputError("unit_codes", Messages([match.problem]))


CASES = [
    pytest.param(
        lambda: check_line("title", "Giao ban\x00"),
        "title: must be one line of text, without control characters",
        "Chỉ một dòng chữ, không có ký tự điều khiển.",
        id="core",
    ),
    pytest.param(
        cancelled_meeting,
        "The meeting is “cancelled”; its connection points can no longer change.",
        "Hội nghị đang ở trạng thái “Đã hủy”, không thể thay đổi điểm cầu nữa.",
        id="meetings",
    ),
    pytest.param(
        lambda: chair_import.parse_sheet(b"%PDF-1.7 ..."),
        "file: this is a PDF file; upload the CSV or XLSX sheet",
        "Hãy tải lên bảng tính CSV hoặc XLSX.",
        id="meetings-sheet",
    ),
    pytest.param(
        lambda: CheckinWrite(point_id=1, status="absent", idempotency_key="k"),
        "reason: say why the point is absent",
        "Nêu lý do vắng.",
        id="attendance",
    ),
    pytest.param(
        lambda: render_bounded("x" * (MAX_MARKDOWN_LENGTH + 1), "markdown"),
        f"markdown: at most {MAX_MARKDOWN_LENGTH} characters",
        f"Tối đa {MAX_MARKDOWN_LENGTH} ký tự.",
        id="news",
    ),
    pytest.param(
        lambda: feed_file_stem("provinces.txt"),
        "Calendar feeds end in .ics",
        "Địa chỉ lịch phải kết thúc bằng .ics.",
        id="calendar",
    ),
    pytest.param(
        unknown_unit,
        "unit_codes: Xã Không Có Thật: no unit named 'Xã Không Có Thật'",
        "Xã Không Có Thật: không có đơn vị nào tên “Xã Không Có Thật”.",
        id="units",
    ),
]


@pytest.mark.parametrize(("refuse", "english", "vietnamese"), CASES)
def test_a_refusal_is_english_for_the_api_and_vietnamese_on_a_page(
    refuse: Callable[[], object], english: str, vietnamese: str
) -> None:
    error = raised(refuse)
    assert error.detail == english
    if isinstance(error, InvalidInputError):
        assert error.extra == [{"key": error.field, "message": english.partition(": ")[2]}]
    assert sentence(error.message.render("vi")) == vietnamese


def test_a_status_is_a_word_of_the_page_and_a_code_in_the_api() -> None:
    message = Message(
        "A meeting cannot go from “%(status_from)s” to “%(status_to)s”.",
        {"status_from": status_word("draft"), "status_to": status_word("ended")},
    )
    assert message.render() == "A meeting cannot go from “draft” to “ended”."
    assert message.render("vi") == "Hội nghị không thể chuyển từ “Bản nháp” sang “Đã kết thúc”."
    assert message.render("en") == "A meeting cannot go from “Draft” to “Ended”."


def test_a_rows_problems_are_said_together_in_each_language() -> None:
    problems = Messages(
        [
            Message("the chair's name is empty"),
            Message("not a phone number: '%(value)s'", {"value": "abc"}),
        ]
    )
    assert problems.render() == "the chair's name is empty; not a phone number: 'abc'"
    assert problems.render("vi") == (
        "thiếu họ tên người chủ trì; “abc” không phải là số điện thoại"
    )


def test_a_wrong_sheet_names_each_bad_row_in_the_apis_extra() -> None:
    error = InvalidInputError(
        "file", "none of the %(n)s rows can be imported; nothing was imported", n=2
    )
    error.more = [
        ("row 3", Messages([Message("the unit is empty")])),
        ("row 5", Messages([Message("the chair's name is empty")])),
    ]
    assert error.extra == [
        {"key": "file", "message": "none of the 2 rows can be imported; nothing was imported"},
        {"key": "row 3", "message": "the unit is empty"},
        {"key": "row 5", "message": "the chair's name is empty"},
    ]
    assert sentence(error.message.render("vi")) == (
        "Không dòng nào trong 2 dòng nhập được; chưa nhập gì."
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("must not be empty", "Must not be empty."),
        ("Row 1: a cell is longer (“Nguyễn…”)", "Row 1: a cell is longer (“Nguyễn…”)."),
        ("Tệp không có nội dung.", "Tệp không có nội dung."),
        ("đã bị thu hồi", "Đã bị thu hồi."),
        ("", ""),
    ],
)
def test_a_page_shows_an_error_as_a_sentence(text: str, shown: str) -> None:
    assert sentence(text) == shown
