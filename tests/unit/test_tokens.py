"""Link tokens: 128 random bits, a strict shape, a digest to search by, a constant-time check."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from confhub.calendar.tokens import new_calendar_token
from confhub.core import tokens
from confhub.meetings.tokens import find_invitation, new_checkin_token

pytestmark = pytest.mark.unit


def _decoded(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


@pytest.mark.parametrize("make", [tokens.new_token, new_checkin_token, new_calendar_token])
def test_a_new_token_carries_128_random_bits(make: Any) -> None:
    made = [make() for _ in range(2000)]
    assert all(len(_decoded(t)) == 16 for t in made)
    assert all(tokens.well_formed(t) for t in made)
    assert len(set(made)) == len(made)
    # Every bit position takes both values: nothing is fixed or derived from a counter.
    numbers = [int.from_bytes(_decoded(t), "big") for t in made]
    ones = [sum((n >> bit) & 1 for n in numbers) for bit in range(128)]
    assert all(300 < count < 1700 for count in ones)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "short",
        "a" * 21,  # one character under 128 bits
        "a" * 65,  # longer than the column
        "abcdefghijklmnopqrstuv/",
        "abcdefghijklmnopqrstu+v",
        "abcdefghijklmnopqrstuv==",
        "abcdefghijklmnopqrstu v",
        "abcdefghijklmnopqrstuđ",
        "abcdefghijklmnopqrstu%41",
        "abcdefghijklmnopqrstuv\n",
        None,
        12345678901234567890123,
    ],
)
def test_what_cannot_be_a_token_is_malformed(token: object) -> None:
    assert not tokens.well_formed(token)


def test_well_formed_tokens_of_every_allowed_length() -> None:
    assert tokens.well_formed("A-_z09" + "x" * 16)
    assert tokens.well_formed("x" * 64)


def test_the_digest_is_sha256_hex() -> None:
    token = tokens.new_token()
    assert tokens.token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert tokens.digest_or_none(token) == tokens.token_digest(token)
    assert tokens.digest_or_none(None) is None


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    token = tokens.new_token()
    assert tokens.same_token(token, token)
    assert not tokens.same_token(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert calls and all(a == token.encode() for a, _ in calls)
    assert not tokens.same_token(None, token)  # revoked: nothing to compare with


class NoDatabase:
    """A session that fails the test if anything asks it for anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the database was asked ({name}) for a malformed token")


@pytest.mark.parametrize("token", [None, "", "not-a-real-token", "x" * 200, "'; DROP TABLE--"])
async def test_a_malformed_token_is_refused_without_a_query(token: str | None) -> None:
    session: Any = NoDatabase()
    assert await find_invitation(session, token) is None
    assert await find_invitation(session, token, meeting_id=1, with_meeting=True) is None


def test_the_model_keeps_the_digest_in_step_with_the_token() -> None:
    from confhub.accounts.models import User
    from confhub.meetings.models import Invitation

    token = tokens.new_token()
    invitation = Invitation(meeting_id=1, point_id=1, checkin_token=token)
    assert invitation.checkin_token_digest == tokens.token_digest(token)
    invitation.checkin_token = None  # revoked: neither the secret nor its digest remains
    assert invitation.checkin_token_digest is None
    user = User(email="a@example.gov.vn", password_hash="x", role="viewer")
    user.calendar_token = token
    assert user.calendar_token_digest == tokens.token_digest(token)
