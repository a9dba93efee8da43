"""The live channel across processes: two `confhub serve` processes on one PostgreSQL database,
sharing sessions and live updates through Redis, as in production behind a load balancer.

The database is built once per module as an operator would (`confhub db upgrade`, `confhub units
load --province 38`, then the demo's Thanh Hóa seed); each test gets a copy of it, flushes its
own Redis database, and starts processes A and B on free ports; they are always stopped
(SIGKILL as a last resort) when the test ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from redis.asyncio import Redis

from confhub.attendance.hub import channel_name
from confhub.attendance.runtime import live_namespace
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed, seed_thanh_hoa
from tests.conftest import POSTGRES_ADMIN_URL, TEST_SECRET, free_port, port_open, skip_or_fail
from tests.helpers.services import exclusive_redis_db
from tests.integration.attendance.conftest import (
    Frame,
    close_code,
    connect,
    login_cookie,
    point_tokens,
    quiet,
    recv_frame,
    recv_message,
    recv_messages_until,
    unpack,
)

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.slow]

CONFHUB = Path(sys.executable).with_name("confhub")
READY_TIMEOUT = 40.0
STATE_FIELDS = ("status", "delegates_present", "reason", "signal", "presence")


def command(*args: str) -> list[str]:
    """The `confhub` console script of this environment (or `python -m confhub`)."""
    if CONFHUB.exists():
        return [str(CONFHUB), *args]
    return [sys.executable, "-m", "confhub", *args]


@dataclass
class ServerProcess:
    """One `confhub serve` process, its port and its log."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where it answers."""
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, meeting_id: int, token: str | None = None) -> str:
        """Its live channel of a meeting."""
        query = f"?token={token}" if token else ""
        return f"ws://127.0.0.1:{self.port}/ws/meetings/{meeting_id}{query}"

    def start(self) -> None:
        """Start serving (appending to the log, so a restart's lines follow the first run's)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self) -> None:
        """Until `/readyz` answers 200; fails with the log when the process dies or hangs."""
        deadline = time.monotonic() + READY_TIMEOUT
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    pytest.fail(f"{self.name} exited ({self.process.returncode}):\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        pytest.fail(f"{self.name} was not ready after {READY_TIMEOUT:.0f} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, sockets dropped mid-stream."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when it does not end within a few seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=8)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        """The end of its log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Cluster:
    """Processes A and B over one database and one Redis database."""

    a: ServerProcess
    b: ServerProcess
    seed: DemoSeed
    redis_url: str
    redis: Redis

    @property
    def meeting_id(self) -> int:
        """The upcoming conference (scheduled, 166 points)."""
        return self.seed.upcoming_meeting_id


def run_cli(env: dict[str, str], *args: str) -> None:
    """Run one `confhub` command to completion; fails the test with its output."""
    done = subprocess.run(command(*args), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"confhub {' '.join(args)}: {done.stdout}{done.stderr}"


async def seed(database_url: str) -> DemoSeed:
    """The demo's Thanh Hóa accounts and conferences, written straight to the database."""
    engine = create_engine(database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            return await seed_thanh_hoa(session)
    finally:
        await engine.dispose()


async def admin(statement: str) -> None:
    """Run one statement on PostgreSQL's maintenance database."""
    import asyncpg

    connection = await asyncpg.connect(
        POSTGRES_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def cli_env(database_url: str, redis_url: str | None = None, base_url: str = "") -> dict[str, str]:
    """The environment of a `confhub` command: this one's, with only our `CONFHUB_*`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFHUB_")}
    env |= {"CONFHUB_DATABASE_URL": database_url, "CONFHUB_SECRET_KEY": TEST_SECRET}
    if redis_url:
        env["CONFHUB_REDIS_URL"] = redis_url
    if base_url:
        env["CONFHUB_BASE_URL"] = base_url
    return env


@dataclass(frozen=True)
class PreparedDatabase:
    """A database built as an operator would, copied for each test."""

    name: str
    seed: DemoSeed


@pytest.fixture(scope="module")
def prepared_database() -> Iterator[PreparedDatabase]:
    """Migrated by `confhub db upgrade`, Thanh Hóa loaded by `confhub units load --province
    38`, seeded like the demo; built once per module (each test clones it)."""
    if not port_open("127.0.0.1", 5432):
        skip_or_fail("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"confhub_template_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        skip_or_fail(f"PostgreSQL on 127.0.0.1:5432 refused a test database: {exc}")
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        run_cli(cli_env(url), "db", "upgrade")
        run_cli(cli_env(url), "units", "load", "--province", "38")
        demo = asyncio.run(seed(url))
        yield PreparedDatabase(name=name, seed=demo)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def cluster(
    prepared_database: PreparedDatabase, postgres_url: str, own_redis_url: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    """A copy of the prepared database, a flushed Redis database, and processes A and B."""
    name = postgres_url.rsplit("/", 1)[-1]
    await admin(f'DROP DATABASE "{name}"')
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{prepared_database.name}"')
    redis_url = own_redis_url
    redis = Redis.from_url(redis_url)
    try:
        await redis.ping()
    except Exception as exc:
        await redis.aclose()
        skip_or_fail(f"Redis at {redis_url} does not answer: {exc}")
    await redis.flushdb()
    port_a, port_b = free_port(), free_port()
    env = cli_env(postgres_url, redis_url, f"http://127.0.0.1:{port_a}")
    env |= {"CONFHUB_MEDIA_DIR": str(tmp_path / "media"), "CONFHUB_DEFAULT_PROVINCE": "38"}
    a = ServerProcess("A", port_a, env, tmp_path / "a.log")
    b = ServerProcess("B", port_b, env, tmp_path / "b.log")
    try:
        a.start()
        b.start()
        await asyncio.gather(a.wait_ready(), b.wait_ready())
        yield Cluster(a=a, b=b, seed=prepared_database.seed, redis_url=redis_url, redis=redis)
    finally:
        await asyncio.gather(asyncio.to_thread(a.stop), asyncio.to_thread(b.stop))
        with contextlib.suppress(Exception):
            await redis.flushdb()
        await redis.aclose()


# -- helpers -----------------------------------------------------------------------------------


async def organizer(cluster: Cluster) -> str:
    """The secretariat's session cookie, signed in through process A."""
    return await login_cookie(
        cluster.a.url, cluster.seed.organizer_email, cluster.seed.organizer_password
    )


async def post_checkin(
    client: httpx.AsyncClient, cluster: Cluster, token: str, point_id: int, key: str, n: int
) -> dict[str, Any]:
    """A check-in through a check-in link, to whichever process `client` talks to."""
    response = await client.post(
        f"/api/v1/meetings/{cluster.meeting_id}/checkins",
        json={
            "point_id": point_id,
            "status": "present",
            "delegates_present": n,
            "idempotency_key": key,
        },
        headers={"X-Checkin-Token": token},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def latency_to_board(
    board: Any,
    picture: BoardState,
    client: httpx.AsyncClient,
    cluster: Cluster,
    point: tuple[int, str],
    key: str,
) -> float:
    """Seconds from posting a check-in (for `point`: id and token) to its delta on the board."""
    started = time.monotonic()
    point_id, token = point
    answer = await post_checkin(client, cluster, token, point_id, key, len(key))
    await follow(board, picture, answer["version"], within=10)
    return time.monotonic() - started


async def database_state(cluster: Cluster, cookie: str) -> dict[str, Any]:
    """`GET /api/v1/meetings/{id}/attendance` through process B: what the database holds."""
    async with httpx.AsyncClient(base_url=cluster.b.url, cookies={"confhub_session": cookie}) as c:
        response = await c.get(f"/api/v1/meetings/{cluster.meeting_id}/attendance")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


@dataclass
class BoardState:
    """A board's picture of the meeting, rebuilt from a snapshot and the deltas after it."""

    version: int
    points: dict[int, dict[str, Any]]
    applied: list[int] = field(default_factory=list)

    @classmethod
    def from_snapshot(cls, snapshot: Frame) -> BoardState:
        """Start from a snapshot."""
        assert snapshot["type"] == "snapshot", snapshot
        points = {p["point_id"]: {k: p[k] for k in STATE_FIELDS} for p in snapshot["points"]}
        return cls(version=snapshot["version"], points=points)

    def apply(self, message: Frame) -> None:
        """One delta, which must be the next version (no gap, no repeat) whatever its type: a
        board sees every delta of its meeting, notices and desk deltas included."""
        if "version" not in message:
            return
        assert message["version"] == self.version + 1, (self.version, message)
        self.version = message["version"]
        self.applied.append(self.version)
        if message["type"] not in ("checkin", "presence", "signal", "meeting"):
            return
        point = self.points.get(message.get("point_id"))  # type: ignore[arg-type]
        if point is not None:
            for key in STATE_FIELDS:
                if key in message:
                    point[key] = message[key]

    def matches(self, state: dict[str, Any]) -> bool:
        """Whether this picture is the database's."""
        stored = {p["point_id"]: {k: p[k] for k in STATE_FIELDS} for p in state["points"]}
        return self.version == state["version"] and self.points == stored


async def follow(board: Any, picture: BoardState, until_version: int, within: float) -> None:
    """Apply the board's deltas until it reaches `until_version`."""
    deadline = time.monotonic() + within
    while picture.version < until_version:
        left = deadline - time.monotonic()
        assert left > 0, f"board stuck at {picture.version}, expected {until_version}"
        try:
            frame = await recv_frame(board, left)
        except TimeoutError:
            pytest.fail(f"board stuck at {picture.version}, expected {until_version}: no frame")
        for message in unpack(frame):
            picture.apply(message)


# -- tests -------------------------------------------------------------------------------------


async def test_sessions_and_live_updates_cross_processes_of_one_deployment_only(
    cluster: Cluster,
) -> None:
    cookie = await organizer(cluster)
    async with httpx.AsyncClient(
        base_url=cluster.b.url, cookies={"confhub_session": cookie}
    ) as signed_in:
        on_b = await signed_in.get(f"/api/v1/meetings/{cluster.meeting_id}/attendance")
        assert on_b.status_code == 200, on_b.text  # the session lives in Redis, not in A
        assert on_b.json()["totals"]["invited"] == 166
    tokens = await point_tokens(cluster.b.url, cookie, cluster.meeting_id)
    points = sorted(tokens)[:3]

    board_a = await connect(cluster.a.ws_url(cluster.meeting_id), cookie=cookie)
    board_b = await connect(
        cluster.b.ws_url(cluster.meeting_id), cookie=cookie, origin=cluster.a.url
    )
    picture = BoardState.from_snapshot(await recv_frame(board_a))
    await recv_frame(board_b)
    async with httpx.AsyncClient(base_url=cluster.b.url, timeout=10) as client_b:
        for n, point_id in enumerate(points):
            point = (point_id, tokens[point_id])
            took = await latency_to_board(board_a, picture, client_b, cluster, point, f"x{n}")
            assert took < 1.0, f"check-in {n} on B reached the board on A after {took:.2f} s"

    # The other way: a point's websocket on A, a board on B.
    link = await connect(cluster.a.ws_url(cluster.meeting_id, tokens[points[0]]))
    # The client offered permessage-deflate; `confhub serve` declines it (memory per socket).
    assert link.response is not None
    assert "Sec-WebSocket-Extensions" not in link.response.headers
    await recv_frame(link)
    started = time.monotonic()
    await link.send(
        json.dumps(
            {
                "type": "checkin",
                "point_id": points[0],
                "status": "absent",
                "reason": "Mất kết nối",
                "idempotency_key": "over-ws",
            }
        )
    )
    ack = await recv_message(link, lambda m: m["type"] == "ack")
    seen = await recv_message(
        board_b, lambda m: m.get("type") == "checkin" and m["version"] == ack["version"], within=5
    )
    assert time.monotonic() - started < 1.0
    assert seen["status"] == "absent"
    await link.close()

    # Board A's picture, delta by delta, is the database's.
    state = await database_state(cluster, cookie)
    await follow(board_a, picture, state["version"], within=10)
    assert picture.matches(state)

    # Another deployment's deltas, on the same Redis server, never reach this one's boards.
    await publish_as_another_deployment(cluster, picture)
    assert await quiet(board_a, 1.5) == []
    async with httpx.AsyncClient(base_url=cluster.b.url, timeout=10) as client_b:
        await post_checkin(client_b, cluster, tokens[points[1]], points[1], "own", 9)
    state = await database_state(cluster, cookie)
    await follow(board_a, picture, state["version"], within=10)
    assert picture.matches(state)
    await board_a.close()
    await board_b.close()


async def publish_as_another_deployment(cluster: Cluster, picture: BoardState) -> None:
    """A delta of the same meeting id, a few versions ahead, from a deployment on another Redis
    database. Redis pub/sub ignores database numbers, so channel names must carry the
    database, or such deltas reach this deployment's boards (and, being ahead, make the hub
    drop this deployment's own next versions).

    The other database is one no running test holds (locked while publishing): a fixed
    neighbour could be a concurrent test's deployment, whose boards would get this delta."""
    with exclusive_redis_db(cluster.redis_url) as other_url:
        await _publish_foreign(cluster, picture, other_url)


async def _publish_foreign(cluster: Cluster, picture: BoardState, other_url: str) -> None:
    assert other_url != cluster.redis_url  # the cluster's own database is held by its test
    foreign = {
        "messages": [
            {
                "type": "checkin",
                "version": picture.version + 5,
                "point_id": next(iter(picture.points)),
                "status": "absent",
                "reason": "not this deployment",
            }
        ]
    }
    async with Redis.from_url(other_url) as other:
        for name in {
            channel_name(cluster.meeting_id),  # as named before deployments were told apart
            channel_name(cluster.meeting_id, live_namespace(other_url)),
        }:
            await other.publish(name, json.dumps(foreign))


async def test_a_killed_process_restarts_and_its_board_resyncs_without_loss(
    cluster: Cluster,
) -> None:
    cookie = await organizer(cluster)
    tokens = await point_tokens(cluster.b.url, cookie, cluster.meeting_id)
    writers = sorted(tokens)[:8]
    board = await connect(cluster.a.ws_url(cluster.meeting_id), cookie=cookie)
    picture = BoardState.from_snapshot(await recv_frame(board))
    written: list[int] = []
    writing = asyncio.Event()
    writing.set()
    idle = asyncio.Event()  # the writer waits for `writing`, with no request in flight
    stop = asyncio.Event()

    async def write() -> None:
        n = 0
        async with httpx.AsyncClient(base_url=cluster.b.url, timeout=10) as client_b:
            while not stop.is_set():
                if not writing.is_set():
                    idle.set()
                    await writing.wait()
                    idle.clear()
                point_id = writers[n % len(writers)]
                answer = await post_checkin(
                    client_b, cluster, tokens[point_id], point_id, f"w{n}", 1 + n % 500
                )
                written.append(answer["version"])
                n += 1
                await asyncio.sleep(0.03)

    writer = asyncio.create_task(write())
    try:
        # Deltas flow to the board on A; then A dies without a word.
        with contextlib.suppress(websockets.ConnectionClosed):
            await follow(board, picture, picture.version + 10, within=10)
        cluster.a.kill()
        assert await close_code(board) != 1000
        last_seen = picture.version
        count_at_kill = len(written)
        cluster.a.start()
        await cluster.a.wait_ready()
        await asyncio.sleep(0.3)
        assert len(written) > count_at_kill, "check-ins through B stopped while A was down"

        # Reconnect with the writer paused, so what follows the snapshot is exactly the resync.
        writing.clear()
        await asyncio.wait_for(idle.wait(), 10)
        board = await connect(cluster.a.ws_url(cluster.meeting_id), cookie=cookie)
        fresh = await recv_frame(board)
        assert fresh["type"] == "snapshot"
        assert fresh["version"] == max(written)
        await board.send(json.dumps({"type": "resync", "since": last_seen}))
        await follow(board, picture, fresh["version"], within=10)
        assert picture.applied[-(fresh["version"] - last_seen) :] == list(
            range(last_seen + 1, fresh["version"] + 1)
        )
        assert picture.points == BoardState.from_snapshot(fresh).points
        assert await quiet(board, 0.3) == []

        # Live again: more check-ins through B reach the restarted A in order.
        writing.set()
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        writing.set()
        await writer
    state = await database_state(cluster, cookie)
    await follow(board, picture, state["version"], within=10)
    assert picture.matches(state)
    assert picture.applied == list(range(picture.applied[0], picture.version + 1))
    assert set(written) <= set(picture.applied)
    assert len(written) == len(set(written))
    await board.close()


async def test_fan_out_resumes_after_redis_drops_the_subscriptions(cluster: Cluster) -> None:
    cookie = await organizer(cluster)
    tokens = await point_tokens(cluster.b.url, cookie, cluster.meeting_id)
    point_id = sorted(tokens)[0]
    point = (point_id, tokens[point_id])
    board = await connect(cluster.a.ws_url(cluster.meeting_id), cookie=cookie)
    picture = BoardState.from_snapshot(await recv_frame(board))
    db = int(cluster.redis_url.rsplit("/", 1)[-1] or 0)

    async with httpx.AsyncClient(base_url=cluster.b.url, timeout=10) as client_b:
        before = await latency_to_board(board, picture, client_b, cluster, point, "before")
        assert before < 1.0

        # Cut every pub/sub connection of this deployment (its Redis database only; other
        # users of the server keep theirs).
        clients = await cluster.redis.client_list(_type="pubsub")
        ours = [c for c in clients if int(c.get("db", -1)) == db]
        assert ours, f"no pub/sub connection on db {db}: {clients}"
        for client in ours:
            await cluster.redis.client_kill_filter(_id=client["id"])

        # At once: the database poll delivers within about a second.
        cut = await latency_to_board(board, picture, client_b, cluster, point, "cut")
        assert cut < 3.0, f"a check-in after the cut took {cut:.2f} s"

        # Then the watchdog resubscribes and the channel is fast again (the poll alone would
        # give about half a second on average, not several check-ins in a row under 0.3 s).
        healed_after = None
        fast = 0
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 20:
            took = await latency_to_board(board, picture, client_b, cluster, point, f"h{n}")
            n += 1
            fast = fast + 1 if took < 0.3 else 0
            if fast == 4:
                healed_after = time.monotonic() - started
                break
            await asyncio.sleep(0.2)
        assert healed_after is not None, f"fan-out did not heal:\n{cluster.a.tail()}"
        numsub = dict(await cluster.redis.pubsub_numsub(channel_for(cluster)))
        assert numsub[channel_for(cluster).encode()] >= 1

    state = await database_state(cluster, cookie)
    await follow(board, picture, state["version"], within=10)
    assert picture.matches(state)
    await board.close()


def channel_for(cluster: Cluster) -> str:
    """The Redis channel of the meeting, as the processes name it."""
    return channel_name(cluster.meeting_id, live_namespace(cluster.redis_url))


async def test_a_speaking_request_on_one_process_is_seen_and_answered_on_the_other(
    cluster: Cluster,
) -> None:
    cookie = await organizer(cluster)
    tokens = await point_tokens(cluster.a.url, cookie, cluster.meeting_id)
    phone = await connect(cluster.a.ws_url(cluster.meeting_id, cluster.seed.cam_tu_token))
    own = int((await recv_frame(phone))["points"][0]["point_id"])
    assert own in tokens
    board = await connect(cluster.b.ws_url(cluster.meeting_id), cookie=cookie)
    await recv_frame(board)
    request = {"type": "speak_request", "request_id": "a-1", "topic": "Đê điều", "minutes": 4}
    await phone.send(json.dumps(request))
    await recv_message(phone, lambda m: m.get("type") == "ack" and m.get("id") == "a-1")
    seen = await recv_message(board, lambda m: m.get("type") == "speaking")
    assert [(i["request_id"], i["point_id"]) for i in seen["queue"]] == [("a-1", own)]

    async with httpx.AsyncClient(base_url=cluster.b.url, cookies={"confhub_session": cookie}) as b:
        answer = await b.patch(
            f"/api/v1/meetings/{cluster.meeting_id}/speaking/a-1", json={"state": "speaking"}
        )
    assert answer.status_code == 200, answer.text
    on_air = await recv_message(
        phone, lambda m: m.get("type") == "speaking" and m.get("current") == "a-1"
    )
    assert on_air["request"]["state"] == "speaking" and "to_points" not in on_air
    await phone.close()
    await board.close()


def of(kind: str, **match: Any) -> Any:
    """A predicate for `recv_message`: a message of `kind` with these fields."""
    return lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in match.items())


async def test_an_incident_on_one_process_is_seen_on_the_others_board_and_resolved_there(
    cluster: Cluster,
) -> None:
    cookie = await organizer(cluster)
    tokens = await point_tokens(cluster.a.url, cookie, cluster.meeting_id)
    phone = await connect(cluster.a.ws_url(cluster.meeting_id, cluster.seed.cam_tu_token))
    own = int((await recv_frame(phone))["points"][0]["point_id"])
    other = next(p for p in sorted(tokens) if p != own)
    board_b = await connect(cluster.b.ws_url(cluster.meeting_id), cookie=cookie)
    board_a = await connect(cluster.a.ws_url(cluster.meeting_id), cookie=cookie)
    for board in (board_a, board_b):
        await recv_frame(board)

    # One tap on the phone (served by A) reaches the technician's board on B.
    tap = {"type": "incident", "incident_id": "i-a", "kind": "no_audio", "note": "Mất tiếng"}
    await phone.send(json.dumps(tap))
    ack = await recv_message(phone, of("ack", id="i-a"))
    seen = await recv_message(board_b, of("incident", incident_id="i-a"))
    assert (seen["point_id"], seen["state"], seen["version"]) == (own, "open", ack["version"])

    # Another point reports over HTTP on B (its socket is down): the board on A sees it.
    async with httpx.AsyncClient(base_url=cluster.b.url, timeout=10) as b:
        made = await b.post(
            f"/api/v1/meetings/{cluster.meeting_id}/incidents",
            json={"incident_id": "i-b", "kind": "disconnected"},
            headers={"X-Checkin-Token": tokens[other]},
        )
    assert made.status_code == 201, made.text
    on_a = await recv_message(board_a, of("incident", incident_id="i-b"))
    assert on_a["point_id"] == other and on_a["version"] == made.json()["version"]

    # The technician on B takes it on and resolves it: the phone on A follows each step, and
    # never hears of the other point's incident.
    async with httpx.AsyncClient(base_url=cluster.b.url, cookies={"confhub_session": cookie}) as b:
        url = f"/api/v1/meetings/{cluster.meeting_id}/incidents/i-a"
        assert (await b.patch(url, json={"state": "acknowledged"})).status_code == 200
        done = await b.patch(url, json={"state": "resolved", "note": "Đã cắm lại micrô"})
        assert done.status_code == 200, done.text
        listed = await b.get(f"/api/v1/meetings/{cluster.meeting_id}/incidents")
    assert [i["incident_id"] for i in listed.json()["items"]] == ["i-b"]
    heard = await recv_messages_until(
        phone, lambda ms: any(m.get("state") == "resolved" for m in ms)
    )
    incidents = [m for m in heard if m.get("type") == "incident"]
    assert [(m["incident_id"], m["state"]) for m in incidents] == [
        ("i-a", "open"),
        ("i-a", "acknowledged"),
        ("i-a", "resolved"),
    ]
    assert incidents[-1]["resolution"] == "Đã cắm lại micrô"
    await recv_message(board_a, of("incident", incident_id="i-a", state="resolved"))
    for ws in (phone, board_a, board_b):
        await ws.close()


async def test_an_announcement_sent_on_one_process_reaches_the_phones_on_both(
    cluster: Cluster,
) -> None:
    cookie = await organizer(cluster)
    tokens = await point_tokens(cluster.a.url, cookie, cluster.meeting_id)
    phone_a = await connect(cluster.a.ws_url(cluster.meeting_id, cluster.seed.cam_tu_token))
    own = int((await recv_frame(phone_a))["points"][0]["point_id"])
    other = next(p for p in sorted(tokens) if p != own)
    phone_b = await connect(cluster.b.ws_url(cluster.meeting_id, tokens[other]))
    await recv_frame(phone_b)
    board_a = await connect(cluster.a.ws_url(cluster.meeting_id), cookie=cookie)
    await recv_frame(board_a)

    async with httpx.AsyncClient(base_url=cluster.b.url, cookies={"confhub_session": cookie}) as b:
        sent = await b.post(
            f"/api/v1/meetings/{cluster.meeting_id}/announcements",
            json={"text": "5 phút nữa bắt đầu", "announcement_id": "all-1"},
        )
    assert sent.status_code == 201, sent.text
    assert sent.json()["addressed"] == 166
    for phone in (phone_a, phone_b):
        shown = await recv_message(phone, of("announcement", announcement_id="all-1"))
        assert shown["text"] == "5 phút nữa bắt đầu" and "to_points" not in shown
    counted = await recv_message(board_a, of("announcement", announcement_id="all-1"))
    assert (counted["addressed"], counted["acknowledged"]) == (166, 0)

    # Each chair acknowledges on its own process; the board on A counts both.
    for phone in (phone_a, phone_b):
        await phone.send(json.dumps({"type": "announcement_ack", "announcement_id": "all-1"}))
        await recv_message(phone, of("ack", id="all-1"))
    await recv_message(board_a, of("announcement", announcement_id="all-1", acknowledged=2))
    # Neither phone hears the other's acknowledgement, nor the same announcement twice.
    for phone in (phone_a, phone_b):
        assert not [m for m in await quiet(phone, 0.5) if m.get("type") == "announcement"]
    for ws in (phone_a, phone_b, board_a):
        await ws.close()
