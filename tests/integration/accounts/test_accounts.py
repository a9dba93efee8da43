"""Accounts: signing in and out (JSON and HTML form), sessions, who sees which meeting, and how
passwords are kept.

The contract: `POST /api/v1/auth/login` sets the session cookie and answers 401 on a wrong pair;
`secretariat` sees its province's meetings, `chair` its unit's, `viewer` its province's without
drafts, anonymous callers nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.models import User
from confhub.accounts.services import UserService
from confhub.core.errors import ConflictError, InvalidInputError
from confhub.db.engine import create_engine, session_maker
from confhub.demo import CAM_TU, ORGANIZER_EMAIL, THANH_HOA, DemoSeed
from confhub.meetings.models import MeetingStatus
from confhub.meetings.services import MeetingService
from confhub.points.services import default_point
from confhub.units.models import Unit
from tests.conftest import login

pytestmark = pytest.mark.integration

SESSION_COOKIE = "confhub_session"
CSRF_COOKIE = "confhub_csrf"
TEST_HOST = "testserver.local"
HA_NOI = 1
PASSWORD = "correct horse battery staple"


def _session_cookie(client: TestClient[Litestar]) -> str | None:
    return client.cookies.get(SESSION_COOKIE)


def _present_session_id(client: TestClient[Litestar], value: str) -> None:
    """Make the client send `value` as its session cookie (as a planted cookie would be)."""
    client.cookies.delete(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, value, domain=TEST_HOST)


# --- JSON sign-in -------------------------------------------------------------------------------


def test_login_me_logout(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    response = client.post(
        "/api/v1/auth/login",
        json={"email": demo_seed.organizer_email, "password": demo_seed.organizer_password},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == ORGANIZER_EMAIL
    assert body["role"] == "secretariat"
    assert body["province_code"] == THANH_HOA
    assert "password" not in response.text and "hash" not in response.text
    assert _session_cookie(client)

    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == ORGANIZER_EMAIL
    assert me.json()["id"] == body["id"]

    out = client.post("/api/v1/auth/logout")
    assert out.status_code == 204
    after = client.get("/api/v1/auth/me")
    assert after.status_code == 401
    assert after.json()["status_code"] == 401


def test_chair_login_reports_unit_and_province(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    response = client.post(
        "/api/v1/auth/login",
        json={"email": demo_seed.chair_email, "password": demo_seed.chair_password},
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "chair"
    assert response.json()["unit_code"] == CAM_TU
    assert response.json()["province_code"] == THANH_HOA


def test_login_is_case_and_space_insensitive_for_the_email(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    login(client, f"  {demo_seed.organizer_email.upper()} ", demo_seed.organizer_password)
    assert client.get("/api/v1/auth/me").json()["email"] == ORGANIZER_EMAIL


def test_wrong_password_and_unknown_email_look_the_same(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    wrong_password = client.post(
        "/api/v1/auth/login",
        json={"email": demo_seed.organizer_email, "password": demo_seed.organizer_password + "x"},
    )
    unknown_email = client.post(
        "/api/v1/auth/login",
        json={"email": "nobody@thanhhoa.confhub.example", "password": "whatever-password"},
    )
    assert wrong_password.status_code == 401
    assert unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert set(wrong_password.json()) == {"status_code", "detail"}
    assert wrong_password.json()["status_code"] == 401
    assert client.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize(
    "payload",
    [{}, {"email": "a@b.example"}, {"password": "x"}, {"email": 1, "password": 2}, "nonsense"],
)
def test_malformed_login_is_a_4xx_not_a_500(client: TestClient[Litestar], payload: object) -> None:
    response = client.post("/api/v1/auth/login", json=payload)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["status_code"] == response.status_code


def test_login_renews_the_session_id(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    """Session fixation: an id planted before sign-in is never the signed-in session's id."""
    planted = "attacker-chosen-session-id-0123456789abcdef"
    _present_session_id(client, planted)
    before = {planted}
    anonymous = client.get("/login")
    assert anonymous.status_code == 200
    if _session_cookie(client):
        before.add(str(_session_cookie(client)))

    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    after = _session_cookie(client)
    assert after and after != "null"
    assert after not in before

    # Whoever holds the planted id (the attacker) is not signed in by the victim's sign-in.
    _present_session_id(client, planted)
    assert client.get("/api/v1/auth/me").status_code == 401
    _present_session_id(client, after)
    assert client.get("/api/v1/auth/me").json()["email"] == ORGANIZER_EMAIL


def test_relogin_renews_the_session_id(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    """Signing in again (e.g. as someone else) gives a new id and the old one stops working."""
    login(client, demo_seed.chair_email, demo_seed.chair_password)
    first = _session_cookie(client)
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    second = _session_cookie(client)
    assert first and second and first != second
    assert client.get("/api/v1/auth/me").json()["email"] == ORGANIZER_EMAIL
    _present_session_id(client, str(first))
    assert client.get("/api/v1/auth/me").status_code == 401


# --- HTML sign-in form --------------------------------------------------------------------------

_CSRF_INPUT = re.compile(r'<input[^>]*name="_csrf_token"[^>]*value="([^"]+)"')


def _csrf_from_form(client: TestClient[Litestar]) -> str:
    page = client.get("/login", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert '<form method="post" action="/login"' in page.text
    assert 'name="email"' in page.text and 'name="password"' in page.text
    match = _CSRF_INPUT.search(page.text)
    assert match, "the login form has no CSRF hidden input"
    assert client.cookies.get(CSRF_COOKIE), "no CSRF cookie was set"
    return match.group(1)


def test_login_form_signs_in_and_redirects(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    token = _csrf_from_form(client)
    response = client.post(
        "/login",
        data={
            "_csrf_token": token,
            "email": demo_seed.organizer_email,
            "password": demo_seed.organizer_password,
            "next": "/meetings/1",
        },
        follow_redirects=False,
    )
    assert response.status_code in (301, 302, 303, 307), response.text
    assert response.headers["location"] == "/meetings/1"
    assert _session_cookie(client)
    assert client.get("/api/v1/auth/me").json()["email"] == ORGANIZER_EMAIL


def test_login_form_with_the_cookie_token(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    _csrf_from_form(client)
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    response = client.post(
        "/login",
        data={
            "_csrf_token": token,
            "email": demo_seed.chair_email,
            "password": demo_seed.chair_password,
        },
        follow_redirects=False,
    )
    assert response.status_code in (301, 302, 303, 307), response.text
    assert response.headers["location"] == "/"


def test_login_form_refuses_an_offsite_next(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    token = _csrf_from_form(client)
    response = client.post(
        "/login",
        data={
            "_csrf_token": token,
            "email": demo_seed.organizer_email,
            "password": demo_seed.organizer_password,
            "next": "//evil.example/phish",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_login_form_wrong_password_shows_the_form_again(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    token = _csrf_from_form(client)
    response = client.post(
        "/login?lang=en",
        data={
            "_csrf_token": token,
            "email": demo_seed.organizer_email,
            "password": "not-the-password",
        },
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "text/html" in response.headers["content-type"]
    assert 'role="alert"' in response.text
    assert '<form method="post" action="/login"' in response.text
    assert "not-the-password" not in response.text
    assert demo_seed.organizer_email in response.text  # the e-mail is kept for a retry
    assert client.get("/api/v1/auth/me").status_code == 401


def test_login_form_without_csrf_token_is_refused(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    _csrf_from_form(client)
    response = client.post(
        "/login",
        data={"email": demo_seed.organizer_email, "password": demo_seed.organizer_password},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 401


def test_login_form_with_a_forged_csrf_token_is_refused(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    _csrf_from_form(client)
    response = client.post(
        "/login",
        data={
            "_csrf_token": "forged-token",
            "email": demo_seed.organizer_email,
            "password": demo_seed.organizer_password,
        },
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 401


# --- Who sees which meeting ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """Accounts and meetings added to the demo database for the visibility tests."""

    ha_noi_unit: int
    ha_noi_meeting: int
    thanh_hoa_draft: int
    ha_noi_chair: str
    viewer: str


async def _add_scenario(database_url: str) -> Scenario:
    engine = create_engine(database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            unit_code = await session.scalar(
                select(Unit.code).where(Unit.province_code == HA_NOI).order_by(Unit.code)
            )
            assert unit_code is not None
            users = UserService(session=session)
            ha_noi_chair = await users.create_user(
                email="chair@hanoi.confhub.example",
                password=PASSWORD,
                role="chair",
                unit_code=unit_code,
            )
            viewer = await users.create_user(
                email="viewer@thanhhoa.confhub.example",
                password=PASSWORD,
                role="viewer",
                province_code=THANH_HOA,
            )
            meetings = MeetingService(session=session)
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
            ha_noi = await meetings.create_meeting(
                province_code=HA_NOI,
                title="Hội nghị giao ban Hà Nội",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                status=MeetingStatus.SCHEDULED,
            )
            point = await default_point(session, unit_code=unit_code)
            assert point is not None
            await meetings.invite_points(ha_noi, [point])
            draft = await meetings.create_meeting(
                province_code=THANH_HOA,
                title="Dự thảo hội nghị Thanh Hóa",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
            )
            cam_tu_point = await default_point(session, unit_code=CAM_TU)
            assert cam_tu_point is not None
            await meetings.invite_points(draft, [cam_tu_point])
            return Scenario(
                ha_noi_unit=unit_code,
                ha_noi_meeting=ha_noi.id,
                thanh_hoa_draft=draft.id,
                ha_noi_chair=ha_noi_chair.email,
                viewer=viewer.email,
            )
    finally:
        await engine.dispose()


@pytest.fixture
def scenario(demo_db: str) -> Scenario:
    """The demo database plus a Hà Nội chair and meeting, a Thanh Hóa viewer and draft."""
    return asyncio.run(_add_scenario(demo_db))


def _meeting_ids(client: TestClient[Litestar], query: str = "") -> set[int]:
    response = client.get(f"/api/v1/meetings{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def test_anonymous_sees_no_meetings(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    response = client.get("/api/v1/meetings")
    assert response.status_code == 401
    assert response.json()["status_code"] == 401
    assert client.get(f"/api/v1/meetings/{demo_seed.past_meeting_id}").status_code == 401


def test_list_envelope(client: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    body = client.get("/api/v1/meetings", params={"limit": 1, "offset": 1}).json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["limit"] == 1 and body["offset"] == 1
    assert body["total"] == 2 and len(body["items"]) == 1
    assert client.get("/api/v1/meetings", params={"limit": 0}).status_code == 400
    assert client.get("/api/v1/meetings", params={"offset": -1}).status_code == 400


def test_chair_sees_only_its_units_meetings(
    client: TestClient[Litestar], demo_seed: DemoSeed, scenario: Scenario
) -> None:
    login(client, demo_seed.chair_email, demo_seed.chair_password)
    thanh_hoa = {demo_seed.past_meeting_id, demo_seed.upcoming_meeting_id}
    assert _meeting_ids(client) == thanh_hoa  # not the Hà Nội one, not the draft
    assert _meeting_ids(client, f"?province={THANH_HOA}") == thanh_hoa
    assert _meeting_ids(client, f"?province={HA_NOI}") == set()

    for meeting_id in thanh_hoa:
        response = client.get(f"/api/v1/meetings/{meeting_id}")
        assert response.status_code == 200, response.text
        assert response.json()["province_code"] == THANH_HOA
    forbidden = client.get(f"/api/v1/meetings/{scenario.ha_noi_meeting}")
    assert forbidden.status_code == 403
    assert forbidden.json()["status_code"] == 403
    assert client.get(f"/api/v1/meetings/{scenario.thanh_hoa_draft}").status_code == 403
    assert client.get("/api/v1/meetings/999999").status_code == 404


def test_chair_of_another_province_sees_only_its_meeting(
    client: TestClient[Litestar], demo_seed: DemoSeed, scenario: Scenario
) -> None:
    ha_noi = client
    login(ha_noi, scenario.ha_noi_chair, PASSWORD)
    me = ha_noi.get("/api/v1/auth/me").json()
    assert me["unit_code"] == scenario.ha_noi_unit and me["province_code"] == HA_NOI
    assert _meeting_ids(ha_noi) == {scenario.ha_noi_meeting}
    assert ha_noi.get(f"/api/v1/meetings/{demo_seed.past_meeting_id}").status_code == 403


def test_secretariat_sees_its_province_only(
    client: TestClient[Litestar], demo_seed: DemoSeed, scenario: Scenario
) -> None:
    secretariat = client
    login(secretariat, demo_seed.organizer_email, demo_seed.organizer_password)
    ids = _meeting_ids(secretariat)
    assert {demo_seed.past_meeting_id, demo_seed.upcoming_meeting_id} <= ids
    assert scenario.thanh_hoa_draft in ids  # its own drafts too
    assert scenario.ha_noi_meeting not in ids
    assert _meeting_ids(secretariat, f"?province={HA_NOI}") == set()
    assert secretariat.get(f"/api/v1/meetings/{scenario.thanh_hoa_draft}").status_code == 200
    assert secretariat.get(f"/api/v1/meetings/{scenario.ha_noi_meeting}").status_code == 403


def test_viewer_does_not_see_drafts(
    client: TestClient[Litestar], demo_seed: DemoSeed, scenario: Scenario
) -> None:
    viewer = client
    login(viewer, scenario.viewer, PASSWORD)
    assert _meeting_ids(viewer) == {demo_seed.past_meeting_id, demo_seed.upcoming_meeting_id}
    assert viewer.get(f"/api/v1/meetings/{scenario.thanh_hoa_draft}").status_code == 403
    assert viewer.get(f"/api/v1/meetings/{scenario.ha_noi_meeting}").status_code == 403
    assert viewer.get(f"/api/v1/meetings/{demo_seed.past_meeting_id}").status_code == 200


def test_seeded_meetings_as_the_secretariat_sees_them(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    body = client.get("/api/v1/meetings", params={"province": THANH_HOA}).json()
    by_id = {item["id"]: item for item in body["items"]}
    assert set(by_id) == {demo_seed.past_meeting_id, demo_seed.upcoming_meeting_id}
    assert by_id[demo_seed.past_meeting_id]["status"] == "ended"
    assert by_id[demo_seed.upcoming_meeting_id]["status"] == "scheduled"
    assert all(item["invited_count"] == 166 for item in body["items"])


# --- Passwords ----------------------------------------------------------------------------------


async def _hash_of(session: AsyncSession, email: str) -> str:
    value = await session.scalar(select(User.password_hash).where(User.email == email))
    assert value is not None
    return value


async def test_password_is_stored_as_argon2id(db_session: AsyncSession) -> None:
    user = await UserService(session=db_session).create_user(
        email="Secretary@Example.org", password=PASSWORD, role="secretariat", province_code=38
    )
    assert user.email == "secretary@example.org"
    stored = await _hash_of(db_session, "secretary@example.org")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert "horse" not in stored


async def test_demo_accounts_have_argon2id_hashes(demo_db: str, demo_seed: DemoSeed) -> None:
    engine = create_engine(demo_db)
    try:
        async with session_maker(engine)() as session:
            for email, password in (
                (demo_seed.organizer_email, demo_seed.organizer_password),
                (demo_seed.chair_email, demo_seed.chair_password),
            ):
                stored = await _hash_of(session, email)
                assert stored.startswith("$argon2id$")
                assert password not in stored
    finally:
        await engine.dispose()


def test_passwords_never_reach_the_logs(
    client: TestClient[Litestar], demo_seed: DemoSeed, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed and two successful sign-ins (JSON and form), everything logged at DEBUG."""
    for name in (None, "confhub", "litestar", "sqlalchemy", "advanced_alchemy", "aiosqlite"):
        caplog.set_level(logging.DEBUG, logger=name)
    wrong = "wrong-" + demo_seed.organizer_password
    failed = client.post(
        "/api/v1/auth/login", json={"email": demo_seed.organizer_email, "password": wrong}
    )
    assert failed.status_code == 401
    ok = client.post(
        "/api/v1/auth/login",
        json={"email": demo_seed.organizer_email, "password": demo_seed.organizer_password},
    )
    assert ok.status_code == 200
    match = _CSRF_INPUT.search(client.get("/login").text)
    assert match
    form = client.post(
        "/login",
        data={
            "_csrf_token": match.group(1),
            "email": demo_seed.chair_email,
            "password": demo_seed.chair_password,
        },
        follow_redirects=False,
    )
    assert form.status_code in (301, 302, 303, 307)

    assert caplog.records, "nothing was logged: the check would prove nothing"
    secrets_ = (demo_seed.organizer_password, wrong, demo_seed.chair_password)
    for record in caplog.records:
        rendered = f"{record.getMessage()} {record.args!r} {record.__dict__!r}"
        for secret in secrets_:
            assert secret not in rendered, f"a password is in a log record of {record.name}"
    for secret in secrets_:
        assert secret not in caplog.text


# --- create_user validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email", "role": "viewer", "province_code": 38}, "email"),
        ({"email": "a b@example.org", "role": "viewer", "province_code": 38}, "email"),
        ({"email": "", "role": "viewer", "province_code": 38}, "email"),
        ({"email": "x@example.org", "role": "superuser", "province_code": 38}, "role"),
        (
            {"email": "x@example.org", "role": "viewer", "province_code": 38, "password": "short"},
            "password",
        ),
        ({"email": "x@example.org", "role": "chair"}, "unit"),
        ({"email": "x@example.org", "role": "chair", "province_code": 38}, "unit"),
        ({"email": "x@example.org", "role": "chair", "unit_code": 99_999_999}, "unit"),
        (
            {"email": "x@example.org", "role": "chair", "unit_code": CAM_TU, "province_code": 1},
            "province",
        ),
        ({"email": "x@example.org", "role": "secretariat"}, "province"),
        ({"email": "x@example.org", "role": "viewer"}, "province"),
        ({"email": "x@example.org", "role": "secretariat", "province_code": 99}, "province"),
        (
            {
                "email": "x@example.org",
                "role": "secretariat",
                "province_code": 38,
                "unit_code": CAM_TU,
            },
            "unit",
        ),
    ],
)
async def test_create_user_rejects_bad_input(
    db_session: AsyncSession, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"password": PASSWORD, **kwargs}
    with pytest.raises(InvalidInputError) as caught:
        await UserService(session=db_session).create_user(**arguments)
    assert caught.value.field == field
    assert caught.value.detail.startswith(f"{field}: ")
    assert await db_session.scalar(select(User.id).limit(1)) is None


async def test_create_user_rejects_a_duplicate_email(db_session: AsyncSession) -> None:
    users = UserService(session=db_session)
    await users.create_user(email="dup@example.org", password=PASSWORD, role="admin")
    with pytest.raises(ConflictError) as caught:
        await users.create_user(
            email=" DUP@example.org ", password=PASSWORD + "2", role="viewer", province_code=38
        )
    assert "email" in caught.value.detail
    assert caught.value.status_code == 409


async def test_create_user_scopes(db_session: AsyncSession) -> None:
    users = UserService(session=db_session)
    chair = await users.create_user(
        email="chair@example.org", password=PASSWORD, role="chair", unit_code=CAM_TU
    )
    assert chair.unit_code == CAM_TU and chair.province_code == THANH_HOA
    admin = await users.create_user(email="root@example.org", password=PASSWORD, role="admin")
    assert admin.province_code is None and admin.unit_code is None
    principal = await users.principal(chair.id)
    assert principal is not None and principal.province_code == THANH_HOA


async def _add_inactive_user(database_url: str, email: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            user = await UserService(session=session).create_user(
                email=email, password=PASSWORD, role="viewer", province_code=THANH_HOA
            )
            user.is_active = False
    finally:
        await engine.dispose()


def test_inactive_user_cannot_sign_in(demo_db: str, client: TestClient[Litestar]) -> None:
    asyncio.run(_add_inactive_user(demo_db, "gone@example.org"))
    response = client.post(
        "/api/v1/auth/login", json={"email": "gone@example.org", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong e-mail or password"
