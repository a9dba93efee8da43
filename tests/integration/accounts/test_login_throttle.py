"""Sign-in throttling: failed sign-ins counted per e-mail and per client address, on by default.

Each app here sits behind uvicorn's own proxy-header handling (as `confhub serve` runs it), so
`X-Forwarded-For` says which address a request comes from. Past a limit every sign-in is refused
with 429 and `Retry-After` (JSON error in the API, a readable Vietnamese message on the page),
a correct password included; a refusal looks the same whether the account exists or not.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from confhub.core.errors import AuthenticationRequiredError
from confhub.demo import DemoSeed
from confhub.settings import (
    DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT,
    DEFAULT_LOGIN_WINDOW_SECONDS,
    Settings,
)
from confhub.system.ratelimit import LoginThrottle, TooManySignInAttemptsError
from tests.conftest import skip_or_fail
from tests.helpers.services import exclusive_redis_db

pytestmark = pytest.mark.integration

LOGIN = "/api/v1/auth/login"
ATTACKER = "203.0.113.7"
NOBODY = "nobody@thanhhoa.confhub.example"
THROTTLE_LOGGER = "confhub.accounts.throttle"
_CSRF_INPUT = re.compile(r'<input[^>]*name="_csrf_token"[^>]*value="([^"]+)"')

Opener = Callable[..., TestClient[Litestar]]


def behind_proxy(app: Litestar) -> Litestar:
    """Believe `X-Forwarded-For`, as uvicorn does for a trusted proxy under `confhub serve`."""
    app.asgi_handler = ProxyHeadersMiddleware(app.asgi_handler, trusted_hosts="*")  # type: ignore[arg-type]
    return app


@pytest.fixture
def open_client(make_client: Opener) -> Opener:
    """Open a client on an app over the demo database, behind the test proxy, with throttle
    settings overridden."""
    return lambda **overrides: make_client(behind_proxy, **overrides)


def attempt(client: TestClient[Litestar], email: str, password: str, address: str) -> Any:
    """One JSON sign-in from `address`."""
    return client.post(
        LOGIN, json={"email": email, "password": password}, headers={"X-Forwarded-For": address}
    )


def fail(client: TestClient[Litestar], email: str, address: str, times: int = 1) -> None:
    """Wrong passwords, each answered 401 (not yet throttled)."""
    for n in range(times):
        response = attempt(client, email, f"wrong-password-{n}", address)
        assert response.status_code == 401, response.text


def assert_throttled(response: Any, window: int) -> None:
    """429, the one JSON error format, and a Retry-After within the window."""
    assert response.status_code == 429, response.text
    assert set(response.json()) == {"status_code", "detail"}
    assert response.json()["status_code"] == 429
    assert 1 <= int(response.headers["retry-after"]) <= window


# --- the defaults ------------------------------------------------------------------------------


def test_throttling_is_on_by_default_and_refuses_even_the_right_password(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    email, password = demo_seed.organizer_email, demo_seed.organizer_password
    for n in range(DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT):
        wrong = client.post(LOGIN, json={"email": email, "password": f"wrong-{n}"})
        assert wrong.status_code == 401, (n, wrong.text)
    refused = client.post(LOGIN, json={"email": email, "password": password})
    assert_throttled(refused, DEFAULT_LOGIN_WINDOW_SECONDS)
    assert client.get("/api/v1/auth/me").status_code == 401
    # The address limit is higher: another account still signs in from here.
    ok = client.post(
        LOGIN, json={"email": demo_seed.chair_email, "password": demo_seed.chair_password}
    )
    assert ok.status_code == 200, ok.text


def test_the_api_document_promises_429_on_sign_in(client: TestClient[Litestar]) -> None:
    document = client.get("/schema/openapi.json").json()
    responses = document["paths"][LOGIN]["post"]["responses"]
    assert "429" in responses
    assert "Retry-After" in responses["429"]["description"]


# --- per account, per address ------------------------------------------------------------------


def test_the_account_limit_holds_across_addresses(open_client: Opener, demo_seed: DemoSeed) -> None:
    client = open_client(login_max_failures_per_account=3, login_max_failures_per_address=100)
    email = demo_seed.organizer_email
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        fail(client, email, address)
    refused = attempt(client, email, demo_seed.organizer_password, "198.51.100.4")
    assert_throttled(refused, DEFAULT_LOGIN_WINDOW_SECONDS)
    # Those addresses are not blocked for other accounts.
    ok = attempt(client, demo_seed.chair_email, demo_seed.chair_password, "198.51.100.1")
    assert ok.status_code == 200, ok.text


def test_the_address_limit_holds_across_accounts(open_client: Opener, demo_seed: DemoSeed) -> None:
    client = open_client(login_max_failures_per_account=100, login_max_failures_per_address=4)
    for email in (NOBODY, "other@example.org", demo_seed.chair_email, "x@example.org"):
        fail(client, email, ATTACKER)
    refused = attempt(client, demo_seed.organizer_email, demo_seed.organizer_password, ATTACKER)
    assert_throttled(refused, DEFAULT_LOGIN_WINDOW_SECONDS)
    # The same account from another address is not affected.
    ok = attempt(client, demo_seed.organizer_email, demo_seed.organizer_password, "198.51.100.9")
    assert ok.status_code == 200, ok.text


def test_ipv6_addresses_count_per_64_network(open_client: Opener, demo_seed: DemoSeed) -> None:
    client = open_client(login_max_failures_per_account=100, login_max_failures_per_address=3)
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::ab", "2001:db8:1:2:ffff::9"):
        fail(client, NOBODY, address)
    refused = attempt(client, NOBODY, "another-guess", "2001:db8:1:2::77")
    assert_throttled(refused, DEFAULT_LOGIN_WINDOW_SECONDS)
    neighbour = attempt(client, demo_seed.chair_email, demo_seed.chair_password, "2001:db8:1:3::1")
    assert neighbour.status_code == 200, neighbour.text


def test_a_valid_account_does_not_reset_the_address_limit(
    open_client: Opener, demo_seed: DemoSeed
) -> None:
    """An attacker who owns one account cannot sign into it between guesses to start over."""
    client = open_client(login_max_failures_per_account=100, login_max_failures_per_address=4)
    own = (demo_seed.chair_email, demo_seed.chair_password)
    victim = demo_seed.organizer_email
    fail(client, victim, ATTACKER, times=3)
    assert attempt(client, *own, ATTACKER).status_code == 200
    fail(client, victim, ATTACKER)  # the 4th failure: successes did not make room
    assert_throttled(attempt(client, *own, ATTACKER), DEFAULT_LOGIN_WINDOW_SECONDS)


def test_a_successful_sign_in_clears_the_account_count(
    open_client: Opener, demo_seed: DemoSeed
) -> None:
    """Someone who mistypes now and then is never locked out by mistakes long forgiven."""
    client = open_client(login_max_failures_per_account=3)
    email, password = demo_seed.organizer_email, demo_seed.organizer_password
    for _ in range(3):
        fail(client, email, "198.51.100.20", times=2)
        assert attempt(client, email, password, "198.51.100.20").status_code == 200


def test_a_refusal_does_not_tell_whether_the_account_exists(
    open_client: Opener, demo_seed: DemoSeed
) -> None:
    client = open_client(login_max_failures_per_account=2)
    answers = []
    for email in (demo_seed.organizer_email, NOBODY):
        fail(client, email, "198.51.100.30", times=2)
        answers.append(attempt(client, email, "yet-another-guess", "198.51.100.30"))
    known, unknown = answers
    assert known.status_code == unknown.status_code == 429
    assert set(known.headers) == set(unknown.headers)
    digits = re.compile(r"\d+")
    assert digits.sub("N", known.json()["detail"]) == digits.sub("N", unknown.json()["detail"])


def test_a_limit_of_zero_is_off(open_client: Opener, demo_seed: DemoSeed) -> None:
    client = open_client(login_max_failures_per_account=0, login_max_failures_per_address=0)
    fail(client, demo_seed.organizer_email, ATTACKER, times=12)
    ok = attempt(client, demo_seed.organizer_email, demo_seed.organizer_password, ATTACKER)
    assert ok.status_code == 200, ok.text


# --- the sign-in page and the logs ------------------------------------------------------------


def form_attempt(client: TestClient[Litestar], email: str, password: str) -> Any:
    """One sign-in through the HTML form, as a browser sends it."""
    match = _CSRF_INPUT.search(client.get("/login").text)
    assert match
    return client.post(
        "/login",
        data={"_csrf_token": match.group(1), "email": email, "password": password},
        headers={"Accept": "text/html", "X-Forwarded-For": ATTACKER},
        follow_redirects=False,
    )


def test_the_sign_in_page_says_how_long_to_wait_in_vietnamese(
    open_client: Opener, demo_seed: DemoSeed
) -> None:
    client = open_client(login_max_failures_per_account=2)
    email, password = demo_seed.organizer_email, demo_seed.organizer_password
    for n in range(2):
        assert form_attempt(client, email, f"wrong-{n}").status_code == 401
    page = form_attempt(client, email, password)
    assert page.status_code == 429
    assert "text/html" in page.headers["content-type"]
    minutes = math.ceil(int(page.headers["retry-after"]) / 60)
    assert f"Đăng nhập sai quá nhiều lần. Vui lòng đợi {minutes} phút rồi thử lại." in page.text
    assert "Thư điện tử hoặc mật khẩu không đúng" not in page.text  # one message, the right one
    assert '<form method="post" action="/login"' in page.text
    assert email in page.text  # kept for the later retry
    assert password not in page.text
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_throttled_attempt_is_logged_without_the_password(
    open_client: Opener, demo_seed: DemoSeed, caplog: pytest.LogCaptureFixture
) -> None:
    client = open_client(login_max_failures_per_account=1)
    caplog.set_level(logging.DEBUG)
    fail(client, demo_seed.organizer_email, ATTACKER)
    assert not [r for r in caplog.records if r.name == THROTTLE_LOGGER]
    refused = attempt(client, demo_seed.organizer_email, demo_seed.organizer_password, ATTACKER)
    assert refused.status_code == 429
    (record,) = [r for r in caplog.records if r.name == THROTTLE_LOGGER]
    assert record.levelno == logging.WARNING
    line = record.getMessage()
    assert ATTACKER in line and demo_seed.organizer_email in line and "account" in line
    assert demo_seed.organizer_password not in caplog.text


# --- concurrent guesses and several processes ------------------------------------------------


async def guesses_checked(throttle: LoginThrottle, attempts: int) -> tuple[int, int]:
    """`attempts` simultaneous wrong guesses whose check takes a while: (checked, refused)."""
    checked = refused = 0

    async def guess() -> None:
        nonlocal checked, refused
        try:
            async with throttle.attempt("victim@example.org", ATTACKER):
                checked += 1
                await asyncio.sleep(0.05)  # argon2's time, during which the others arrive
                raise AuthenticationRequiredError("Wrong e-mail or password")
        except AuthenticationRequiredError:
            pass
        except TooManySignInAttemptsError:
            refused += 1

    await asyncio.gather(*(guess() for _ in range(attempts)))
    return checked, refused


async def test_simultaneous_guesses_cannot_slip_past_the_limit(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite+aiosqlite://", login_max_failures_per_account=3)
    assert await guesses_checked(LoginThrottle(settings), 12) == (3, 9)


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[str]:
    """A Redis database of its own (no concurrent test run flushes it), flushed around."""
    with exclusive_redis_db(redis_url) as url:
        connection = Redis.from_url(url)
        try:
            connection.ping()
        except Exception as exc:  # listening but not answering: the same as missing
            skip_or_fail(f"Redis at {url} does not answer: {exc}")
        connection.flushdb()
        try:
            yield url
        finally:
            connection.flushdb()
            connection.close()


def test_two_app_instances_share_the_counts_through_redis(
    open_client: Opener, demo_seed: DemoSeed, shared_redis: str
) -> None:
    window = 600
    limits = {"login_max_failures_per_account": 3, "login_window_seconds": window}
    first = open_client(redis_url=shared_redis, **limits)
    second = open_client(redis_url=shared_redis, **limits)
    email = demo_seed.organizer_email
    fail(first, email, "198.51.100.41", times=2)
    fail(second, email, "198.51.100.42")
    for client in (first, second):
        refused = attempt(client, email, demo_seed.organizer_password, "198.51.100.43")
        assert_throttled(refused, window)
    # The counters carry their expiry: a lockout ends by itself.
    connection = Redis.from_url(shared_redis)
    try:
        keys = list(connection.scan_iter("confhub:login:*"))
        assert keys
        assert all(0 < int(connection.ttl(key)) <= window for key in keys)
        assert not any(email.encode() in key for key in keys)  # no e-mail in key names
    finally:
        connection.close()


async def test_simultaneous_guesses_through_redis(shared_redis: str) -> None:
    settings = Settings(database_url="sqlite+aiosqlite://", login_max_failures_per_account=3)
    connection = AsyncRedis.from_url(shared_redis)
    try:
        assert await guesses_checked(LoginThrottle(settings, connection), 12) == (3, 9)
    finally:
        await connection.aclose()
