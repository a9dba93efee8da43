"""Security headers on every kind of response, HSTS only behind TLS, and the flags of every cookie.

Responses of every kind — public and signed-in pages, the JSON API, error pages and errors in
JSON, static files, news photos, Atom and calendar feeds, the API documentation, probes — carry
the Content-Security-Policy (scripts from confhub only), nosniff, frame denial, the opener
policy, the permissions policy and a Referrer-Policy, each exactly once. Pages whose address
holds a token send no Referer at all. A browser enforcing the policy: tests/e2e/test_csp_browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.demo import DemoSeed
from confhub.system.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import login, make_settings
from tests.integration.news.conftest import jpeg_bytes, write_and_publish

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
CAM_TU = 15148
SECURE_BASE_URL = "https://hoinghi.thanhhoa.gov.vn"
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "cross-origin-opener-policy",
    "permissions-policy",
    "referrer-policy",
)


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header's directives: name → its sources."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_secured(response: httpx.Response, *, referrer: str = "same-origin") -> None:
    """Every security header present exactly once, with confhub's values."""
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    for name in SECURITY_HEADERS:
        assert len(response.headers.get_list(name)) == 1, f"{name} on {where}"
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["x-frame-options"] == "DENY", where
    assert response.headers["cross-origin-opener-policy"] == "same-origin", where
    assert "camera=()" in response.headers["permissions-policy"], where
    assert response.headers["referrer-policy"] == referrer, where
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"], where
    assert policy["default-src"] == ["'self'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["base-uri"] == ["'self'"], where
    assert policy["form-action"] == ["'self'"], where


def test_the_policy_allows_no_inline_or_evaluated_script_nor_other_origins() -> None:
    policy = directives(CONTENT_SECURITY_POLICY)
    every_source = [source for sources in policy.values() for source in sources]
    assert "'unsafe-inline'" not in every_source
    assert "'unsafe-eval'" not in every_source
    assert not [source for source in every_source if "://" in source or source.endswith(":")]


def test_public_pages_feeds_static_files_and_probes(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    paths = [
        "/",
        "/login",
        "/news",
        f"/units/{CAM_TU}/news",
        f"/meetings/{demo_seed.past_meeting_id}",
        "/news/feed.atom",
        f"/units/{CAM_TU}/news/feed.atom",
        "/calendar/provinces/38.ics",
        f"/calendar/meetings/{demo_seed.upcoming_meeting_id}.ics",
        "/static/css/confhub.css",
        "/static/js/confhub.js",
        "/schema",
        "/schema/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/provinces",
        "/api/v1/units?province=38",
    ]
    for path in paths:
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert_secured(response)


def test_a_conditional_answer_is_secured_too(client: TestClient[Litestar]) -> None:
    first = client.get("/calendar/provinces/38.ics")
    again = client.get(
        "/calendar/provinces/38.ics", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert_secured(again)


def test_error_pages_and_json_errors(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    cases = [
        ("GET", "/no-such-page", HTML, 404),  # matched by no route at all
        ("GET", "/news/no-such-article", HTML, 404),
        ("GET", "/api/v1/no-such-thing", {}, 404),
        ("GET", "/api/v1/auth/me", {}, 401),
        ("GET", "/meetings/week", HTML, None),  # anonymous: sent to sign in
        ("GET", f"/meetings/{demo_seed.upcoming_meeting_id}/edit", HTML, None),
        ("POST", "/healthz", {}, 405),
        ("GET", "/static/no-such-file.css", {}, 404),
        ("GET", "/news/photos/0123456789abcdef0123456789abcdef.jpg", {}, 404),
    ]
    for method, path, headers, status in cases:
        response = client.request(method, path, headers=headers, follow_redirects=False)
        if status is not None:
            assert response.status_code == status, path
        else:
            assert response.status_code in (302, 303, 401, 403), path
        assert_secured(response)


def test_signed_in_pages_json_and_media(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    meeting = demo_seed.past_meeting_id
    added = client.post(
        f"/api/v1/meetings/{meeting}/minutes/photos",
        data={"caption": "Quang cảnh hội nghị"},
        files={"data": ("p.jpg", jpeg_bytes(), "image/jpeg")},
    )
    assert added.status_code == 201, added.text
    photo = added.json()
    published = write_and_publish(client, meeting)
    paths = [
        "/meetings",
        "/meetings/week",
        "/meetings/new",
        f"/meetings/{meeting}",
        f"/meetings/{meeting}/edit",
        f"/meetings/{meeting}/points",
        f"/meetings/{meeting}/qr-sheet",
        f"/meetings/{meeting}/minutes",
        f"/meetings/{meeting}/articles",
        f"/m/{meeting}/live",
        f"/m/{meeting}/live/list",
        "/profile",
        published["province_article"]["url"],
        f"/api/v1/meetings/{meeting}",
        f"/api/v1/meetings/{meeting}/attendance",
        f"/api/v1/meetings/{meeting}/attendance.csv",
        photo["url"],
        photo["thumbnail_url"],
    ]
    for path in paths:
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert_secured(response)


def test_a_handlers_own_header_is_kept_not_doubled(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    """The photo handler sets nosniff and its cache policy itself: both survive, once each."""
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    added = client.post(
        f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos",
        data={"caption": "Ảnh"},
        files={"data": ("p.jpg", jpeg_bytes(), "image/jpeg")},
    )
    photo = client.get(added.json()["url"])
    assert photo.headers.get_list("x-content-type-options") == ["nosniff"]
    assert photo.headers["cache-control"].startswith("public")


def test_token_pages_send_no_referrer(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    checkin = client.get(f"/checkin/{demo_seed.cam_tu_token}", headers=HTML)
    assert checkin.status_code == 200
    assert_secured(checkin, referrer="no-referrer")
    unknown = client.get("/checkin/not-a-real-token", headers=HTML)
    assert_secured(unknown, referrer="no-referrer")
    feed = client.get("/calendar/private/not-a-real-token.ics")
    assert_secured(feed, referrer="no-referrer")


def test_no_hsts_over_plain_http(client: TestClient[Litestar]) -> None:
    for path in ("/", "/api/v1/provinces", "/static/css/confhub.css", "/no-such-page"):
        assert "strict-transport-security" not in client.get(path).headers, path


@pytest.fixture
def secure_client(demo_db: str, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    """The demo app with an https:// base URL, as served behind the nginx site."""
    app = create_app(make_settings(demo_db, tmp_path, base_url=SECURE_BASE_URL))
    with TestClient(app, base_url=SECURE_BASE_URL) as test_client:
        yield test_client


def test_hsts_under_an_https_base_url(secure_client: TestClient[Litestar]) -> None:
    for path in ("/", "/api/v1/provinces", "/static/css/confhub.css", "/no-such-page", "/healthz"):
        response = secure_client.get(path, headers=HTML)
        assert response.headers.get_list("strict-transport-security") == ["max-age=31536000"]
        assert_secured(response)


def test_hsts_when_the_request_itself_came_over_tls(demo_db: str, tmp_path: Path) -> None:
    """An http:// base URL, but the request's scheme is https (a trusted proxy said so)."""
    app = create_app(make_settings(demo_db, tmp_path))
    with TestClient(app, base_url="https://testserver.local") as over_tls:
        assert over_tls.get("/").headers["strict-transport-security"] == "max-age=31536000"
    with TestClient(app, base_url="http://testserver.local") as plain:
        assert "strict-transport-security" not in plain.get("/").headers


def _cookies_of_a_visit(client: TestClient[Litestar], demo_seed: DemoSeed) -> dict[str, str]:
    """Every Set-Cookie of a sign-in form, a form sign-in, a language switch and an API sign-in,
    by cookie name."""
    set_cookies: list[str] = []
    form = client.get("/login", headers=HTML)
    set_cookies += form.headers.get_list("set-cookie")
    signed_in = client.post(
        "/login",
        data={
            "email": demo_seed.organizer_email,
            "password": demo_seed.organizer_password,
            "_csrf_token": str(client.cookies.get("confhub_csrf")),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert signed_in.status_code in (302, 303), signed_in.text
    set_cookies += signed_in.headers.get_list("set-cookie")
    set_cookies += client.get("/meetings?lang=en", headers=HTML).headers.get_list("set-cookie")
    api = client.post(
        "/api/v1/auth/login",
        json={"email": demo_seed.organizer_email, "password": demo_seed.organizer_password},
    )
    set_cookies += api.headers.get_list("set-cookie")
    return {header.split("=", 1)[0]: header for header in set_cookies}


def _flags(set_cookie: str) -> set[str]:
    return {part.strip().lower() for part in set_cookie.split(";")[1:]}


def test_every_cookie_is_httponly_samesite_lax_and_secure_behind_tls(
    secure_client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    cookies = _cookies_of_a_visit(secure_client, demo_seed)
    assert {"confhub_session", "confhub_csrf", "lang"} <= set(cookies)
    for name, header in cookies.items():
        flags = _flags(header)
        assert "httponly" in flags, name
        assert "samesite=lax" in flags, name
        assert "secure" in flags, name


def test_cookies_are_not_marked_secure_over_plain_http(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    """A laptop's demo on http://127.0.0.1 must keep working: no Secure flag there."""
    cookies = _cookies_of_a_visit(client, demo_seed)
    assert {"confhub_session", "confhub_csrf", "lang"} <= set(cookies)
    for name, header in cookies.items():
        flags = _flags(header)
        assert "httponly" in flags, name
        assert "samesite=lax" in flags, name
        assert "secure" not in flags, name


def test_the_api_documentation_is_a_page_without_scripts(client: TestClient[Litestar]) -> None:
    page = client.get("/schema", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text
    assert "cdn." not in page.text
    assert "/api/v1/meetings/{meeting_id}/checkins" in page.text
    assert 'href="/schema/openapi.json"' in page.text
    assert "Tài liệu API" in page.text
