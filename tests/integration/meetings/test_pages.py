"""The server-rendered pages: Vietnamese by default, English on request, the demo's facts shown,
styled error pages for browsers and JSON errors for programs, and the accessibility basics."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import SEPT_10_TITLE, DemoSeed

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
SEPT_10_TIME_VI = "14:00, thứ Tư, 10/09/2025"
SEPT_10_TIME_EN = "14:00, Wednesday, 10 September 2025"
UPCOMING_TITLE = "Hội nghị trực tuyến giao ban công tác chính quyền địa phương 2 cấp"


@dataclass
class PageOutline(HTMLParser):
    """What the accessibility checks need from a page, read with the standard library parser."""

    tags: list[str] = field(default_factory=list)
    html_lang: str | None = None
    ids: list[str] = field(default_factory=list)
    label_targets: set[str] = field(default_factory=set)
    visible_inputs: list[dict[str, str | None]] = field(default_factory=list)
    links: list[dict[str, str | None]] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "label" and attributes.get("for"):
            self.label_targets.add(str(attributes["for"]))
        elif tag in {"input", "select", "textarea"}:
            kind = (attributes.get("type") or "text").lower()
            if kind not in {"hidden", "submit", "button", "reset", "image"}:
                self.visible_inputs.append(attributes)
        elif tag == "a":
            self.links.append(attributes)
        elif tag == "img":
            self.images.append(attributes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def outline(html: str) -> PageOutline:
    """Parse a page."""
    parser = PageOutline()
    parser.feed(html)
    parser.close()
    return parser


def assert_accessible_basics(html: str, language: str = "vi") -> None:
    """One h1, landmarks, a working skip link, labelled inputs, a page language, unique ids."""
    page = outline(html)
    assert page.html_lang == language
    assert page.tags.count("h1") == 1, "exactly one <h1>"
    assert page.tags.count("main") == 1, "one <main> landmark"
    for landmark in ("header", "nav", "footer"):
        assert landmark in page.tags, f"no <{landmark}>"
    skip_links = [
        link
        for link in page.links
        if "skip-link" in (link.get("class") or "").split()
        and (link.get("href") or "").startswith("#")
    ]
    assert skip_links, "no skip link"
    assert str(skip_links[0]["href"])[1:] in page.ids, "the skip link points nowhere"
    assert page.tags.index("a") < page.tags.index("header"), "the skip link comes first"
    for field_attributes in page.visible_inputs:
        field_id = field_attributes.get("id")
        assert field_id, f"an input without id: {field_attributes}"
        assert field_id in page.label_targets, f"no <label for={field_id!r}>"
    for image in page.images:
        assert image.get("alt") is not None, f"an image without alt: {image}"
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"


def sample_chair_token(database_url: str, meeting_id: int) -> str:
    """The check-in token of one point whose chair is generated sample data."""
    path = database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT checkin_token FROM invitation"
            " WHERE meeting_id = ? AND chair_is_sample AND checkin_token IS NOT NULL"
            " ORDER BY id LIMIT 1",
            (meeting_id,),
        ).fetchone()
    assert row is not None, "the demo seed has no sample chair"
    return str(row[0])


# --- the home page and the language -------------------------------------------------------------


def test_home_is_vietnamese_by_default(client: TestClient[Litestar]) -> None:
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="vi"' in html
    assert "Đăng nhập" in html
    assert "Hội nghị trực tuyến" in html
    assert "Thanh Hóa" in html
    assert SEPT_10_TITLE in html
    assert UPCOMING_TITLE in html
    assert "166 điểm cầu" in html
    assert SEPT_10_TIME_VI in html
    assert "Đã kết thúc" in html
    assert "Đã lên lịch" in html
    assert "status:" not in html
    assert "Sign in" not in html


def test_home_lists_the_upcoming_meeting_before_the_past_one(client: TestClient[Litestar]) -> None:
    html = client.get("/", headers=HTML).text
    assert html.index(UPCOMING_TITLE) < html.index(SEPT_10_TITLE)


def test_lang_query_switches_to_english_and_is_remembered(client: TestClient[Litestar]) -> None:
    response = client.get("/?lang=en", headers=HTML)
    assert response.status_code == 200
    assert '<html lang="en"' in response.text
    assert "Sign in" in response.text
    assert "Đăng nhập" not in response.text
    assert "166 connection points" in response.text
    assert SEPT_10_TIME_EN in response.text
    assert "Ended" in response.text
    assert "status:" not in response.text
    set_cookie = response.headers.get("set-cookie", "")
    assert "lang=en" in set_cookie
    assert "Path=/" in set_cookie

    again = client.get("/", headers=HTML)
    assert '<html lang="en"' in again.text
    assert "Sign in" in again.text
    assert "lang=" not in again.headers.get("set-cookie", ""), "only an explicit choice sets it"

    back = client.get("/?lang=vi", headers={**HTML, "Accept-Language": "en"})
    assert '<html lang="vi"' in back.text
    assert '<html lang="vi"' in client.get("/", headers=HTML).text


def test_accept_language_english(client: TestClient[Litestar]) -> None:
    response = client.get("/", headers={**HTML, "Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en"' in response.text
    assert "Sign in" in response.text
    assert "lang=" not in response.headers.get("set-cookie", "")


def test_unsupported_accept_language_falls_back_to_vietnamese(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/", headers={**HTML, "Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="vi"' in response.text
    assert "Đăng nhập" in response.text


def test_unknown_lang_value_is_ignored(client: TestClient[Litestar]) -> None:
    response = client.get("/?lang=fr", headers=HTML)
    assert '<html lang="vi"' in response.text
    assert "lang=" not in response.headers.get("set-cookie", "")


# --- a meeting and a check-in link ---------------------------------------------------------------


def test_meeting_page_shows_the_facts(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    response = client.get(f"/meetings/{demo_seed.past_meeting_id}", headers=HTML)
    assert response.status_code == 200
    html = response.text
    assert SEPT_10_TITLE in html
    assert "Thường trực Tỉnh ủy Thanh Hóa" in html
    assert "Đồng chí Nguyễn Doãn Anh" in html
    assert "166 điểm cầu" in html
    assert SEPT_10_TIME_VI in html
    assert "Chương trình hội nghị" in html
    assert "Báo cáo công tác khắc phục hậu quả bão số 5" in html
    assert "Kết luận hội nghị" in html
    assert html.index("Báo cáo đánh giá hoạt động") < html.index("Kết luận hội nghị")
    assert "Đã kết thúc" in html


def test_meeting_page_in_english(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    html = client.get(f"/meetings/{demo_seed.past_meeting_id}?lang=en", headers=HTML).text
    assert '<html lang="en"' in html
    assert "Agenda" in html
    assert "166 connection points" in html
    assert SEPT_10_TITLE in html  # the meeting's own words are not translated


def test_unknown_meeting_is_a_404_page(client: TestClient[Litestar]) -> None:
    response = client.get("/meetings/999999", headers=HTML)
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.text


def test_checkin_page(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    response = client.get(f"/checkin/{demo_seed.cam_tu_token}", headers=HTML)
    assert response.status_code == 200
    html = response.text
    assert '<html lang="vi"' in html
    assert "Hội trường UBND xã Cẩm Tú" in html
    assert "Phạm Thị Nhàn" in html
    assert UPCOMING_TITLE in html
    assert "dữ liệu mẫu" not in html, "the Cẩm Tú chair is real"
    assert '<meta name="robots" content="noindex">' in html
    assert_accessible_basics(html)


def test_sample_chairs_are_marked(
    client: TestClient[Litestar], demo_seed: DemoSeed, demo_db: str
) -> None:
    token = sample_chair_token(demo_db, demo_seed.upcoming_meeting_id)
    response = client.get(f"/checkin/{token}", headers=HTML)
    assert response.status_code == 200
    assert "dữ liệu mẫu" in response.text
    assert "Phạm Thị Nhàn" not in response.text
    english = client.get(f"/checkin/{token}?lang=en", headers=HTML).text
    assert "sample data" in english


# --- errors ---------------------------------------------------------------------------------------


def assert_styled_404(html: str) -> None:
    assert '<html lang="vi"' in html
    assert 'class="site-header"' in html
    assert '<link rel="stylesheet" href="/static/css/confhub.css">' in html
    assert "<h1>Không tìm thấy trang</h1>" in html
    assert "Lỗi 404" in html
    assert 'href="/"' in html


def test_unknown_checkin_token_is_a_styled_404(client: TestClient[Litestar]) -> None:
    response = client.get("/checkin/not-a-real-token", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    # The page of every link that no longer works: what happened and what to do.
    assert "<h1>Đường dẫn điểm danh này không còn dùng được</h1>" in response.text
    assert_accessible_basics(response.text)


def test_unknown_path_is_a_styled_404(client: TestClient[Litestar]) -> None:
    response = client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert_styled_404(response.text)
    assert_accessible_basics(response.text)


def test_404_page_in_english(client: TestClient[Litestar]) -> None:
    response = client.get("/no/such/page?lang=en", headers=HTML)
    assert response.status_code == 404
    assert '<html lang="en"' in response.text
    assert "Page not found" in response.text


@pytest.mark.parametrize("path", ["/no/such/page", "/checkin/not-a-real-token", "/meetings/999999"])
def test_unknown_path_for_a_program_is_json(client: TestClient[Litestar], path: str) -> None:
    response = client.get(path, headers=JSON)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == 404
    assert isinstance(body["detail"], str)
    assert body["detail"]


# --- accessibility and assets ---------------------------------------------------------------------


def test_accessibility_of_home_login_meeting(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    for path in ("/", "/login", f"/meetings/{demo_seed.past_meeting_id}"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert_accessible_basics(response.text)
    assert_accessible_basics(client.get("/login?lang=en", headers=HTML).text, language="en")


def test_login_form_fields_are_labelled(client: TestClient[Litestar]) -> None:
    page = outline(client.get("/login", headers=HTML).text)
    assert {str(f.get("id")) for f in page.visible_inputs} == {"email", "password"}


def test_province_chooser(client: TestClient[Litestar]) -> None:
    home = outline(client.get("/", headers=HTML).text)
    chooser_links = [str(link.get("href")) for link in home.links]
    assert "/?province=" in chooser_links, "the home page offers another province"

    response = client.get("/?province=", headers=HTML)
    assert response.status_code == 200
    assert "<h1>Chọn tỉnh, thành phố</h1>" in response.text
    assert 'href="/?province=38">Thanh Hóa</a>' in response.text
    assert response.text.count('href="/?province=') == 34
    assert_accessible_basics(response.text)

    chosen = client.get("/?province=38", headers=HTML)
    assert SEPT_10_TITLE in chosen.text


def test_bad_province_is_a_400(client: TestClient[Litestar]) -> None:
    assert client.get("/?province=abc", headers=HTML).status_code == 400
    assert client.get("/?province=abc", headers=JSON).json()["status_code"] == 400


def test_language_switch_keeps_the_query(client: TestClient[Litestar]) -> None:
    page = outline(client.get("/?province=38&lang=vi", headers=HTML).text)
    switch = [link for link in page.links if link.get("hreflang") == "en"]
    assert len(switch) == 1
    assert switch[0]["href"] == "?province=38&lang=en"


def test_stylesheet_is_served(client: TestClient[Litestar]) -> None:
    response = client.get("/static/css/confhub.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ".site-header" in response.text
