"""The live attendance pages without JavaScript: the chair's check-in page (its plain form stores
an answer once per hidden key) and the live board (a shell its socket's snapshot fills, its list
rendered a page at a time without JavaScript, who may see it, what a viewer does not see). The
pages must be ready for a Content-Security-Policy without 'unsafe-inline': no inline scripts,
event handlers or style attributes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.attendance import pages
from confhub.demo import DemoSeed
from tests.conftest import login
from tests.helpers.accounts import create_account

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PASSWORD = "a-long-password-1"
CAM_TU = 15148
HAC_THANH = 14797  # Phường Hạc Thành, Thanh Hóa
HOAN_KIEM = 70  # Phường Hoàn Kiếm, Hà Nội
PHONE = re.compile(r"\b09\d{8}\b")
TILE = re.compile(r'<li class="tile" data-point-id="(\d+)"([^>]*)>')


@dataclass
class PageParts(HTMLParser):
    """What the CSP and accessibility checks need from a page."""

    scripts: list[tuple[dict[str, str | None], str]] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    inputs: list[dict[str, str | None]] = field(default_factory=list)
    h1: int = 0
    _script: dict[str, str | None] | None = None
    _body: str = ""

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, _value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name.lower() == "style":
                self.styles.append(f"<{tag} style>")
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and attributes.get("for"):
            self.labels.add(str(attributes["for"]))
        if tag in {"input", "select", "textarea"} and (attributes.get("type") or "text") not in {
            "hidden",
            "submit",
            "button",
        }:
            self.inputs.append(attributes)
        if tag == "script":
            self._script, self._body = attributes, ""

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._body += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, self._body))
            self._script = None


def parts(html: str) -> PageParts:
    """Parse a page."""
    parser = PageParts()
    parser.feed(html)
    parser.close()
    return parser


def assert_csp_ready(html: str) -> None:
    """Scripts only from files; no inline handlers and no style attributes."""
    page = parts(html)
    assert page.scripts, "the page loads its scripts"
    for attributes, body in page.scripts:
        assert attributes.get("src"), f"an inline script: {body[:80]!r}"
        assert not body.strip(), "a script with a src and a body"
    assert not page.handlers, f"inline event handlers: {page.handlers}"
    assert not page.styles, f"style attributes: {page.styles}"
    assert "javascript:" not in html


def assert_labelled(html: str) -> None:
    """One h1, every visible field labelled, ids unique."""
    page = parts(html)
    assert page.h1 == 1
    for attributes in page.inputs:
        assert attributes.get("id") in page.labels, f"no label for {attributes}"
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"


def hidden_key(html: str) -> str:
    """The idempotency key the check-in form carries."""
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found, "the form carries no idempotency key"
    return found.group(1)


def page_messages(html: str) -> dict[str, Any]:
    """The translated words a page hands its script (its `data-messages` JSON)."""
    found = re.search(r"data-messages='([^']*)'", html)
    assert found, "the page hands its script no words"
    words: dict[str, Any] = json.loads(unescape(found.group(1)))
    return words


def csrf(client: TestClient[Litestar]) -> str:
    """The CSRF cookie's token (set by the first page)."""
    if not client.cookies.get("confhub_csrf"):
        client.get("/login", headers=HTML)
    return str(client.cookies.get("confhub_csrf"))


def post_form(client: TestClient[Litestar], url: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form as a browser does (no redirect followed)."""
    body = {**data, "_csrf_token": csrf(client)}
    return client.post(url, data=body, headers=HTML, follow_redirects=False)


def create_user(db_url: str, email: str, role: str, **scope: int) -> None:
    """An account of a role the demo does not seed."""
    create_account(db_url, email, role, PASSWORD, **scope)


@pytest.fixture
def secretariat(
    make_client: Callable[[], TestClient[Litestar]], demo_seed: DemoSeed
) -> TestClient[Litestar]:
    """The Thanh Hóa secretariat, signed in."""
    client = make_client()
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    return client


def signed_in(
    make_client: Callable[[], TestClient[Litestar]], demo_db: str, role: str, **scope: int
) -> TestClient[Litestar]:
    """A new account of `role`, signed in on its own client."""
    email = f"{role}-{'-'.join(map(str, scope.values())) or 'all'}@live.example"
    create_user(demo_db, email, role, **scope)
    client = make_client()
    login(client, email, PASSWORD)
    return client


def cam_tu_point(client: TestClient[Litestar], meeting_id: int) -> int:
    """The Cẩm Tú point's id (through the API)."""
    points = client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500}).json()
    return int(next(p["point_id"] for p in points["items"] if p["unit_code"] == CAM_TU))


def records(
    client: TestClient[Litestar], meeting_id: int, point_id: int
) -> list[dict[str, object]]:
    """Every stored roll-call answer of one point."""
    response = client.get(
        f"/api/v1/meetings/{meeting_id}/checkins", params={"point_id": point_id, "limit": 500}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# --- the check-in page ----------------------------------------------------------------------------


def test_checkin_page_shows_the_point_the_chair_and_the_form(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    response = client.get(f"/checkin/{demo_seed.cam_tu_token}", headers=HTML)
    assert response.status_code == 200
    html = response.text
    assert "Hội trường UBND xã Cẩm Tú" in html
    assert "Phạm Thị Nhàn" in html
    assert "Hội nghị trực tuyến giao ban công tác chính quyền địa phương 2 cấp" in html
    assert "Đã lên lịch" in html
    assert 'name="status" value="present"' in html and 'name="status" value="absent"' in html
    assert 'name="delegates_present"' in html and 'name="reason"' in html
    assert "Có mặt" in html and "Vắng" in html
    assert hidden_key(html)
    assert 'name="_csrf_token"' in html
    assert 'src="/static/js/live/checkin.js"' in html
    assert 'href="/static/css/live.css"' in html
    assert 'aria-live="polite"' in html
    for signal in ("Chưa thử", "Thử tốt", "Đã kết nối", "Mất hình", "Mất tiếng", "Mất kết nối"):
        assert signal in html, signal
    assert_labelled(html)
    assert_csp_ready(html)


def test_each_page_view_carries_a_fresh_key(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    first = hidden_key(client.get(f"/checkin/{demo_seed.cam_tu_token}", headers=HTML).text)
    second = hidden_key(client.get(f"/checkin/{demo_seed.cam_tu_token}", headers=HTML).text)
    assert first != second


def test_a_double_submit_stores_one_answer(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/checkin/{demo_seed.cam_tu_token}"
    key = hidden_key(client.get(url, headers=HTML).text)
    form = {"status": "present", "delegates_present": "25", "idempotency_key": key}
    first = post_form(client, url, form)
    second = post_form(client, url, form)
    for response in (first, second):
        assert response.status_code == 303, response.text[:500]
        assert response.headers["location"].startswith(f"{url}?stored=")
    meeting_id = demo_seed.upcoming_meeting_id
    stored = records(secretariat, meeting_id, cam_tu_point(secretariat, meeting_id))
    assert [r["idempotency_key"] for r in stored] == [key]
    assert stored[0]["status"] == "present" and stored[0]["delegates_present"] == 25
    assert stored[0]["source"] == "link"

    confirmation = client.get(first.headers["location"], headers=HTML).text
    assert "Đã lưu lúc" in confirmation
    assert "Có mặt · 25 đại biểu" in confirmation
    assert hidden_key(confirmation) != key, "the next answer gets a new key"


def test_a_form_sent_again_with_another_answer_is_a_correction(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    """The browser's Back button shows the old form (and its key) again: a different answer
    sent from it is stored as a correction, not swallowed as a repeat."""
    url = f"/checkin/{demo_seed.cam_tu_token}"
    page = client.get(url, headers=HTML)
    assert page.headers["cache-control"] == "no-store"
    key = hidden_key(page.text)
    present = {"status": "present", "delegates_present": "25", "idempotency_key": key}
    absent = {"status": "absent", "reason": "Mất điện", "idempotency_key": key}
    for form in (present, present, absent):
        assert post_form(client, url, form).status_code == 303
    meeting_id = demo_seed.upcoming_meeting_id
    stored = records(secretariat, meeting_id, cam_tu_point(secretariat, meeting_id))
    assert [r["status"] for r in stored] == ["present", "absent"]
    assert stored[0]["idempotency_key"] == key != stored[1]["idempotency_key"]


def test_a_correction_is_kept_in_the_history(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/checkin/{demo_seed.cam_tu_token}"
    for form in (
        {"status": "present", "delegates_present": "25"},
        {"status": "absent", "reason": "Mất điện do mưa bão"},
    ):
        key = hidden_key(client.get(url, headers=HTML).text)
        assert post_form(client, url, {**form, "idempotency_key": key}).status_code == 303
    page = client.get(url, headers=HTML).text
    assert "Vắng: Mất điện do mưa bão" in page
    assert "Có mặt · 25 đại biểu" in page, "the earlier answer is still listed"
    meeting_id = demo_seed.upcoming_meeting_id
    assert len(records(secretariat, meeting_id, cam_tu_point(secretariat, meeting_id))) == 2


def test_absent_without_a_reason_is_refused(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/checkin/{demo_seed.cam_tu_token}"
    key = hidden_key(client.get(url, headers=HTML).text)
    response = post_form(client, url, {"status": "absent", "reason": "  ", "idempotency_key": key})
    assert response.status_code == 400
    assert "Nêu lý do vắng." in response.text
    assert 'id="reason-error"' in response.text and 'aria-invalid="true"' in response.text
    assert hidden_key(response.text) == key, "the form shown again keeps its key"
    meeting_id = demo_seed.upcoming_meeting_id
    assert records(secretariat, meeting_id, cam_tu_point(secretariat, meeting_id)) == []


def test_present_needs_a_number_of_delegates(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/checkin/{demo_seed.cam_tu_token}"
    key = hidden_key(client.get(url, headers=HTML).text)
    for typed in ("", "-3", "nhiều", "1000001"):
        form = {"status": "present", "delegates_present": typed, "idempotency_key": key}
        response = post_form(client, url, form)
        assert response.status_code == 400, typed
        assert "Nhập số đại biểu có mặt" in response.text


def test_an_ended_meeting_takes_no_answer(
    client: TestClient[Litestar], demo_db: str, demo_seed: DemoSeed
) -> None:
    import sqlite3

    with sqlite3.connect(demo_db.split(":///", 1)[1]) as connection:
        (token,) = connection.execute(
            "SELECT checkin_token FROM invitation WHERE meeting_id = ? LIMIT 1",
            (demo_seed.past_meeting_id,),
        ).fetchone()
    page = client.get(f"/checkin/{token}", headers=HTML).text
    assert "Điểm danh đã đóng" in page and 'id="checkin-form"' not in page
    form = {"status": "present", "delegates_present": "3", "idempotency_key": "late-answer"}
    response = post_form(client, f"/checkin/{token}", form)
    assert response.status_code == 409  # the refusal's own code, as the API answers it
    assert "Hội nghị đang ở trạng thái “Đã kết thúc”; điểm danh đã đóng." in response.text


def test_the_technician_reports_the_signal_without_javascript(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/checkin/{demo_seed.cam_tu_token}"
    response = post_form(client, f"{url}/signal", {"signal": "test_ok"})
    assert response.status_code == 303
    page = client.get(response.headers["location"], headers=HTML).text
    assert "Đã gửi tín hiệu: Thử tốt." in page
    assert 'value="test_ok" class="signal-button signal-test_ok" aria-pressed="true"' in page
    attendance = secretariat.get(f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/attendance")
    assert attendance.json()["totals"]["ready"] == 1
    assert post_form(client, f"{url}/signal", {"signal": "excellent"}).status_code == 400


def test_a_revoked_link_is_a_404(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    url = f"/checkin/{demo_seed.cam_tu_token}"
    key = hidden_key(client.get(url, headers=HTML).text)
    point_id = cam_tu_point(secretariat, meeting_id)
    revoked = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/points/{point_id}/checkin-link/revoke"
    )
    assert revoked.status_code == 200, revoked.text
    assert client.get(url, headers=HTML).status_code == 404
    form = {"status": "present", "delegates_present": "5", "idempotency_key": key}
    assert post_form(client, url, form).status_code == 404
    assert post_form(client, f"{url}/signal", {"signal": "test_ok"}).status_code == 404
    assert records(secretariat, meeting_id, point_id) == []


# --- the live board -------------------------------------------------------------------------------


def test_the_board_is_a_shell_its_snapshot_fills(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    response = secretariat.get(f"/m/{meeting_id}/live", headers=HTML)
    assert response.status_code == 200
    html = response.text
    assert TILE.findall(html) == [], "the tiles come with the socket's snapshot"
    assert 'id="tile-template"' in html and 'src="/static/js/live/board.js"' in html
    assert "Phạm Thị Nhàn" not in html, "no point's data in the shell"
    assert f'href="/api/v1/meetings/{meeting_id}/attendance.csv"' in html
    assert f'href="/api/v1/meetings/{meeting_id}/attendance.xlsx"' in html
    assert 'data-rehearsal="start"' in html and 'id="roll-call-dialog"' in html
    assert html.count('data-action="checkin"') == 1, "the button is in the template tile only"
    # Without JavaScript: a link to the list, and the filter form's plain GET goes there too.
    assert f'<a href="/m/{meeting_id}/live/list">' in html
    assert f'action="/m/{meeting_id}/live/list"' in html
    words = page_messages(html)
    assert words["behind"] == "Đang kết nối lại… dữ liệu có thể chưa mới nhất"
    assert words["headline"] == "{points} điểm cầu với {delegates} đại biểu"
    assert 'id="banner" role="status" aria-live="polite"' in html
    assert_labelled(html)
    assert_csp_ready(html)


def test_the_board_list_renders_every_invited_point_without_javascript(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    response = secretariat.get(f"/m/{meeting_id}/live/list", headers=HTML)
    assert response.status_code == 200
    html = response.text
    tiles = TILE.findall(html)
    assert len(tiles) == 166
    assert len({point_id for point_id, _rest in tiles}) == 166
    assert "0 điểm cầu với 0 đại biểu" in html
    assert "Chưa điểm danh" in html and "Phạm Thị Nhàn" in html
    assert "board.js" not in html and 'data-action="checkin"' not in html
    assert f'<a href="/m/{meeting_id}/live">' in html, "back to the live board"
    assert 'class="pager"' not in html, "166 points fit on one page"
    assert_labelled(html)
    assert_csp_ready(html)


def test_the_board_shows_the_roll_call_and_the_province_totals(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    # A hall of thousands: the meeting allows more delegates than the default 500.
    raised = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json={"delegates_max": 3000})
    assert raised.status_code == 200, raised.text
    url = f"/checkin/{demo_seed.cam_tu_token}"
    key = hidden_key(client.get(url, headers=HTML).text)
    form = {"status": "present", "delegates_present": "2050", "idempotency_key": key}
    assert post_form(client, url, form).status_code == 303
    html = secretariat.get(f"/m/{meeting_id}/live/list", headers=HTML).text
    assert "1 điểm cầu với 2.050 đại biểu" in html
    assert "Có mặt · 2.050 đại biểu" in html
    assert re.search(r'data-total="pending">165<', html)


def test_board_filters_and_search_work_without_javascript(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    html = secretariat.get(f"/m/{meeting_id}/live/list?q=cam+tu", headers=HTML).text
    assert len(TILE.findall(html)) == 1
    assert "Đang hiện 1 / 166 điểm cầu" in html
    assert 'id="board-search" name="q" type="search" value="cam tu"' in html
    absent = secretariat.get(f"/m/{meeting_id}/live/list?show=absent", headers=HTML).text
    assert TILE.findall(absent) == []
    assert 'id="show-absent" value="absent" checked' in absent
    # The board keeps a filter chosen in its address for its list without JavaScript.
    board = secretariat.get(f"/m/{meeting_id}/live?show=absent&q=cam+tu", headers=HTML).text
    assert 'id="show-absent" value="absent" checked' in board
    assert f'href="/m/{meeting_id}/live/list?show=absent&amp;q=cam%20tu"' in board


def test_the_board_list_is_read_a_page_at_a_time(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "BOARD_PAGE", 50)
    path = f"/m/{demo_seed.upcoming_meeting_id}/live/list"
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        html = secretariat.get(f"{path}?page={page}", headers=HTML).text
        tiles = [point_id for point_id, _rest in TILE.findall(html)]
        assert len(tiles) == (50 if page < 4 else 16)
        assert f"Trang {page}/4" in html
        assert ('rel="next"' in html) == (page < 4) and ('rel="prev"' in html) == (page > 1)
        assert "Đang hiện 166 / 166 điểm cầu" in html
        seen += tiles
    assert len(set(seen)) == 166, "every point once over the pages"
    beyond = secretariat.get(f"{path}?page=99", headers=HTML).text
    assert "Trang 4/4" in beyond, "past the last page: the last page"


@pytest.mark.parametrize("page", ["live", "live/list"])
def test_the_board_is_refused_to_others(
    client: TestClient[Litestar],
    make_client: Callable[[], TestClient[Litestar]],
    demo_db: str,
    demo_seed: DemoSeed,
    page: str,
) -> None:
    path = f"/m/{demo_seed.upcoming_meeting_id}/{page}"
    anonymous = client.get(path, headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next={path}"
    other_chair = signed_in(make_client, demo_db, "chair", unit_code=HAC_THANH)
    assert other_chair.get(path, headers=HTML).status_code == 403
    far_chair = signed_in(make_client, demo_db, "chair", unit_code=HOAN_KIEM)
    assert far_chair.get(path, headers=HTML).status_code == 403
    far_secretariat = signed_in(make_client, demo_db, "secretariat", province_code=1)
    assert far_secretariat.get(path, headers=HTML).status_code == 403
    own_chair = make_client()
    login(own_chair, demo_seed.chair_email, demo_seed.chair_password)
    assert own_chair.get(path, headers=HTML).status_code == 403
    assert own_chair.get(f"/m/999999/{page}", headers=HTML).status_code == 404


def test_a_viewer_sees_the_board_without_controls_or_phones(
    secretariat: TestClient[Litestar],
    make_client: Callable[[], TestClient[Litestar]],
    demo_db: str,
    demo_seed: DemoSeed,
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    started = secretariat.post(f"/api/v1/meetings/{meeting_id}/rehearsal", json={"action": "start"})
    assert started.status_code == 200, started.text
    managed = secretariat.get(f"/m/{meeting_id}/live/list", headers=HTML).text
    assert "Đang chạy thử" in managed
    assert 'href="tel:' in managed and PHONE.search(managed), "the secretariat calls the chairs"

    viewer = signed_in(make_client, demo_db, "viewer", province_code=38)
    for path in (f"/m/{meeting_id}/live", f"/m/{meeting_id}/live/list"):
        response = viewer.get(path, headers=HTML)
        assert response.status_code == 200
        html = response.text
        assert "Điểm cầu chưa sẵn sàng" in html, "the viewer sees who is not ready"
        assert "data-rehearsal" not in html and 'id="rehearsal"' not in html
        assert 'id="roll-call-dialog"' not in html and 'data-action="checkin"' not in html
        assert "tel:" not in html and not PHONE.search(html)
        assert_csp_ready(html)
    assert len(TILE.findall(html)) == 166


def test_the_board_in_english(secretariat: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    path = f"/m/{demo_seed.upcoming_meeting_id}/live"
    html = secretariat.get(f"{path}?lang=en", headers=HTML).text
    assert '<html lang="en"' in html
    assert "Not answered" in html and "Loading the board…" in html
    listed = secretariat.get(f"{path}/list?lang=en", headers=HTML).text
    assert "0 connection points with 0 delegates" in listed
