"""Shared fixtures: a migrated SQLite database with every unit (built once, copied per test),
the app on top of it, and real PostgreSQL/Redis where the machine has them.

Tests of the production path skip with a reason when PostgreSQL or Redis is not reachable;
`CONFHUB_REQUIRE_SERVICES=1` (set by `.ci/run`) turns every such skip into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from confhub.app import create_app
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed, seed_thanh_hoa
from confhub.settings import Settings
from confhub.units.loader import load_units

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
POSTGRES_ADMIN_URL = os.environ.get(
    "CONFHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CONFHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def services_required() -> bool:
    """Whether a missing PostgreSQL/Redis must fail the run instead of skipping."""
    return os.environ.get("CONFHUB_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip (on a laptop without the service) or fail (on CI, where it must be there)."""
    if services_required():
        pytest.fail(f"{reason} (CONFHUB_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    """Whether something listens on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_url(path: Path) -> str:
    """The async SQLite URL of a file."""
    return f"sqlite+aiosqlite:///{path}"


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings for an app under test."""
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        media_dir=tmp_path / "media",
        default_province=38,
    )
    return settings.with_overrides(**overrides) if overrides else settings


async def _build_template(url: str, seed: bool) -> DemoSeed | None:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session, session.begin():
            await load_units(session)
            return await seed_thanh_hoa(session) if seed else None
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class TemplateDb:
    """A migrated database file to copy for each test."""

    path: Path
    seed: DemoSeed | None


def _make_template(directory: Path, seed: bool) -> TemplateDb:
    path = directory / "template.sqlite3"
    url = sqlite_url(path)
    migrate.upgrade(url)
    result = asyncio.run(_build_template(url, seed))
    # Fold the WAL into the main file so a plain copy carries everything.
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return TemplateDb(path=path, seed=result)


@pytest.fixture(scope="session")
def units_template(tmp_path_factory: pytest.TempPathFactory) -> TemplateDb:
    """Migrated, with all 34 provinces and 3,321 units, no meetings."""
    return _make_template(tmp_path_factory.mktemp("units-db"), seed=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> TemplateDb:
    """Migrated, all units, and the demo's Thanh Hóa seed (accounts and both meetings)."""
    return _make_template(tmp_path_factory.mktemp("demo-db"), seed=True)


def _copy(template: TemplateDb, tmp_path: Path) -> Path:
    target = tmp_path / "confhub.sqlite3"
    shutil.copyfile(template.path, target)
    return target


@pytest.fixture
def units_db(units_template: TemplateDb, tmp_path: Path) -> str:
    """A private copy of the units-only database; returns its URL."""
    return sqlite_url(_copy(units_template, tmp_path))


@pytest.fixture
def demo_db(demo_template: TemplateDb, tmp_path: Path) -> str:
    """A private copy of the seeded demo database; returns its URL."""
    return sqlite_url(_copy(demo_template, tmp_path))


@pytest.fixture
def demo_seed(demo_template: TemplateDb) -> DemoSeed:
    """Logins, ids and the Cẩm Tú token of the seeded demo database."""
    assert demo_template.seed is not None
    return demo_template.seed


@pytest.fixture
def demo_app(demo_db: str, tmp_path: Path) -> Litestar:
    """The app on a copy of the seeded demo database."""
    return create_app(make_settings(demo_db, tmp_path))


@pytest.fixture
def client(demo_app: Litestar) -> Iterator[TestClient[Litestar]]:
    """An HTTP client for the demo app (cookies persist across its calls)."""
    with TestClient(demo_app) as test_client:
        yield test_client


@pytest.fixture
def make_client(demo_db: str, tmp_path: Path) -> Iterator[Callable[..., TestClient[Litestar]]]:
    """Open more clients, e.g. one per role, each on its own app over the same database file
    (one app's connection pool cannot be shared by the event loops of several test clients);
    keyword arguments override settings, `wrap` wraps the app (e.g. behind a proxy)."""
    opened: list[TestClient[Litestar]] = []

    def factory(
        wrap: Callable[[Litestar], Any] | None = None, **overrides: object
    ) -> TestClient[Litestar]:
        app = create_app(make_settings(demo_db, tmp_path, **overrides))
        test_client = TestClient(wrap(app) if wrap else app)
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield factory
    for test_client in opened:
        test_client.__exit__(None, None, None)


@pytest.fixture
async def db_session(units_db: str) -> AsyncIterator[AsyncSession]:
    """A session on a copy of the units database, for service tests."""
    engine: AsyncEngine = create_engine(units_db)
    try:
        async with session_maker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1:5432 for as long as the block runs, then dropped."""
    if not port_open("127.0.0.1", 5432):
        skip_or_fail("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"confhub_test_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        import asyncpg

        dsn = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        skip_or_fail(f"PostgreSQL on 127.0.0.1:5432 refused a test database: {exc}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    with postgres_database() as url:
        yield url


def seed_postgres_demo(url: str) -> DemoSeed:
    """Migrate a PostgreSQL database and fill it as the demo does: every unit, Thanh Hóa's seed."""

    async def run() -> DemoSeed:
        engine = create_engine(url)
        try:
            async with session_maker(engine)() as session, session.begin():
                await load_units(session)
                return await seed_thanh_hoa(session)
        finally:
            await engine.dispose()

    migrate.upgrade(url)
    return asyncio.run(run())


@dataclass(frozen=True)
class PostgresDemo:
    """A seeded PostgreSQL database: its URL and the demo's logins and ids."""

    url: str
    seed: DemoSeed


@pytest.fixture(scope="module")
def postgres_demo() -> Iterator[PostgresDemo]:
    """The demo's data on PostgreSQL, one database per test module (its tests share it)."""
    with postgres_database() as url:
        yield PostgresDemo(url, seed_postgres_demo(url))


@pytest.fixture
def redis_url() -> str:
    """Redis on 127.0.0.1:6379 (database 15, flushed by the tests that use it)."""
    if not port_open("127.0.0.1", 6379):
        skip_or_fail("Redis is not reachable on 127.0.0.1:6379")
    return REDIS_URL


def login(client: TestClient[Litestar], email: str, password: str) -> None:
    """Sign a test client in through the API; fails the test when it does not work."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text


@pytest.fixture
def secretariat(client: TestClient[Litestar], demo_seed: DemoSeed) -> TestClient[Litestar]:
    """The demo's organizer (Thanh Hóa's secretariat), signed in on `client`."""
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    return client
