"""Who may use which route: every route of the app, with every role and two check-in links,
against an explicit table.

The routes come from the app's own route table, so a route added without a rule here fails the
test (naming it), and a rule whose route is gone fails too. Each (route, method) lists the
principals let through; every other one must be refused.

- allowed: any answer but 401/403 (a 400, 404 or 409 from placeholder input still shows the
  request got past authorization);
- refused: 401 or 403, or a redirect to the sign-in page; for a check-in link on a route that
  takes one (`LINK_ROUTES`, where every placeholder is real), also 404: "unknown or revoked".

The two link principals are anonymous clients that send their token everywhere a token could
go: in the path of `/checkin/{token}`, as `?token=` and as `X-Checkin-Token` on every request,
and as `?token=` on the websocket. One is a live link of another point (Cẩm Tú's, while the
point the matrix acts on is Hạc Thành's), the other Hạc Thành's own link, revoked. On a route
that takes no link they must fare exactly as the anonymous visitor does.

The meeting used is the demo's upcoming conference (scheduled, all 166 Thanh Hóa units invited,
Cẩm Tú among them). Drafts are checked apart: for those who may not see a draft the answer is
403 (the meeting exists, it is not theirs), never 404 and never its content. Litestar answers
OPTIONS (CORS preflight) itself, before any handler, so OPTIONS is not listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.conftest import login
from tests.helpers.accounts import create_accounts
from tests.integration.news.conftest import jpeg_bytes

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
PASSWORD = "a-long-password-1"
HAC_THANH = 14797
HOAN_KIEM = 70  # a ward of Hà Nội (province 1)

ANON = "anonymous"
VIEWER = "viewer of Thanh Hóa"
CHAIR = "chair of Cẩm Tú"
OTHER_CHAIR = "chair of a Hà Nội ward"
SECRETARIAT = "secretariat of Thanh Hóa"
OTHER_SECRETARIAT = "secretariat of Hà Nội"
ADMIN = "admin"
ROLES = (ANON, VIEWER, CHAIR, OTHER_CHAIR, SECRETARIAT, OTHER_SECRETARIAT, ADMIN)
OTHER_LINK = "check-in link of another point"
REVOKED_LINK = "revoked check-in link"
LINKS = (OTHER_LINK, REVOKED_LINK)
PRINCIPALS = ROLES + LINKS

EVERYONE = frozenset(PRINCIPALS)
SIGNED_IN = frozenset(ROLES) - {ANON}
# Those who may see the (Thanh Hóa, scheduled) meeting: its province's staff and its chairs.
READERS = frozenset({VIEWER, CHAIR, SECRETARIAT, ADMIN})
MANAGERS = frozenset({SECRETARIAT, ADMIN})
SECRETARIATS = frozenset({SECRETARIAT, OTHER_SECRETARIAT, ADMIN})
# Who reads the meeting's live board and the province's reports: the province's staff.
BOARD_READERS = frozenset({VIEWER, SECRETARIAT, ADMIN})
# Who edits Cẩm Tú's draft article: its chair and its province's secretariat (and admins).
CAM_TU_EDITORS = frozenset({CHAIR, SECRETARIAT, ADMIN})

M = "/meetings/{meeting_id:int}"
P = M + "/points/{point_id:int}"
API = "/api/v1/meetings/{meeting_id:int}"
API_P = API + "/points/{point_id:int}"
ARTICLE = "/api/v1/articles/{article_id:int}"

# (route path as the app names it, method) → the principals let through.
RULES: dict[tuple[str, str], frozenset[str]] = {
    # the system, the public unit list, the API's documentation, static files
    ("/healthz", "GET"): EVERYONE,
    ("/readyz", "GET"): EVERYONE,
    ("/metrics", "GET"): EVERYONE,  # Prometheus scrapes it; no personal data
    ("/api/v1/provinces", "GET"): EVERYONE,
    ("/api/v1/units", "GET"): EVERYONE,
    ("/schema", "GET"): EVERYONE,
    ("/schema/{path:str}", "GET"): EVERYONE,
    ("/schema/openapi.json", "GET"): EVERYONE,
    ("/static/{file_path:path}", "GET"): EVERYONE,
    ("/static/{file_path:path}", "HEAD"): EVERYONE,
    # signing in and out (checked with a client of their own: they change the session)
    ("/api/v1/auth/login", "POST"): EVERYONE,
    ("/api/v1/auth/logout", "POST"): EVERYONE,
    ("/api/v1/auth/me", "GET"): SIGNED_IN,
    ("/login", "GET"): EVERYONE,
    ("/login", "POST"): EVERYONE,
    ("/logout", "POST"): EVERYONE,
    # the meetings API
    ("/api/v1/meetings", "GET"): SIGNED_IN,
    ("/api/v1/meetings", "POST"): MANAGERS,  # of the province in the body (Thanh Hóa)
    (API, "GET"): READERS,
    (API, "PATCH"): MANAGERS,
    (API + "/audit", "GET"): MANAGERS,
    (API + "/status", "POST"): MANAGERS,
    (API + "/copy", "POST"): MANAGERS,
    (API + "/points", "GET"): READERS,
    (API + "/invitations", "POST"): MANAGERS,
    (API + "/chairs/import", "POST"): MANAGERS,
    (API_P, "DELETE"): MANAGERS,
    (API_P + "/chair", "PUT"): MANAGERS,
    (API_P + "/chair", "DELETE"): MANAGERS,
    (API_P + "/checkin-link/revoke", "POST"): MANAGERS,
    (API_P + "/checkin-link/reissue", "POST"): MANAGERS,
    (API_P + "/qr.svg", "GET"): MANAGERS,
    (API + "/links.csv", "GET"): MANAGERS,
    (API + "/links.xlsx", "GET"): MANAGERS,
    (API + "/documents", "GET"): READERS,
    (API + "/documents", "POST"): MANAGERS,
    (API + "/documents/{document_id:int}", "GET"): READERS,
    (API + "/documents/{document_id:int}", "DELETE"): MANAGERS,
    # roll call over HTTP: readers read; answering for a point (here Hạc Thành's, whose chair is
    # none of these roles) is for its province's secretariat
    (API + "/attendance", "GET"): READERS,
    (API + "/attendance.csv", "GET"): READERS,
    (API + "/attendance.xlsx", "GET"): READERS,
    (API + "/checkins", "GET"): READERS,
    (API + "/checkins", "POST"): MANAGERS,
    (API + "/signals", "POST"): MANAGERS,
    (API + "/rehearsal", "POST"): MANAGERS,
    # the answer to the invitation: the point's own link (Hạc Thành's is revoked), its province's
    # secretariat; the resend of notices: the secretariat
    (API + "/acknowledgements", "POST"): MANAGERS,
    (API + "/notices", "POST"): MANAGERS,
    # speaking requests: asking for a point (Hạc Thành's) as answering for it; the list to
    # readers and a link (its own point's requests); the secretariat's steps
    (API + "/speaking", "POST"): MANAGERS,
    (API + "/speaking", "GET"): READERS | {OTHER_LINK},
    (API + "/speaking/{request_id:str}", "PATCH"): MANAGERS,
    # a request's document: attached as the request was made (Hạc Thành's: its link, the
    # secretariat); read by readers (a chair: its unit's requests) and the point's own link
    (API + "/speaking/{request_id:str}/document", "PUT"): MANAGERS,
    (API + "/speaking/{request_id:str}/document", "GET"): READERS,
    # incidents and announcements: reporting for a point (Hạc Thành's) as answering for it; the
    # board's lists to the province's staff; the technician's steps and announcements to the
    # secretariat; the province's incident report (asked for Thanh Hóa) to its staff
    (API + "/incidents", "POST"): MANAGERS,
    (API + "/incidents", "GET"): BOARD_READERS,
    (API + "/incidents/{incident_id:str}", "PATCH"): MANAGERS,
    (API + "/announcements", "POST"): MANAGERS,
    (API + "/announcements", "GET"): BOARD_READERS,
    ("/api/v1/reports/incidents.csv", "GET"): BOARD_READERS,
    ("/reports/incidents", "GET"): BOARD_READERS,
    # the directory of contacts (here Hạc Thành's point, whose unit none of these roles is):
    # its province's secretariat reads and writes; a secretariat's /points is its own province
    ("/api/v1/points/{point_id:int}/contacts", "GET"): MANAGERS,
    ("/api/v1/points/{point_id:int}/contacts", "PUT"): MANAGERS,
    ("/points", "GET"): SECRETARIATS,
    ("/points/{point_id:int}/contacts", "GET"): MANAGERS,
    ("/points/{point_id:int}/contacts", "POST"): MANAGERS,
    # public pages: a non-draft meeting's facts, a check-in link (its token is the key: a live
    # link opens its own point's page, whoever holds it; a revoked one opens nothing)
    ("/", "GET"): EVERYONE,
    ("/checkin/{token:str}", "GET"): EVERYONE - {REVOKED_LINK},
    ("/checkin/{token:str}/speaking", "POST"): EVERYONE - {REVOKED_LINK},
    ("/checkin/{token:str}", "POST"): EVERYONE - {REVOKED_LINK},
    ("/checkin/{token:str}/signal", "POST"): EVERYONE - {REVOKED_LINK},
    ("/checkin/{token:str}/acknowledgement", "POST"): EVERYONE - {REVOKED_LINK},
    # the live board: the province's staff (a chair follows its own point on its check-in page)
    ("/m/{meeting_id:int}/live", "GET"): BOARD_READERS,
    ("/m/{meeting_id:int}/live/list", "GET"): BOARD_READERS,
    (M, "GET"): EVERYONE,
    # the signed-in pages of scheduling
    ("/meetings", "GET"): SIGNED_IN,
    ("/meetings/week", "GET"): SIGNED_IN,
    ("/meetings/new", "GET"): SECRETARIATS,
    ("/meetings/new", "POST"): SECRETARIATS,
    (M + "/edit", "GET"): MANAGERS,
    (M + "/edit", "POST"): MANAGERS,
    (M + "/history", "GET"): MANAGERS,
    (M + "/status", "POST"): MANAGERS,
    (M + "/copy", "POST"): MANAGERS,
    (M + "/invitations", "POST"): MANAGERS,
    (M + "/points", "GET"): READERS,
    (P, "GET"): MANAGERS,
    (P + "/chair", "POST"): MANAGERS,
    (P + "/chair/clear", "POST"): MANAGERS,
    (P + "/remove", "POST"): MANAGERS,
    (P + "/revoke", "POST"): MANAGERS,
    (P + "/reissue", "POST"): MANAGERS,
    (M + "/chairs.csv", "GET"): MANAGERS,
    (M + "/chairs/preview", "POST"): MANAGERS,
    (M + "/chairs/import", "POST"): MANAGERS,
    (M + "/qr-sheet", "GET"): MANAGERS,
    # notices: a meeting's notice states and resend are its secretariat's; the outbox lists a
    # secretariat's own province (here delivery 1, of the demo's Thanh Hóa invitations)
    (M + "/notices", "GET"): MANAGERS,
    (M + "/notices/resend", "POST"): MANAGERS,
    (M + "/notices/unconfirmed.csv", "GET"): MANAGERS,
    ("/outbox", "GET"): SECRETARIATS,
    ("/outbox/{delivery_id:int}", "GET"): MANAGERS,
    ("/outbox/{delivery_id:int}/invite.ics", "GET"): MANAGERS,
    (M + "/documents", "POST"): MANAGERS,
    (M + "/documents/{document_id:int}/delete", "POST"): MANAGERS,
    # calendar feeds: public ones for non-draft meetings; a private feed's token is its key
    ("/calendar/meetings/{filename:str}", "GET"): EVERYONE,
    ("/calendar/provinces/{filename:str}", "GET"): EVERYONE,
    ("/calendar/units/{filename:str}", "GET"): EVERYONE,
    ("/calendar/private/{filename:str}", "GET"): EVERYONE,
    ("/profile", "GET"): SIGNED_IN,
    ("/profile/calendar-token", "POST"): SIGNED_IN,
    # minutes and news: the secretariat writes the minutes; anyone reads published news; a
    # unit's draft (here Cẩm Tú's) is its chair's (or editor's) and its province's secretariat's
    (API + "/minutes", "GET"): MANAGERS,
    (API + "/minutes", "PUT"): MANAGERS,
    (API + "/minutes/revisions/{number:int}", "GET"): MANAGERS,
    (API + "/minutes.docx", "GET"): MANAGERS,
    (API + "/minutes.pdf", "GET"): MANAGERS,
    (API + "/minutes/lock", "POST"): MANAGERS,
    (API + "/minutes/publish", "POST"): MANAGERS,
    (API + "/minutes/photos", "POST"): MANAGERS,
    (API + "/minutes/photos/{photo_id:int}", "PATCH"): MANAGERS,
    (API + "/minutes/photos/{photo_id:int}", "DELETE"): MANAGERS,
    (API + "/articles/publish-drafts", "POST"): MANAGERS,
    ("/api/v1/articles", "GET"): EVERYONE,
    (ARTICLE, "GET"): CAM_TU_EDITORS,
    (ARTICLE, "PATCH"): CAM_TU_EDITORS,
    (ARTICLE + "/publish", "POST"): CAM_TU_EDITORS,
    ("/api/v1/news/preview", "POST"): SIGNED_IN,
    ("/news", "GET"): EVERYONE,
    ("/news/{slug:str}", "GET"): EVERYONE,
    ("/news/feed.atom", "GET"): EVERYONE,
    ("/news/photos/{name:str}", "GET"): EVERYONE,
    ("/units/{unit_code:int}/news", "GET"): EVERYONE,
    ("/units/{unit_code:int}/news/{slug:str}", "GET"): EVERYONE,
    ("/units/{unit_code:int}/news/feed.atom", "GET"): EVERYONE,
    (M + "/minutes", "GET"): MANAGERS,
    (M + "/minutes", "POST"): MANAGERS,
    (M + "/minutes/photos", "POST"): MANAGERS,
    (M + "/minutes/photos/{photo_id:int}/caption", "POST"): MANAGERS,
    (M + "/minutes/photos/{photo_id:int}/remove", "POST"): MANAGERS,
    (M + "/minutes/lock", "POST"): MANAGERS,
    (M + "/minutes/publish", "POST"): MANAGERS,
    (M + "/articles", "GET"): MANAGERS,
    (M + "/articles/publish-drafts", "POST"): MANAGERS,
    ("/articles/{article_id:int}/edit", "GET"): CAM_TU_EDITORS,
    ("/articles/{article_id:int}/edit", "POST"): CAM_TU_EDITORS,
    ("/articles/{article_id:int}/publish", "POST"): CAM_TU_EDITORS,
    # the live channel: the province's staff, the invited units' chairs, and a live link of
    # the meeting (which follows its own point only; see test_live_link_acts_for_its_own_point)
    ("/ws/meetings/{meeting_id:int}", "WS"): READERS | {OTHER_LINK},
}

# The routes that take a check-in link (in the path, or as `?token=` / `X-Checkin-Token`); on
# every other route a link must fare as the anonymous visitor does.
LINK_ROUTES = {
    ("/checkin/{token:str}", "GET"),
    ("/checkin/{token:str}", "POST"),
    ("/checkin/{token:str}/signal", "POST"),
    ("/checkin/{token:str}/acknowledgement", "POST"),
    ("/checkin/{token:str}/speaking", "POST"),
    (API + "/checkins", "POST"),
    (API + "/signals", "POST"),
    (API + "/acknowledgements", "POST"),
    (API + "/speaking", "POST"),
    (API + "/speaking", "GET"),
    (API + "/speaking/{request_id:str}/document", "PUT"),
    (API + "/speaking/{request_id:str}/document", "GET"),
    (API + "/incidents", "POST"),
    ("/ws/meetings/{meeting_id:int}", "WS"),
}
TOKEN_HEADER = "X-Checkin-Token"
# The speaking request and the incident the routes that name one act on (made by `ids`).
MADE = "made-for-the-matrix"

# Routes whose request changes the caller's session: each is tried with a fresh client.
SESSION_CHANGING = {
    ("/api/v1/auth/login", "POST"),
    ("/api/v1/auth/logout", "POST"),
    ("/login", "POST"),
    ("/logout", "POST"),
}
CSV = ("sheet.csv", f"Mã đơn vị,Họ và tên\n{HAC_THANH},Lê Thị Thu\n".encode(), "text/csv")
PDF = ("paper.pdf", b"%PDF-1.4\n" + b"0" * 100, "application/pdf")
JPEG = ("photo.jpg", jpeg_bytes((64, 48)), "image/jpeg")


@dataclass(frozen=True)
class Ids:
    """The real ids the placeholders are filled with."""

    meeting_id: int
    point_id: int
    document_id: int
    token: str
    article_id: int
    photo_id: int
    # The token each link principal carries.
    links: dict[str, str]


def body_for(key: tuple[str, str], ids: Ids) -> dict[str, Any]:
    """What to send; chosen so that an allowed call changes little for the next ones."""
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("/api/v1/meetings", "POST"): {
            "json": {
                "title": "Kiểm tra quyền",
                "province_code": 38,
                "starts_at": "2030-01-02T08:00:00+07:00",
                "ends_at": "2030-01-02T09:00:00+07:00",
            }
        },
        (API, "PATCH"): {"json": {"description": "Kiểm tra quyền"}},
        (API + "/status", "POST"): {"json": {"status": "ended"}},  # impossible: 409
        (API + "/copy", "POST"): {"json": {"starts_at": "2030-01-09T08:00:00+07:00"}},
        (API + "/invitations", "POST"): {"json": {"unit_codes": [15148]}},  # already invited
        (API + "/chairs/import", "POST"): {"params": {"dry_run": "true"}, "files": {"data": CSV}},
        (API_P + "/chair", "PUT"): {"json": {"name": "Lê Thị Thu"}},
        ("/api/v1/points/{point_id:int}/contacts", "PUT"): {"json": {"chair_name": "Lê Thị Thu"}},
        (API + "/documents", "POST"): {"files": {"data": PDF}},
        (API + "/checkins", "POST"): {
            "json": {
                "point_id": ids.point_id,
                "status": "present",
                "delegates_present": 5,
                "idempotency_key": "authorization-matrix",
            }
        },
        (API + "/signals", "POST"): {"json": {"point_id": ids.point_id, "signal": "test_ok"}},
        (API + "/rehearsal", "POST"): {"json": {"action": "stop"}},
        (API + "/acknowledgements", "POST"): {
            "json": {"point_id": ids.point_id, "status": "received", "delegates_expected": 5}
        },
        (API + "/notices", "POST"): {"json": {"kind": "reminder", "point_ids": [ids.point_id]}},
        (API + "/speaking", "POST"): {
            "json": {
                "request_id": "matrix",
                "topic": "Kiểm tra",
                "minutes": 3,
                "point_id": ids.point_id,
            }
        },
        (API + "/speaking/{request_id:str}", "PATCH"): {"json": {"state": "accepted"}},
        (API + "/speaking/{request_id:str}/document", "PUT"): {"files": {"data": PDF}},
        (API + "/incidents", "POST"): {
            "json": {"incident_id": "matrix", "kind": "other", "point_id": ids.point_id}
        },
        (API + "/incidents/{incident_id:str}", "PATCH"): {"json": {"state": "acknowledged"}},
        (API + "/announcements", "POST"): {
            "json": {"text": "Kiểm tra quyền", "announcement_id": "matrix"}
        },
        ("/api/v1/reports/incidents.csv", "GET"): {"params": {"province": 38}},
        ("/reports/incidents", "GET"): {"params": {"province": 38}},
        (M + "/chairs/preview", "POST"): {"files": {"file": CSV}},
        (API + "/minutes", "PUT"): {"json": {"markdown": "Kiểm tra quyền"}},
        (API + "/minutes/photos", "POST"): {"files": {"data": JPEG}},
        (API + "/minutes/photos/{photo_id:int}", "PATCH"): {"json": {"caption": "Ảnh"}},
        (ARTICLE, "PATCH"): {"json": {"lead": "Kiểm tra quyền"}},
        ("/api/v1/news/preview", "POST"): {"json": {"markdown": "**Kiểm tra**"}},
        (M + "/minutes/photos", "POST"): {"files": {"file": JPEG}},
    }
    return dict(bodies.get(key, {}))


def create_users(db_url: str) -> None:
    """The roles the demo does not seed."""
    create_accounts(
        db_url,
        [
            ("viewer@th.example", "viewer", {"province_code": 38}),
            ("chair@hn.example", "chair", {"unit_code": HOAN_KIEM}),
            ("secretariat@hn.example", "secretariat", {"province_code": 1}),
            ("admin@confhub.example", "admin", {}),
        ],
        PASSWORD,
    )


def credentials(seed: DemoSeed) -> dict[str, tuple[str, str]]:
    """Each signed-in role's e-mail and password."""
    return {
        VIEWER: ("viewer@th.example", PASSWORD),
        CHAIR: (seed.chair_email, seed.chair_password),
        OTHER_CHAIR: ("chair@hn.example", PASSWORD),
        SECRETARIAT: (seed.organizer_email, seed.organizer_password),
        OTHER_SECRETARIAT: ("secretariat@hn.example", PASSWORD),
        ADMIN: ("admin@confhub.example", PASSWORD),
    }


def fill(path: str, ids: Ids, principal: str = ANON) -> str:
    """A route's path with its placeholders replaced by real values (a link principal's own
    token in `/checkin/{token}`)."""
    values = {
        "meeting_id": str(ids.meeting_id),
        "point_id": str(ids.point_id),
        "document_id": str(ids.document_id),
        "token": ids.links.get(principal, ids.token),
        "file_path": "css/confhub.css",
        "path": "openapi.yaml",
        "article_id": str(ids.article_id),
        "photo_id": str(ids.photo_id),
        "delivery_id": "1",
        "number": "1",
        "slug": "khong-co-bai-nay",
        "name": "0" * 32 + ".jpg",
        "unit_code": "15148",
        "request_id": MADE,
        "incident_id": MADE,
    }
    feeds = {
        "/calendar/meetings/": f"{ids.meeting_id}.ics",
        "/calendar/provinces/": "38.ics",
        "/calendar/units/": "15148.ics",
        "/calendar/private/": "not-a-real-token.ics",
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "filename":
            return next(v for prefix, v in feeds.items() if path.startswith(prefix))
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def route_keys(app: Litestar) -> tuple[set[tuple[str, str]], list[str]]:
    """(path, method) of every route; and the routes of kinds this test cannot check."""
    keys: set[tuple[str, str]] = set()
    unknown: list[str] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            keys |= {(route.path, method) for method in route.methods if method != "OPTIONS"}
        elif isinstance(route, WebSocketRoute):
            keys.add((route.path, "WS"))
        else:
            unknown.append(f"{type(route).__name__} {route.path}")
    return keys, unknown


def refused(response: httpx.Response, link_refused: bool = False) -> bool:
    """401/403, or a redirect to the sign-in page; with `link_refused`, also 404 (a link
    principal on a route that takes its link: "unknown or revoked")."""
    if response.status_code in (401, 403) or (link_refused and response.status_code == 404):
        return True
    location = response.headers.get("location", "")
    return response.is_redirect and location.startswith("/login")


def csrf(client: TestClient[Litestar]) -> str:
    """The client's CSRF token (set on its first page)."""
    if not client.cookies.get("confhub_csrf"):
        client.get("/login", headers=HTML)
    return str(client.cookies.get("confhub_csrf"))


def call(
    client: TestClient[Litestar], path: str, method: str, key: tuple[str, str], ids: Ids
) -> Any:
    """Make the request a route's rule is checked with; the websocket's outcome for WS."""
    if method == "WS":
        return websocket_outcome(client, path)
    body = body_for(key, ids)
    headers = {**HTML, "x-csrftoken": csrf(client)}
    if "json" in body:
        headers["Accept"] = "application/json"
    return client.request(method, path, headers=headers, follow_redirects=False, **body)


def websocket_outcome(client: TestClient[Litestar], path: str) -> httpx.Response:
    """Connect and read one message: a snapshot means allowed; a close with 1008, refused."""
    try:
        with client.websocket_connect(path) as socket:
            message = socket.receive_json()
    except WebSocketDisconnect as closed:
        return httpx.Response(403 if closed.code == 1008 else 500)
    return httpx.Response(200 if message.get("type") == "snapshot" else 500)


@pytest.fixture
def clients(
    demo_db: str, demo_seed: DemoSeed, make_client: Callable[[], TestClient[Litestar]]
) -> Iterator[dict[str, TestClient[Litestar]]]:
    """One client per role, signed in."""
    create_users(demo_db)
    by_role = {ANON: make_client()}
    for role, (email, password) in credentials(demo_seed).items():
        by_role[role] = make_client()
        login(by_role[role], email, password)
    yield by_role


def carry_link(client: TestClient[Litestar], token: str) -> TestClient[Litestar]:
    """Make an anonymous client send `token` with every request, as header and as `?token=`
    (websockets included)."""
    client.headers[TOKEN_HEADER] = token
    client.params = client.params.set("token", token)
    return client


@pytest.fixture
def principals(
    clients: dict[str, TestClient[Litestar]],
    ids: Ids,
    make_client: Callable[[], TestClient[Litestar]],
) -> dict[str, TestClient[Litestar]]:
    """The roles' clients and one anonymous client per link principal, carrying its token."""
    links = {link: carry_link(make_client(), ids.links[link]) for link in LINKS}
    return {**clients, **links}


def checkin_token(checkin_url: str) -> str:
    """The token at the end of a check-in link."""
    return checkin_url.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def ids(clients: dict[str, TestClient[Litestar]], demo_seed: DemoSeed) -> Ids:
    """A real invited point (not Cẩm Tú's, whose chair must keep seeing the meeting), a real
    document of the meeting, and the links: Cẩm Tú's, and Hạc Thành's own, revoked."""
    secretariat = clients[SECRETARIAT]
    meeting_id = demo_seed.upcoming_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500})
    hac_thanh = next(p for p in points.json()["items"] if p["unit_code"] == HAC_THANH)
    point_id = hac_thanh["point_id"]
    # Hạc Thành's link is revoked, then a new one issued (so its QR code still has a link).
    revoked = checkin_token(hac_thanh["checkin_url"])
    link_url = f"/api/v1/meetings/{meeting_id}/points/{point_id}/checkin-link"
    assert secretariat.post(f"{link_url}/revoke").status_code == 200
    assert secretariat.post(f"{link_url}/reissue").status_code == 200
    upload = secretariat.post(f"/api/v1/meetings/{meeting_id}/documents", files={"data": PDF})
    assert upload.status_code == 201, upload.text
    photo = secretariat.post(f"/api/v1/meetings/{meeting_id}/minutes/photos", files={"data": JPEG})
    assert photo.status_code == 201, photo.text
    # The speaking request and the incident that `{request_id}` and `{incident_id}` name, made
    # for Hạc Thành: each principal's case starts from a database of its own, where no allowed
    # principal's call made them before it. Not those the matrix's POSTs ask to make ("matrix"):
    # a refused principal meets those as the seed has them, absent.
    api = f"/api/v1/meetings/{meeting_id}"
    speaking = {"request_id": MADE, "topic": "Kiểm tra", "minutes": 3, "point_id": point_id}
    incident = {"incident_id": MADE, "kind": "other", "point_id": point_id}
    for made in (
        secretariat.post(f"{api}/speaking", json=speaking),
        secretariat.post(f"{api}/incidents", json=incident),
    ):
        assert made.status_code in (200, 201), made.text
    # The ended meeting's minutes, published: Cẩm Tú's draft is the article checked.
    past = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{past}/minutes", json={"markdown": "Biên bản"})
    assert secretariat.post(f"/api/v1/meetings/{past}/minutes/publish").status_code == 200
    articles = secretariat.get("/api/v1/articles", params={"unit": 15148}).json()["items"]
    return Ids(
        meeting_id,
        point_id,
        upload.json()["id"],
        demo_seed.cam_tu_token,
        articles[0]["id"],
        photo.json()["id"],
        {OTHER_LINK: demo_seed.cam_tu_token, REVOKED_LINK: revoked},
    )


def test_every_route_has_a_rule(demo_app: Litestar) -> None:
    keys, unknown = route_keys(demo_app)
    missing = sorted(keys - set(RULES))
    stale = sorted(set(RULES) - keys)
    assert not unknown, f"routes of a kind this test cannot check: {unknown}"
    assert not missing, f"routes without an authorization rule (add them to RULES): {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"
    assert not LINK_ROUTES - set(RULES), f"link routes without a rule: {LINK_ROUTES - set(RULES)}"


def test_a_link_grants_nothing_where_no_link_is_taken() -> None:
    # On a cookie route a link is no credential: the table must say "as anonymous" for both.
    wrong = [
        f"{method} {path}: {link}"
        for (path, method), allowed in RULES.items()
        if (path, method) not in LINK_ROUTES
        for link in LINKS
        if (link in allowed) != (ANON in allowed)
    ]
    assert not wrong, "rules that treat a check-in link unlike anonymous:\n" + "\n".join(wrong)


def _order(key: tuple[str, str]) -> tuple[int, str]:
    # Reads first, then changes, removals last: an allowed removal cannot hide a later check.
    rank = {"GET": 0, "HEAD": 0, "WS": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    removal = key[0].endswith(("/remove", "/delete")) or key[1] == "DELETE"
    return (2 if removal else rank[key[1]], key[0])


@pytest.mark.slow  # every route as one principal: a few seconds each, nine principals
@pytest.mark.parametrize("role", PRINCIPALS)
def test_authorization_matrix(
    role: str,
    demo_app: Litestar,
    principals: dict[str, TestClient[Litestar]],
    ids: Ids,
    demo_seed: DemoSeed,
    make_client: Callable[[], TestClient[Litestar]],
) -> None:
    """Every route, as one principal, on a database of its own: a refused principal meets the
    demo as `ids` leaves it (its calls change nothing); an allowed one meets what its own earlier
    calls left, reads first, changes next, removals last. One case a principal, so that the
    workers share the matrix (it was one test of ~30 s, the longest of the suite)."""
    keys, _unknown = route_keys(demo_app)
    accounts = credentials(demo_seed)
    # A call that signs in or out starts from no session, as a new browser does: the principal
    # has a client of its own for these, its cookies dropped before each call.
    new_browser: TestClient[Litestar] | None = None
    wrong: list[str] = []
    for key in sorted(keys & set(RULES), key=_order):
        path, method = key
        allowed = RULES[key]
        client = principals[role]
        if key in SESSION_CHANGING:
            if new_browser is None:
                new_browser = make_client()
                if role in LINKS:
                    carry_link(new_browser, ids.links[role])
            client = new_browser
            client.cookies.clear()
            email, password = accounts.get(role, accounts[VIEWER])
            if role in accounts and "logout" in path:
                login(client, email, password)
            response = session_call(client, path, method, email, password)
        else:
            response = call(client, fill(path, ids, role), method, key, ids)
        link_refused = role in LINKS and key in LINK_ROUTES
        if refused(response, link_refused) == (role in allowed):
            expected = "allowed" if role in allowed else "refused"
            wrong.append(f"{method} {path} as {role}: {response.status_code}, {expected}")
    assert not wrong, "authorization differs from the table:\n" + "\n".join(wrong)


def session_call(
    client: TestClient[Litestar], path: str, method: str, email: str, password: str
) -> httpx.Response:
    """Sign in (with valid credentials) or out: open to everyone."""
    token = csrf(client)
    if path == "/api/v1/auth/login":
        return client.post(path, json={"email": email, "password": password})
    if path == "/login":
        data = {"email": email, "password": password, "_csrf_token": token}
        return client.post(path, data=data, headers=HTML, follow_redirects=False)
    return client.request(method, path, headers={"x-csrftoken": token}, follow_redirects=False)


# Who gets what for a draft (of Thanh Hóa, Cẩm Tú invited): refused with 403, never 404.
DRAFT_ANSWERS = {
    ANON: 401,
    OTHER_LINK: 401,  # a link is no sign-in
    REVOKED_LINK: 401,
    VIEWER: 403,
    CHAIR: 403,  # invited, but a draft is the secretariat's alone
    OTHER_CHAIR: 403,
    OTHER_SECRETARIAT: 403,
    SECRETARIAT: 200,
    ADMIN: 200,
}


def test_a_draft_is_refused_with_403_not_hidden_as_404(
    principals: dict[str, TestClient[Litestar]],
) -> None:
    secretariat = principals[SECRETARIAT]
    draft = secretariat.post(
        "/api/v1/meetings",
        json={
            "title": "Bản nháp kiểm tra quyền",
            "province_code": 38,
            "starts_at": "2030-01-02T08:00:00+07:00",
            "ends_at": "2030-01-02T09:00:00+07:00",
        },
    ).json()
    secretariat.post(f"/api/v1/meetings/{draft['id']}/invitations", json={"unit_codes": [15148]})
    wrong = []
    for role, status in DRAFT_ANSWERS.items():
        for url in (
            f"/meetings/{draft['id']}",
            f"/api/v1/meetings/{draft['id']}",
            f"/meetings/{draft['id']}/points",
        ):
            response = principals[role].get(url, headers=HTML)
            shown = "Bản nháp kiểm tra quyền" in response.text
            if response.status_code != status or shown != (status == 200):
                wrong.append(f"{url} as {role}: {response.status_code} (expected {status})")
    assert not wrong, wrong


def receive_answer(socket: Any) -> dict[str, Any]:
    """The first `ack` or `error` (presence deltas may come before it)."""
    for _ in range(20):
        message: dict[str, Any] = socket.receive_json()
        if message.get("type") in ("ack", "error"):
            return message
    raise AssertionError("no answer to the check-in within 20 messages")


def test_live_link_acts_for_its_own_point(
    principals: dict[str, TestClient[Litestar]],
    ids: Ids,
    demo_seed: DemoSeed,
    make_client: Callable[[], TestClient[Litestar]],
) -> None:
    link, meeting_id = principals[OTHER_LINK], ids.meeting_id
    hac_thanh = {"point_id": ids.point_id, "status": "present", "delegates_present": 3}
    with link.websocket_connect(f"/ws/meetings/{meeting_id}") as socket:
        snapshot = socket.receive_json()
        assert snapshot["type"] == "snapshot"
        assert [p["unit_code"] for p in snapshot["points"]] == [15148]  # its own point only
        socket.send_json({"type": "checkin", "idempotency_key": "ws-other", **hac_thanh})
        assert receive_answer(socket)["type"] == "error"
    answer = link.post(
        f"/api/v1/meetings/{meeting_id}/checkins", json={"idempotency_key": "api", **hac_thanh}
    )
    assert answer.status_code == 403
    history = principals[SECRETARIAT].get(
        f"/api/v1/meetings/{meeting_id}/checkins", params={"point_id": ids.point_id}
    )
    assert history.json()["total"] == 0  # nothing was stored for Hạc Thành

    # Cẩm Tú's link of the ended meeting opens nothing of the upcoming one.
    past = principals[SECRETARIAT].get(
        f"/api/v1/meetings/{demo_seed.past_meeting_id}/points", params={"limit": 500}
    )
    old = next(p for p in past.json()["items"] if p["unit_code"] == 15148)
    foreign = carry_link(make_client(), checkin_token(old["checkin_url"]))
    assert websocket_outcome(foreign, f"/ws/meetings/{meeting_id}").status_code == 403
    cam_tu = snapshot["points"][0]["point_id"]
    own_point = {**hac_thanh, "point_id": cam_tu, "idempotency_key": "foreign"}
    answer = foreign.post(f"/api/v1/meetings/{meeting_id}/checkins", json=own_point)
    assert answer.status_code == 404
