"""What the official minutes say (news/official.py), whatever the layout: Decree 30's date form,
the number and symbol, who presided at each point (the check-in's correction wins, never mixed
with the invited chair's position), and the speakers' section only when speakers were recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from confhub.news.document_pdf import minutes_html
from confhub.news.official import (
    Speaker,
    compose,
    number_symbol,
    person_name,
    place_name,
    vietnamese_date,
)
from confhub.news.wording import MeetingFacts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("day", "month", "expected"),
    [
        (10, 9, "ngày 10 tháng 9 năm 2025"),
        (5, 2, "ngày 05 tháng 02 năm 2025"),
        (1, 1, "ngày 01 tháng 01 năm 2025"),
        (9, 3, "ngày 09 tháng 3 năm 2025"),
        (31, 12, "ngày 31 tháng 12 năm 2025"),
    ],
)
def test_dates_take_a_zero_below_day_10_and_in_months_1_and_2(
    day: int, month: int, expected: str
) -> None:
    assert vietnamese_date(datetime(2025, month, day, 9)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Thường trực Tỉnh ủy Thanh Hóa", "Số: …/BB-TU"),
        ("Ủy ban nhân dân tỉnh Thanh Hóa", "Số: …/BB-UBND"),
        ("UBND tỉnh", "Số: …/BB-UBND"),
        ("Thường trực HĐND tỉnh", "Số: …/BB-HĐND"),
        ("Ban Chỉ đạo phòng, chống thiên tai", "Số: …/BB-…"),
        ("", "Số: …/BB-…"),
    ],
)
def test_the_number_is_the_clerks_and_the_symbol_the_bodys_when_known(
    body: str, expected: str
) -> None:
    assert number_symbol(body) == expected


def test_names_and_places() -> None:
    assert person_name("Đồng chí Nguyễn Doãn Anh, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy") == (
        "Nguyễn Doãn Anh"
    )
    assert person_name("") == ""
    assert place_name("Tỉnh Thanh Hóa") == "Thanh Hóa"
    assert place_name("Thành phố Hà Nội") == "Hà Nội"


def _point(status: str, **fields: Any) -> dict[str, Any]:
    return {
        "point_id": 1,
        "unit_code": 15148,
        "unit_name": "Xã Cẩm Tú",
        "name": "Hội trường UBND xã Cẩm Tú",
        "chair": "Phạm Thị Nhàn",
        "chair_title": "Bí thư Đảng uỷ",
        "status": status,
        "delegates_present": 32 if status == "present" else None,
        "reason": None,
        **fields,
    }


def _facts(points: list[dict[str, Any]]) -> MeetingFacts:
    return MeetingFacts(
        title="Hội nghị giao ban",
        convening_body="Ủy ban nhân dân tỉnh Thanh Hóa",
        presiding_official="Ông Đỗ Minh Tuấn, Chủ tịch UBND tỉnh",
        starts_at=datetime(2026, 1, 5, 1, 30, tzinfo=UTC),
        ends_at=datetime(2026, 1, 5, 4, 0, tzinfo=UTC),
        timezone="Asia/Ho_Chi_Minh",
        province_name="Thanh Hóa",
        host_point_name=None,
        points=points,
        totals={"delegates": 32, "invited": len(points), "present": 1},
    )


def test_who_presided_is_the_check_ins_answer_else_the_invited_chair() -> None:
    doc = compose(
        _facts(
            [
                _point("present"),
                _point("present", unit_name="Xã Cẩm Vân", presiding_name="Lê Văn Thành"),
                _point(
                    "present",
                    unit_name="Xã Cẩm Tân",
                    presiding_name="Trịnh Thị Hoa",
                    presiding_position="Phó Chủ tịch UBND xã",
                ),
                _point("absent", unit_name="Xã Cẩm Ngọc", reason="Mất điện"),
                _point("pending", unit_name="Xã Cẩm Thạch"),
            ]
        ),
        "<p>Nội dung.</p>",
        [],
        7,
    )
    assert [(p.name, p.presiding) for p in doc.present] == [
        ("Xã Cẩm Tú", "Phạm Thị Nhàn – Bí thư Đảng uỷ"),
        ("Xã Cẩm Vân", "Lê Văn Thành"),  # not the invited chair's position
        ("Xã Cẩm Tân", "Trịnh Thị Hoa – Phó Chủ tịch UBND xã"),
    ]
    assert [(p.name, p.reason) for p in doc.absent] == [("Xã Cẩm Ngọc", "Mất điện")]
    assert doc.unanswered == ("Xã Cẩm Thạch",)
    assert doc.place_date == "Thanh Hóa, ngày 05 tháng 01 năm 2026"
    assert doc.issuing_body == "ỦY BAN NHÂN DÂN TỈNH THANH HÓA"
    assert doc.chair_name == "Đỗ Minh Tuấn"
    assert doc.closing == "Hội nghị kết thúc vào 11 giờ 00 phút cùng ngày./."
    assert dict(doc.particulars)["Thời gian bắt đầu"] == "8 giờ 30 phút, ngày 05 tháng 01 năm 2026"


def test_the_speakers_section_only_when_speakers_were_recorded() -> None:
    facts = _facts([_point("present")])
    without = minutes_html(compose(facts, "<p>Nội dung.</p>", [], 7))
    assert "Các ý kiến phát biểu" not in without
    spoken = [Speaker("Phạm Thị Nhàn", "Xã Cẩm Tú", "Khắc phục hậu quả bão số 5")]
    with_speakers = minutes_html(compose(facts, "<p>Nội dung.</p>", spoken, 7))
    assert "Các ý kiến phát biểu" in with_speakers
    assert "Khắc phục hậu quả bão số 5" in with_speakers


def test_the_document_escapes_what_people_typed() -> None:
    facts = _facts([_point("absent", reason="<b>Mất điện</b>")])
    page = minutes_html(compose(facts, "<p>Nội dung.</p>", [], 7))
    assert "&lt;b&gt;Mất điện&lt;/b&gt;" in page and "<b>Mất" not in page
