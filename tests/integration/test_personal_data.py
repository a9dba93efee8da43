"""Where a chair's personal data may appear (Vietnam's Law on Personal Data Protection).

A chair with a distinctive name and phone presides at Cẩm Tú's point of a meeting that ends and
is published. Then every public page type, feed and API, the province viewer's views and another
commune chair's views are fetched: the phone never appears, and the name only on news pages
whose published article's own text carries it. The secretariat and the point's own chair do see
them (so the audit can fail both ways), and the log lines of a sign-in, a check-in and a search
carry neither.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from confhub.system.logs import JsonFormatter, RequestIdFilter
from tests.conftest import login
from tests.helpers.accounts import create_account

pytestmark = pytest.mark.integration

CAM_TU = 15148
THACH_LAP = 15085
NAME = "Trịnh Văn Khải"
TITLE = "Chủ tịch UBND xã"
PHONE = "0912 345 678"
PASSWORD = "a-long-password-for-tests"
HTML = {"Accept": "text/html"}
# The phone however it is written: spaces, dots, dashes, +84, URL-encoded spaces.
PHONE_SEEN = re.compile(r"(?:\+84|%2B84|0)(?:[\s.\-+]|%20)?9(?:(?:[\s.\-+]|%20)?\d){8}")
PHONE_DIGITS = "912345678"


def shows_phone(text: str) -> bool:
    """Whether `text` holds the chair's phone in any spelling."""
    return any(
        re.sub(r"\D", "", match.group(0)).endswith(PHONE_DIGITS)
        for match in PHONE_SEEN.finditer(text)
    )


def readable(body: str) -> str:
    """A response as a reader gets it: iCalendar lines unfolded and unescaped."""
    return body.replace("\r\n ", "").replace("\\,", ",").replace("\\;", ";")


class Scene:
    """The meeting, its chair, the published article, and a client per role."""

    def __init__(
        self, make_client: Callable[[], TestClient[Litestar]], demo_seed: DemoSeed, db: str
    ) -> None:
        create_account(db, "viewer@th.example", "viewer", PASSWORD, province_code=38)
        create_account(db, "chair@thachlap.example", "chair", PASSWORD, unit_code=THACH_LAP)
        self.anonymous = make_client()
        self.secretariat = self._signed_in(
            make_client, demo_seed.organizer_email, demo_seed.organizer_password
        )
        self.own_chair = self._signed_in(
            make_client, demo_seed.chair_email, demo_seed.chair_password
        )
        self.viewer = self._signed_in(make_client, "viewer@th.example", PASSWORD)
        self.other_chair = self._signed_in(make_client, "chair@thachlap.example", PASSWORD)
        self.meeting_id = self._meeting()
        self.article, self.province_article = self._publish()

    @staticmethod
    def _signed_in(
        make_client: Callable[[], TestClient[Litestar]], email: str, password: str
    ) -> TestClient[Litestar]:
        client = make_client()
        login(client, email, password)
        return client

    def _meeting(self) -> int:
        starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        created = self.secretariat.post(
            "/api/v1/meetings",
            json={
                "title": "Hội nghị giao ban phòng chống thiên tai",
                "province_code": 38,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "status": "scheduled",
                # Tomorrow's meeting: its roll call is open now, for the chair to answer.
                "roll_call_opens_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        meeting_id = int(created.json()["id"])
        invited = self.secretariat.post(
            f"/api/v1/meetings/{meeting_id}/invitations",
            json={"unit_codes": [CAM_TU, THACH_LAP]},
        )
        assert invited.status_code == 200, invited.text
        self.point_id = self.point_of(meeting_id, CAM_TU)["point_id"]
        named = self.secretariat.put(
            f"/api/v1/meetings/{meeting_id}/points/{self.point_id}/chair",
            json={"name": NAME, "title": TITLE, "phone": PHONE},
        )
        assert named.status_code == 200, named.text
        self.checkin_url = self.point_of(meeting_id, CAM_TU)["checkin_url"]
        return meeting_id

    def point_of(self, meeting_id: int, unit_code: int) -> dict:
        """The secretariat's view of one invited point."""
        points = self.secretariat.get(f"/api/v1/meetings/{meeting_id}/points").json()["items"]
        point: dict = next(p for p in points if p["unit_code"] == unit_code)
        return point

    def check_in(self) -> None:
        """The chair answers the roll call through the point's link."""
        token = self.checkin_url.rsplit("/", 1)[-1]
        answered = self.anonymous.post(
            f"/api/v1/meetings/{self.meeting_id}/checkins",
            headers={"x-checkin-token": token},
            json={
                "point_id": self.point_id,
                "status": "present",
                "delegates_present": 12,
                "idempotency_key": "personal-data-audit",
            },
        )
        assert answered.status_code in (200, 201), answered.text

    def _publish(self) -> tuple[dict, dict]:
        self.check_in()
        path = f"/api/v1/meetings/{self.meeting_id}/status"
        for status in ("live", "ended"):
            moved = self.secretariat.post(path, json={"status": status})
            assert moved.status_code == 200, moved.text
        minutes = f"/api/v1/meetings/{self.meeting_id}/minutes"
        saved = self.secretariat.put(minutes, json={"markdown": "Hội nghị đã họp.\n"})
        assert saved.status_code == 200, saved.text
        published = self.secretariat.post(f"{minutes}/publish")
        assert published.status_code == 200, published.text
        drafts = self.own_chair.get("/api/v1/articles", params={"unit": CAM_TU}).json()["items"]
        draft = next(a for a in drafts if a["meeting_id"] == self.meeting_id)
        article = self.own_chair.post(f"/api/v1/articles/{draft['id']}/publish")
        assert article.status_code == 200, article.text
        ours = self.secretariat.get("/api/v1/articles", params={"limit": 500}).json()["items"]
        province = next(
            a for a in ours if a["meeting_id"] == self.meeting_id and a["unit_code"] is None
        )
        return article.json(), province


@pytest.fixture
def scene(
    make_client: Callable[[], TestClient[Litestar]], demo_seed: DemoSeed, demo_db: str
) -> Scene:
    """The published meeting with its chair, and the clients of every role."""
    return Scene(make_client, demo_seed, demo_db)


def article_text(article: dict) -> str:
    """What a published article itself says."""
    return " ".join(str(article.get(key) or "") for key in ("title", "lead", "body"))


def fetch(client: TestClient[Litestar], path: str) -> str:
    """A page, feed or API answer as its reader gets it (must be 200)."""
    response = client.get(path, headers=HTML if not path.startswith("/api/") else {})
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return readable(response.text)


def test_the_chairs_phone_is_never_public_and_the_name_only_in_its_article(scene: Scene) -> None:
    meeting, slug = scene.meeting_id, scene.article["slug"]
    unit_article = article_text(scene.article)
    assert NAME in unit_article, "the unit's article names its chair: the check below is real"
    province_article = article_text(scene.province_article)
    # News pages, feeds and the articles API: the name only where the article's text has it.
    news = {
        "/news": province_article,
        f"/news/{scene.province_article['slug']}": province_article,
        "/news/feed.atom": province_article,
        "/api/v1/articles": f"{province_article} {unit_article}",  # every site's
        f"/units/{CAM_TU}/news": unit_article,
        f"/units/{CAM_TU}/news/{slug}": unit_article,
        f"/units/{CAM_TU}/news/feed.atom": unit_article,
        f"/api/v1/articles?unit={CAM_TU}": unit_article,
    }
    for path, own_text in news.items():
        body = fetch(scene.anonymous, path)
        assert not shows_phone(body), path
        assert NAME not in body or NAME in own_text, path
    assert NAME in fetch(scene.anonymous, f"/units/{CAM_TU}/news/{slug}")
    # Everything else anonymous visitors can reach never names the chair.
    public = [
        "/",
        "/?province=38",
        f"/meetings/{meeting}",
        "/calendar/provinces/38.ics",
        f"/calendar/units/{CAM_TU}.ics",
        f"/calendar/meetings/{meeting}.ics",
        f"/units/{THACH_LAP}/news",
        "/api/v1/units?province=38",
    ]
    for path in public:
        body = fetch(scene.anonymous, path)
        assert NAME not in body and not shows_phone(body), path


@pytest.mark.parametrize("who", ["viewer", "other_chair"])
def test_a_viewer_and_another_communes_chair_see_neither_name_nor_phone(
    scene: Scene, who: str
) -> None:
    client: TestClient[Litestar] = getattr(scene, who)
    meeting = scene.meeting_id
    paths = [
        f"/api/v1/meetings/{meeting}",
        f"/api/v1/meetings/{meeting}/points",
        f"/api/v1/meetings/{meeting}/attendance",
        f"/api/v1/meetings/{meeting}/attendance.csv",
        f"/api/v1/meetings/{meeting}/checkins",
        f"/meetings/{meeting}",
        f"/meetings/{meeting}/points",
        "/meetings",
        "/profile",
    ]
    if who == "viewer":
        paths += [f"/m/{meeting}/live", f"/m/{meeting}/live/list"]
    for path in paths:
        body = fetch(client, path)
        assert NAME not in body and not shows_phone(body), f"{who}: {path}"
    points = client.get(f"/api/v1/meetings/{meeting}/points").json()["items"]
    cam_tu = next(p for p in points if p["unit_code"] == CAM_TU)
    # They still learn that the point has a chair, and the chair's office.
    assert cam_tu["has_chair"] is True and cam_tu["chair_title"] == TITLE
    assert cam_tu["chair_name"] is None and cam_tu.get("chair_phone") is None


def test_the_secretariat_and_the_points_own_chair_see_name_and_phone(scene: Scene) -> None:
    meeting = scene.meeting_id
    for path in (
        f"/api/v1/meetings/{meeting}/points",
        f"/api/v1/meetings/{meeting}/attendance",
        f"/meetings/{meeting}/points",
    ):
        body = fetch(scene.secretariat, path)
        assert NAME in body and shows_phone(body), path
    assert NAME in fetch(scene.secretariat, f"/m/{meeting}/live/list")
    assert NAME in fetch(scene.secretariat, f"/api/v1/meetings/{meeting}/attendance.csv")

    own = fetch(scene.own_chair, f"/api/v1/meetings/{meeting}/points")
    assert NAME in own and shows_phone(own), "a chair sees its own point's chair"
    assert NAME in fetch(scene.own_chair, f"/meetings/{meeting}")
    assert NAME in fetch(scene.anonymous, urlsplit(scene.checkin_url).path), "the check-in page"
    profile = fetch(scene.own_chair, "/profile")
    private = re.search(r"/calendar/private/[A-Za-z0-9_-]+\.ics", profile)
    assert private is not None
    assert NAME in fetch(scene.anonymous, private.group(0)), "the chair's own calendar names them"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log line of the app as a served process writes it (JSON), into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_log_lines_of_a_sign_in_a_check_in_and_a_search_carry_no_phone(
    scene: Scene, json_log: io.StringIO, demo_seed: DemoSeed
) -> None:
    json_log.truncate(0)
    login(scene.anonymous, demo_seed.chair_email, demo_seed.chair_password)
    scene.anonymous.post("/api/v1/auth/logout")
    scene.anonymous.post(
        "/login", data={"email": demo_seed.chair_email, "password": demo_seed.chair_password}
    )
    token = scene.checkin_url.rsplit("/", 1)[-1]
    correction = scene.anonymous.post(
        f"/checkin/{token}",
        data={"status": "present", "delegates_present": "11", "idempotency_key": "log-check"},
    )
    assert correction.status_code < 500
    # The secretariat looks the chair up by phone and by name (the query lands in the URL).
    for words in (PHONE, "0912-345-678", NAME):
        found = scene.secretariat.get(f"/meetings/{scene.meeting_id}/points", params={"q": words})
        assert found.status_code == 200, words
    assert NAME in found.text, "the search by name found the chair"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "confhub.access"]
    assert any("/checkin/" in line["message"] for line in access), "the requests were logged"
    assert any("/points" in line["message"] for line in access)
    text = json_log.getvalue()
    assert not shows_phone(text), [line["message"] for line in access]
    assert NAME not in text and "Tr%E1%BB%8Bnh" not in text
