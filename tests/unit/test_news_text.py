"""What confhub writes by itself: slugs from Vietnamese titles, the dated lead ("Chiều 10/9"),
the paragraph about a unit's own point, and Markdown escaping of inserted names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from confhub.news.markdown import escape_markdown, render_markdown
from confhub.news.slugs import slugify, unique_slug
from confhub.news.wording import MeetingFacts, dated, kinds_phrase, lead, point_paragraph

pytestmark = pytest.mark.unit

ZONE = "Asia/Ho_Chi_Minh"
TITLE = (
    "Hội nghị trực tuyến đánh giá hoạt động chính quyền địa phương 2 cấp và công tác khắc phục "
    "hậu quả do bão số 5 gây ra"
)


def test_slug_of_a_vietnamese_title() -> None:
    slug = slugify(TITLE)
    assert slug.startswith("hoi-nghi-truc-tuyen-danh-gia-hoat-dong-chinh-quyen-dia-phuong-2-cap")
    assert slug.isascii()
    assert len(slug) <= 100
    assert not slug.endswith("-")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Đảng uỷ xã Cẩm Tú", "dang-uy-xa-cam-tu"),
        ("ĐẠI HỘI ĐẢNG BỘ", "dai-hoi-dang-bo"),
        ("  Tin   nhanh!!  ", "tin-nhanh"),
        ("Quyết định số 15/QĐ-UBND", "quyet-dinh-so-15-qd-ubnd"),
        ("Thông báo: Ngày 10/9/2025", "thong-bao-ngay-10-9-2025"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("!!!", "bai-viet"),
        ("Thủy lợi Hoằng Hóa", "thuy-loi-hoang-hoa"),
    ],
)
def test_slugify(title: str, expected: str) -> None:
    assert slugify(title) == expected


def test_slugs_are_unique_per_site() -> None:
    assert unique_slug("tin", set()) == "tin"
    assert unique_slug("tin", {"tin"}) == "tin-2"
    assert unique_slug("tin", {"tin", "tin-2", "tin-3"}) == "tin-4"


@pytest.mark.parametrize(
    ("utc_hour", "expected"),
    [
        (7, "Chiều 10/9"),  # 14:00 in Vietnam
        (1, "Sáng 10/9"),  # 08:00
        (3, "Sáng 10/9"),  # 10:00
        (5, "Trưa 10/9"),  # 12:00
        (12, "Tối 10/9"),  # 19:00
    ],
)
def test_the_lead_is_dated_the_vietnamese_way(utc_hour: int, expected: str) -> None:
    assert dated(datetime(2025, 9, 10, utc_hour, 0, tzinfo=UTC), ZONE) == expected


def test_a_date_has_no_leading_zeros() -> None:
    assert dated(datetime(2025, 1, 5, 1, 30, tzinfo=UTC), ZONE) == "Sáng 5/1"


def _point(**changes: object) -> dict[str, object]:
    point: dict[str, object] = {
        "unit_code": 15148,
        "unit_name": "Xã Cẩm Tú",
        "name": "Hội trường UBND xã Cẩm Tú",
        "chair": "Phạm Thị Nhàn",
        "chair_title": "Bí thư Đảng uỷ, Chủ tịch HĐND xã",
        "status": "present",
        "delegates_present": 32,
        "reason": None,
    }
    point.update(changes)
    return point


def test_the_paragraph_about_the_units_own_point() -> None:
    assert point_paragraph(_point()) == (
        "Chủ trì tại điểm cầu xã Cẩm Tú có đồng chí Phạm Thị Nhàn – Bí thư Đảng uỷ, "
        "Chủ tịch HĐND xã; cùng dự có 32 đại biểu tại điểm cầu."
    )


def test_a_point_without_chair_or_absent() -> None:
    assert point_paragraph(_point(chair=None, delegates_present=1250)) == (
        "Tham dự tại điểm cầu xã Cẩm Tú có 1.250 đại biểu."
    )
    assert point_paragraph(_point(status="absent", reason="Mất điện")) == (
        "Điểm cầu xã Cẩm Tú vắng mặt tại hội nghị (lý do: Mất điện)."
    )


def test_names_cannot_inject_markdown() -> None:
    paragraph = point_paragraph(_point(chair="[x](javascript:alert(1)) **bold** <b>"))
    html = str(render_markdown(paragraph))
    assert "<a" not in html
    assert "<strong>" not in html
    # Markdown stays literal text; a tag-like "<b>" is neither a tag nor literal tag text on a
    # public page (the renderer drops its "<", as for raw HTML in minutes).
    assert "**bold**" in html
    assert "<b>" not in html and "&lt;b&gt;" not in html
    assert escape_markdown("a|b") == "a\\|b"


def test_the_lead_names_when_who_what_and_how_many() -> None:
    points = [
        {"unit_code": code, "unit_name": name, "name": name, "status": "present"}
        for code, name in [(1, "Xã A"), (2, "Phường B"), (3, "Xã C")]
    ]
    facts = MeetingFacts(
        title=TITLE,
        convening_body="Thường trực Tỉnh ủy Thanh Hóa",
        presiding_official="",
        starts_at=datetime(2025, 9, 10, 7, tzinfo=UTC),
        ends_at=datetime(2025, 9, 10, 10, tzinfo=UTC),
        timezone=ZONE,
        province_name="Thanh Hóa",
        host_point_name=None,
        points=points,
        totals={"invited": 3, "present": 3, "absent": 0, "pending": 0, "delegates": 0},
    )
    text = lead(facts)
    assert text.startswith("Chiều 10/9, Thường trực Tỉnh ủy Thanh Hóa tổ chức hội nghị trực tuyến")
    assert "kết nối trực tuyến đến 3 xã, phường" in text
    assert kinds_phrase(["Đặc khu Cồn Cỏ", "Phường X"]) == "phường, đặc khu"
