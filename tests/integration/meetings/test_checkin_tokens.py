"""Check-in links are found by their token's digest and confirmed in constant time; a revoked,
re-issued, foreign or malformed token finds nothing, and every door that takes a token answers
a malformed one exactly as it answers an unknown one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from confhub.accounts.principal import Principal
from confhub.accounts.services import UserService
from confhub.core.tokens import new_token, token_digest
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from confhub.meetings.invitations import InvitationService
from confhub.meetings.models import Invitation, Meeting
from confhub.meetings.tokens import find_invitation

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
# Well-formed (22 URL-safe characters) but issued to nobody.
UNKNOWN = "A" * 22
MALFORMED = ["short", "A" * 21 + "/", "A" * 65, "A" * 21 + "đ"]


@pytest.fixture
async def engine(demo_db: str) -> AsyncIterator[AsyncEngine]:
    """The engine of a copy of the demo database."""
    made = create_engine(demo_db)
    try:
        yield made
    finally:
        await made.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on the demo database."""
    async with session_maker(engine)() as opened:
        yield opened


async def _secretariat(session: AsyncSession, seed: DemoSeed) -> Principal:
    user = await UserService(session=session).get_one(email=seed.organizer_email)
    return Principal.of(user, user.province_code)


async def test_a_link_is_found_by_its_token(session: AsyncSession, demo_seed: DemoSeed) -> None:
    found = await find_invitation(session, demo_seed.cam_tu_token, with_meeting=True)
    assert found is not None
    assert found.meeting_id == demo_seed.upcoming_meeting_id
    assert found.point.unit_code == 15148  # loaded with it: no lazy load needed
    assert found.meeting.province.code == 38
    same = await find_invitation(
        session, demo_seed.cam_tu_token, meeting_id=demo_seed.upcoming_meeting_id
    )
    assert same is not None and same.id == found.id


async def test_a_link_of_another_meeting_finds_nothing(
    session: AsyncSession, demo_seed: DemoSeed
) -> None:
    assert (
        await find_invitation(session, demo_seed.cam_tu_token, meeting_id=demo_seed.past_meeting_id)
        is None
    )
    assert await find_invitation(session, UNKNOWN) is None


async def test_the_secret_never_reaches_the_database(
    engine: AsyncEngine, session: AsyncSession, demo_seed: DemoSeed
) -> None:
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        found = await find_invitation(session, demo_seed.cam_tu_token)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert found is not None
    assert sent, "the lookup sent no query"
    assert all(demo_seed.cam_tu_token not in repr(parameters) for _, parameters in sent)
    assert any(token_digest(demo_seed.cam_tu_token) in repr(parameters) for _, parameters in sent)
    assert all("checkin_token =" not in statement for statement, _ in sent)


async def test_a_row_whose_secret_differs_from_its_digest_is_not_accepted(
    session: AsyncSession, demo_seed: DemoSeed
) -> None:
    # The digest matches but the stored secret does not: the constant-time check refuses it.
    await session.execute(
        text("UPDATE invitation SET checkin_token = :other WHERE checkin_token = :token"),
        {"other": new_token(), "token": demo_seed.cam_tu_token},
    )
    assert await find_invitation(session, demo_seed.cam_tu_token) is None


async def test_revoked_and_reissued_links_find_nothing(
    session: AsyncSession, demo_seed: DemoSeed
) -> None:
    actor = await _secretariat(session, demo_seed)
    meeting = await session.get(Meeting, demo_seed.upcoming_meeting_id)
    assert meeting is not None
    cam_tu = await find_invitation(session, demo_seed.cam_tu_token)
    assert cam_tu is not None
    service = InvitationService(session=session)

    await service.revoke_token(meeting, actor, cam_tu.point_id)
    await session.commit()
    stored = (
        await session.execute(
            select(Invitation.checkin_token, Invitation.checkin_token_digest).where(
                Invitation.id == cam_tu.id
            )
        )
    ).one()
    assert tuple(stored) == (None, None)  # revoking clears the secret and its digest
    assert await find_invitation(session, demo_seed.cam_tu_token) is None

    reissued = await service.reissue_token(meeting, actor, cam_tu.point_id)
    await session.commit()
    assert reissued.checkin_token is not None
    assert reissued.checkin_token != demo_seed.cam_tu_token
    assert await find_invitation(session, demo_seed.cam_tu_token) is None
    again = await find_invitation(session, reissued.checkin_token)
    assert again is not None and again.id == cam_tu.id


# --- every door answers a malformed token as it answers an unknown one ---------------------------


def _page(client: TestClient[Litestar], token: str) -> tuple[int, str]:
    response = client.get(f"/checkin/{token}", headers=HTML)
    return response.status_code, response.headers.get("content-type", "")


def _api(client: TestClient[Litestar], meeting_id: int, token: str) -> tuple[int, Any]:
    response = client.post(
        f"/api/v1/meetings/{meeting_id}/checkins",
        params={"token": token},
        json={"point_id": 1, "status": "present", "delegates_present": 1, "idempotency_key": "k"},
    )
    return response.status_code, response.json()


def _socket(client: TestClient[Litestar], meeting_id: int, token: str) -> int | str:
    try:
        url = f"/ws/meetings/{meeting_id}?token={quote(token)}"
        with client.websocket_connect(url) as socket:
            return str(socket.receive_json().get("type"))
    except WebSocketDisconnect as closed:
        return closed.code


@pytest.mark.parametrize("malformed", MALFORMED)
def test_a_malformed_token_is_answered_like_an_unknown_one(
    client: TestClient[Litestar], demo_seed: DemoSeed, malformed: str
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    assert _page(client, malformed) == _page(client, UNKNOWN)
    assert _page(client, UNKNOWN)[0] == 404
    assert _api(client, meeting_id, malformed) == _api(client, meeting_id, UNKNOWN)
    assert _api(client, meeting_id, UNKNOWN)[0] == 404
    assert _socket(client, meeting_id, malformed) == _socket(client, meeting_id, UNKNOWN) == 1008


def test_a_private_calendar_address_is_found_by_its_digest(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    from tests.conftest import login

    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    page = client.get("/profile", headers=HTML).text
    token = page.split("/calendar/private/", 1)[1].split(".ics", 1)[0]
    assert client.get(f"/calendar/private/{token}.ics").status_code == 200
    for other in (UNKNOWN, token[:-1], token + "/", "x"):
        assert client.get(f"/calendar/private/{other}.ics").status_code == 404
