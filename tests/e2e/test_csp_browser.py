"""The Content-Security-Policy, enforced by a real browser (Debian's Chromium through Playwright).

Chromium opens one page of every page type the app serves — the HTML GET routes come from the
app's own route table, so a new page type without an entry here fails the test, naming it — as
the visitor, chair or secretariat who would see it, waits for its scripts (the live board's and
the check-in page's websockets connected, lazy photos loaded), and no `securitypolicyviolation`
event fires and no console message about the policy appears.

So that this can fail, a first test serves a real page with an inline script, an `onclick`
attribute and a `style` attribute injected, under the header the app sent: Chromium blocks each
and reports it through the same listeners.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.enums import MediaType
from litestar.routes import HTTPRoute
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CAM_TU = 15148
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Runs before any of the page's scripts, in every document (injected by the browser's debugging
# protocol, so the policy does not apply to it): it records every violation the page reports.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ` +
    `${event.sourceFile}:${event.lineNumber}`);
});
"""
# Let queued violation events be dispatched: two animation frames and a task.
SETTLE = """() => new Promise((done) =>
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))))"""
CSP_CONSOLE = re.compile(r"content[- ]security[- ]policy", re.IGNORECASE)

ANON = "anonymous"
SECRETARIAT = "secretariat"


class Site:
    """What the pages are about: the demo's meetings, a point, published articles."""

    def __init__(self, server: LiveServer, seed: DemoSeed) -> None:
        self.url = server.url
        self.seed = seed
        self.meeting = seed.upcoming_meeting_id
        self.past_meeting = seed.past_meeting_id
        with closing(_api(server, seed.organizer_email, seed.organizer_password)) as secretariat:
            points = secretariat.get(f"/api/v1/meetings/{self.meeting}/points?limit=1").json()
            self.point_id = points["items"][0]["point_id"]
            # The demo's invitations wait on the outbox (no mail server): one message's page.
            outbox = secretariat.get("/outbox", headers={"Accept": "text/html"}).text
            found = re.search(r'href="/outbox/(\d+)"', outbox)
            assert found is not None, "the demo's outbox lists no message"
            self.delivery_id = int(found.group(1))
            # Minutes with a photo, published: the province's article and Cẩm Tú's draft.
            secretariat.put(
                f"/api/v1/meetings/{self.past_meeting}/minutes",
                json={"markdown": "## Nội dung\n\nHội nghị đã nghe **báo cáo**."},
            )
            added = secretariat.post(
                f"/api/v1/meetings/{self.past_meeting}/minutes/photos",
                data={"caption": "Quang cảnh hội nghị"},
                files={"data": ("p.jpg", _jpeg(), "image/jpeg")},
            )
            assert added.status_code == 201, added.text
            published = secretariat.post(f"/api/v1/meetings/{self.past_meeting}/minutes/publish")
            assert published.status_code == 200, published.text
            self.province_article = published.json()["province_article"]["url"]
        with closing(_api(server, seed.chair_email, seed.chair_password)) as chair:
            draft = chair.get("/api/v1/articles", params={"unit": CAM_TU}).json()["items"][0]
            self.article_id = draft["id"]
            article = chair.post(f"/api/v1/articles/{draft['id']}/publish")
            assert article.status_code == 200, article.text
            self.unit_article = article.json()["url"]


def _api(server: LiveServer, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return client


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (176, 30, 36)).save(buffer, "JPEG")
    return buffer.getvalue()


# Route (as the app names it) → who opens it, and the address of one such page.
PAGES: dict[str, tuple[str, Callable[[Site], str]]] = {
    "/": (ANON, lambda s: "/"),
    "/login": (ANON, lambda s: "/login"),
    "/news": (ANON, lambda s: "/news"),
    "/news/{slug:str}": (ANON, lambda s: s.province_article),
    "/units/{unit_code:int}/news": (ANON, lambda s: f"/units/{CAM_TU}/news"),
    "/units/{unit_code:int}/news/{slug:str}": (ANON, lambda s: s.unit_article),
    "/checkin/{token:str}": (ANON, lambda s: f"/checkin/{s.seed.cam_tu_token}"),
    "/schema": (ANON, lambda s: "/schema"),
    "/schema/{path:str}": (ANON, lambda s: "/schema/swagger"),
    "/meetings/{meeting_id:int}": (SECRETARIAT, lambda s: f"/meetings/{s.meeting}"),
    "/meetings": (SECRETARIAT, lambda s: "/meetings"),
    "/meetings/week": (SECRETARIAT, lambda s: "/meetings/week"),
    "/meetings/new": (SECRETARIAT, lambda s: "/meetings/new"),
    "/meetings/{meeting_id:int}/edit": (SECRETARIAT, lambda s: f"/meetings/{s.meeting}/edit"),
    "/meetings/{meeting_id:int}/points": (SECRETARIAT, lambda s: f"/meetings/{s.meeting}/points"),
    "/meetings/{meeting_id:int}/points/{point_id:int}": (
        SECRETARIAT,
        lambda s: f"/meetings/{s.meeting}/points/{s.point_id}",
    ),
    "/meetings/{meeting_id:int}/qr-sheet": (
        SECRETARIAT,
        lambda s: f"/meetings/{s.meeting}/qr-sheet",
    ),
    "/m/{meeting_id:int}/live": (SECRETARIAT, lambda s: f"/m/{s.meeting}/live"),
    "/m/{meeting_id:int}/live/list": (SECRETARIAT, lambda s: f"/m/{s.meeting}/live/list"),
    "/profile": (SECRETARIAT, lambda s: "/profile"),
    "/meetings/{meeting_id:int}/minutes": (
        SECRETARIAT,
        lambda s: f"/meetings/{s.past_meeting}/minutes",
    ),
    "/meetings/{meeting_id:int}/articles": (
        SECRETARIAT,
        lambda s: f"/meetings/{s.past_meeting}/articles",
    ),
    "/articles/{article_id:int}/edit": (SECRETARIAT, lambda s: f"/articles/{s.article_id}/edit"),
    "/meetings/{meeting_id:int}/history": (SECRETARIAT, lambda s: f"/meetings/{s.meeting}/history"),
    "/meetings/{meeting_id:int}/notices": (SECRETARIAT, lambda s: f"/meetings/{s.meeting}/notices"),
    "/points": (SECRETARIAT, lambda s: "/points"),
    "/points/{point_id:int}/contacts": (SECRETARIAT, lambda s: f"/points/{s.point_id}/contacts"),
    "/outbox": (SECRETARIAT, lambda s: "/outbox"),
    "/reports/incidents": (SECRETARIAT, lambda s: "/reports/incidents?province=38"),
    "/outbox/{delivery_id:int}": (SECRETARIAT, lambda s: f"/outbox/{s.delivery_id}"),
}
# Pages no GET route names: the error page of an address nothing serves.
EXTRA_PAGES: list[tuple[str, str]] = [(ANON, "/no-such-page"), (SECRETARIAT, "/meetings/999999")]
# What to wait for, beyond the load event, before a page counts as fully running.
READY: dict[str, str] = {
    "/m/{meeting_id:int}/live": "#board[data-ready=true]",  # after the websocket's snapshot
    "/checkin/{token:str}": "#connection[data-state=live]",
}


def html_page_routes(app: Litestar) -> set[str]:
    """Every route with a GET handler that answers a web page (a template or HTML)."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "GET" not in handler.http_methods:
                continue
            returns = str(handler.parsed_fn_signature.return_type.annotation)
            if "Template" in returns or handler.media_type == MediaType.HTML:
                found.add(route.path)
    return found


class Recorder:
    """A browser context whose pages report policy violations and policy console messages."""

    def __init__(self, browser: Any, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, locale="vi-VN")
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.sockets: list[str] = []
        self.page.on("console", self._console)
        self.page.on("websocket", lambda socket: self.sockets.append(socket.url))

    def _console(self, message: Any) -> None:
        if CSP_CONSOLE.search(message.text):
            self.console.append(f"{message.type}: {message.text}")

    def open(self, url: str, ready: str | None = None) -> list[str]:
        """Open `url`, let it run, and return the violations and policy messages it caused."""
        self.console.clear()
        self.page.goto(url, wait_until="load")
        if ready:
            try:
                self.page.wait_for_selector(ready, state="attached", timeout=15_000)
            except PlaywrightTimeout:
                reported = [*self.page.evaluate("() => window.__violations"), *self.console]
                pytest.fail(f"{url} never showed {ready}; policy reports: {reported}")
        # Bring lazily loaded images into view, then wait for them.
        self.page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        self.page.wait_for_load_state("networkidle")
        self.page.evaluate(SETTLE)
        return [*self.page.evaluate("() => window.__violations"), *self.console]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def site(live_server: LiveServer, demo_seed: DemoSeed) -> Site:
    """The demo served, with published articles to open."""
    return Site(live_server, demo_seed)


@pytest.fixture
def visitor(browser: Any) -> Iterator[Recorder]:
    """An anonymous desktop browser."""
    recorder = Recorder(browser, DESKTOP)
    yield recorder
    recorder.close()


def test_an_injected_inline_script_is_blocked_and_reported(
    live_server: LiveServer, visitor: Recorder
) -> None:
    """The listeners do hear violations: a page given inline code under the app's own header."""
    probe = f"{live_server.url}/login"
    policies: list[str] = []

    def inject(route: Any) -> None:
        response = route.fetch()
        policies.append(response.headers.get("content-security-policy", ""))
        body = response.text().replace(
            "</body>",
            "<script>window.__inline_ran = true;</script>"
            '<button id="probe" onclick="window.__handler_ran = true">x</button>'
            '<p style="color: red">styled</p></body>',
        )
        route.fulfill(response=response, body=body)

    visitor.page.route(probe, inject)
    visitor.open(probe)
    assert policies and "script-src 'self'" in policies[0]  # the app's own header, kept
    visitor.page.click("#probe")
    visitor.page.evaluate(SETTLE)
    reported = [*visitor.page.evaluate("() => window.__violations"), *visitor.console]
    assert visitor.page.evaluate("() => window.__inline_ran === undefined")
    assert visitor.page.evaluate("() => window.__handler_ran === undefined")
    directives = " ".join(reported)
    assert "script-src-elem blocked inline" in directives
    assert "script-src-attr blocked inline" in directives
    assert "style-src-attr blocked inline" in directives
    assert any(CSP_CONSOLE.search(line) for line in visitor.console)


@pytest.mark.parametrize("role", [ANON, SECRETARIAT])
def test_every_page_type_runs_without_a_policy_violation(
    role: str, live_server: LiveServer, browser: Any, site: Site
) -> None:
    """The pages one role opens (a phone for the visitor, a desktop for the secretariat): one
    case a role, so that the workers share the browsing."""
    app = live_server.server.config.app
    routes = html_page_routes(app)
    assert routes - set(PAGES) == set(), "page types with no entry in PAGES"
    assert set(PAGES) - routes == set(), "entries in PAGES the app no longer serves"

    recorder = Recorder(browser, PHONE if role == ANON else DESKTOP)
    try:
        if role == SECRETARIAT:
            # Signing in through the form: the form's own page and its POST count too.
            page = recorder.page
            page.goto(f"{site.url}/login")
            page.fill("#email", site.seed.organizer_email)
            page.fill("#password", site.seed.organizer_password)
            page.click("form.form button[type=submit]")
            page.wait_for_url(f"{site.url}/")
        violations: dict[str, list[str]] = {}
        visits = [(who, address(site), READY.get(route)) for route, (who, address) in PAGES.items()]
        visits += [(who, path, None) for who, path in EXTRA_PAGES]
        for who, path, ready in visits:
            if who != role:
                continue
            found = recorder.open(site.url + path, ready)
            if found:
                violations[path] = found
    finally:
        recorder.close()
    assert violations == {}
    # The board (the secretariat's) and the check-in page (the visitor's) did talk over their
    # websockets (connect-src 'self').
    live = f"ws://{site.url.removeprefix('http://')}/ws/meetings/{site.meeting}"
    assert any(url.startswith(live) for url in recorder.sockets)
