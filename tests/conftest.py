"""Shared fixtures: migrated databases built once per run and copied per test (SQLite files,
PostgreSQL template clones), the app on top of them, and real PostgreSQL/Redis where the
machine has them. tests/README.md says which fixture to use for what.

The suite runs on every core (`make test`: pytest-xdist); each fixture here is safe across
workers: databases are private copies, ports are the kernel's picks, Redis databases are locked
per test (tests.helpers.services), files live under `tmp_path`.

Markers come from the folder (tests/unit → unit, tests/integration → integration, tests/e2e →
e2e) and from the fixtures a test uses (PostgreSQL or Redis → services; a browser or a served
process → e2e): see `pytest_collection_modifyitems`.

Tests of the production path skip with a reason when PostgreSQL or Redis is not reachable;
`CONFHUB_REQUIRE_SERVICES=1` (set by `.ci/run`) turns every such skip into a failure.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from confhub.app import create_app, reset_app_state
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from confhub.system.serving import GC_YOUNG_THRESHOLD
from tests.helpers.apps import (
    TEST_PASSWORD_HASH_COST,
    TEST_PASSWORD_HASH_ENV,
    TEST_SECRET,
    login,
    make_settings,
    use_test_hash_cost,
)
from tests.helpers.databases import (
    PostgresTemplate,
    TemplateDb,
    drop_run_templates,
    postgres_database,
    postgres_template,
    seed_database,
    sqlite_template,
    sqlite_url,
)
from tests.helpers.services import (
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    exclusive_redis_db,
    flush_redis,
    free_port,
    port_open,
    require_redis,
    services_required,
    skip_or_fail,
)

# Older test modules import these from here; new ones import from tests.helpers.
__all__ = [
    "POSTGRES_ADMIN_URL",
    "REDIS_URL",
    "TEST_PASSWORD_HASH_COST",
    "TEST_PASSWORD_HASH_ENV",
    "TEST_SECRET",
    "PostgresDemo",
    "TemplateDb",
    "free_port",
    "login",
    "make_settings",
    "port_open",
    "postgres_database",
    "seed_postgres_demo",
    "services_required",
    "skip_or_fail",
    "sqlite_url",
]

# Before any fixture seeds an account: the template databases' hashes are checked at each
# sign-in, at the cost they were made with.
use_test_hash_cost()


# --- The run: one id and one shared folder for every worker --------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """The run's id and shared folder: made by the controller (or the only process), handed to
    pytest-xdist's workers through `workerinput`."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.confhub_run_id = workerinput["confhub_run_id"]  # type: ignore[attr-defined]
        config.confhub_run_dir = Path(workerinput["confhub_run_dir"])  # type: ignore[attr-defined]
        return
    config.confhub_run_id = uuid.uuid4().hex[:10]  # type: ignore[attr-defined]
    config.confhub_run_dir = Path(tempfile.mkdtemp(prefix="confhub-run-"))  # type: ignore[attr-defined]
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_HandRunToWorkers(), "confhub-run")


class _HandRunToWorkers:
    """pytest-xdist's hook, registered only where xdist is installed."""

    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        config = node.config
        node.workerinput["confhub_run_id"] = config.confhub_run_id
        node.workerinput["confhub_run_dir"] = str(config.confhub_run_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller (or the only process) drops the run's template databases and folder."""
    if hasattr(config, "workerinput") or not hasattr(config, "confhub_run_dir"):
        return
    try:
        drop_run_templates(config.confhub_run_dir, config.confhub_run_id)
    finally:
        shutil.rmtree(config.confhub_run_dir, ignore_errors=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the worker has built by now (every module imported, every test collected) lives
    until it ends: the cyclic garbage collector stops going through it again at each full
    collection, which the apps built per test (hundreds of thousands of objects each) trigger
    often. Young collections then wait for as many new objects as in a serving process
    (`confhub.system.serving.tune_garbage_collector`): a test's objects mostly die young."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


@pytest.fixture(scope="session")
def run_dir(pytestconfig: pytest.Config) -> Path:
    """A folder shared by every worker of this run (templates and their locks)."""
    folder: Path = pytestconfig.confhub_run_dir  # type: ignore[attr-defined]
    return folder


# --- Markers from folders and fixtures ----------------------------------------------------------

FOLDER_MARKERS = {"unit": "unit", "integration": "integration", "e2e": "e2e"}
# A test using one of these needs PostgreSQL or Redis on 127.0.0.1.
SERVICE_FIXTURES = {
    "postgres_url",
    "postgres_demo",
    "postgres_demo_template",
    "redis_url",
    "own_redis_url",
}
# A test using one of these drives a browser or starts a server process.
E2E_FIXTURES = {"browser", "served_process"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by its folder and by the services its fixtures need, so `-m` selects
    (`make check` runs `not services and not e2e and not slow`)."""
    tests_dir = Path(__file__).parent
    for item in items:
        try:
            folder = item.path.relative_to(tests_dir).parts[0]
        except ValueError:
            continue
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVICE_FIXTURES:
            item.add_marker("services")
        if fixtures & E2E_FIXTURES:
            item.add_marker("e2e")


# --- Password hashing ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def cheap_password_hashes() -> None:
    """Tests hash at the lowest cost, even after one built an app with production's."""
    use_test_hash_cost()


# --- SQLite: templates built once per run, a copy per test --------------------------------------


@pytest.fixture(scope="session")
def units_template(run_dir: Path) -> TemplateDb:
    """Migrated, with all 34 provinces and 3,321 units, no meetings."""
    return sqlite_template(run_dir, "units", seed=False)


@pytest.fixture(scope="session")
def demo_template(run_dir: Path) -> TemplateDb:
    """Migrated, all units, and the demo's Thanh Hóa seed (accounts and both meetings)."""
    return sqlite_template(run_dir, "demo", seed=True)


@pytest.fixture
def units_db(units_template: TemplateDb, tmp_path: Path) -> str:
    """A private copy of the units-only database; returns its URL."""
    return units_template.copy_to(tmp_path)


@pytest.fixture(scope="session")
def worker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this worker's own, at one path for the whole run: where the apps it reuses
    (`app_shelf`) find each test's database and media."""
    return tmp_path_factory.mktemp("worker")


@pytest.fixture
def demo_db(demo_template: TemplateDb, worker_dir: Path) -> str:
    """A fresh copy of the seeded demo database for this test; returns its URL (the same URL
    in every test of a worker, so the worker's apps can be reused: `app_shelf`)."""
    return demo_template.copy_to(worker_dir, replace=True)


class AppShelf:
    """The apps this worker built, by their settings, waiting for the next test that asks for
    the same: building one (Litestar registering ~260 handlers) costs more than most tests.

    A test takes an app (one no other client of the test uses: an app's connection pool belongs
    to one event loop) and gives it back when it ends; `confhub.app.reset_app_state` then makes
    it forget what it served, and the next test's database replaces the file at the same URL."""

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = media_dir
        self._idle: dict[str, list[Litestar]] = {}

    def take(self, database_url: str, **overrides: object) -> Litestar:
        """An app on `database_url` with these settings, reused when one is idle."""
        settings = make_settings(database_url, self.media_dir.parent, **overrides)
        idle = self._idle.setdefault(repr(settings), [])
        if idle:
            return idle.pop()
        app = create_app(settings)
        # It lives until the worker ends: out of every later collection, as what collection
        # built (`pytest_collection_finish`).
        gc.collect()
        gc.freeze()
        return app

    def give_back(self, app: Litestar) -> None:
        """Keep `app` (stopped) for a later test, its memory wiped and the media emptied."""
        reset_app_state(app)
        shutil.rmtree(self.media_dir, ignore_errors=True)
        self._idle.setdefault(repr(app.state.settings), []).append(app)


@pytest.fixture(scope="session")
def app_shelf(worker_dir: Path) -> AppShelf:
    """This worker's idle apps (`AppShelf`)."""
    return AppShelf(worker_dir / "media")


@pytest.fixture
def demo_seed(demo_template: TemplateDb) -> DemoSeed:
    """Logins, ids and the Cẩm Tú token of the seeded demo database."""
    assert demo_template.seed is not None
    return demo_template.seed


@pytest.fixture
def demo_app(demo_db: str, app_shelf: AppShelf) -> Iterator[Litestar]:
    """The app on a copy of the seeded demo database (reused from an earlier test, its memory
    wiped: `AppShelf`)."""
    app = app_shelf.take(demo_db)
    yield app
    app_shelf.give_back(app)


@pytest.fixture
def client(demo_app: Litestar) -> Iterator[TestClient[Litestar]]:
    """An HTTP client for the demo app (cookies persist across its calls)."""
    with TestClient(demo_app) as test_client:
        yield test_client


@pytest.fixture
def make_client(demo_db: str, app_shelf: AppShelf) -> Iterator[Callable[..., TestClient[Litestar]]]:
    """Open more clients, e.g. one per role, each on its own app over the same database file
    (one app's connection pool cannot be shared by the event loops of several test clients);
    keyword arguments override settings, `wrap` wraps the app (e.g. behind a proxy)."""
    opened: list[tuple[TestClient[Litestar], Litestar]] = []

    def factory(
        wrap: Callable[[Litestar], Any] | None = None, **overrides: object
    ) -> TestClient[Litestar]:
        app = app_shelf.take(demo_db, **overrides)
        test_client = TestClient(wrap(app) if wrap else app)
        opened.append((test_client, app))
        test_client.__enter__()
        return test_client

    yield factory
    for test_client, app in opened:
        test_client.__exit__(None, None, None)
        app_shelf.give_back(app)


@pytest.fixture
async def db_session(units_db: str) -> AsyncIterator[AsyncSession]:
    """A session on a copy of the units database, for service tests."""
    engine: AsyncEngine = create_engine(units_db)
    try:
        async with session_maker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@pytest.fixture
def secretariat(client: TestClient[Litestar], demo_seed: DemoSeed) -> TestClient[Litestar]:
    """The demo's organizer (Thanh Hóa's secretariat), signed in on `client`."""
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    return client


# --- PostgreSQL: template databases built once per run, a clone per test ------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_demo_template(run_dir: Path, pytestconfig: pytest.Config) -> PostgresTemplate:
    """The run's PostgreSQL template: migrated, every unit, Thanh Hóa's demo seed."""
    run_id: str = pytestconfig.confhub_run_id  # type: ignore[attr-defined]
    return postgres_template(run_dir, run_id, "demo")


@dataclass(frozen=True)
class PostgresDemo:
    """A seeded PostgreSQL database: its URL and the demo's logins and ids."""

    url: str
    seed: DemoSeed


@pytest.fixture(scope="module")
def postgres_demo(postgres_demo_template: PostgresTemplate) -> Iterator[PostgresDemo]:
    """The demo's data on PostgreSQL, one clone of the run's template per test module (its
    tests share it)."""
    assert postgres_demo_template.seed is not None
    with postgres_demo_template.clone() as url:
        yield PostgresDemo(url, postgres_demo_template.seed)


@pytest.fixture
def postgres_demo_db(postgres_demo_template: PostgresTemplate) -> Iterator[PostgresDemo]:
    """The demo's data on PostgreSQL, a clone of its own for one test."""
    assert postgres_demo_template.seed is not None
    with postgres_demo_template.clone() as url:
        yield PostgresDemo(url, postgres_demo_template.seed)


def seed_postgres_demo(url: str) -> DemoSeed:
    """Migrate a PostgreSQL database and fill it as the demo does: every unit, Thanh Hóa's seed.
    (Prefer `postgres_demo`/`postgres_demo_db`, which clone a template built once.)"""
    migrate.upgrade(url)
    seed = asyncio.run(seed_database(url))
    assert seed is not None
    return seed


# --- Redis --------------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    """Redis on 127.0.0.1:6379 (database 15: take `own_redis_url` to flush one of your own)."""
    return require_redis(REDIS_URL)


@pytest.fixture
def own_redis_url(redis_url: str) -> Iterator[str]:
    """A Redis database of this test's own (no other worker or run uses it meanwhile), flushed
    before and after: for sessions and live channels that must not meet another test's."""
    with exclusive_redis_db(redis_url) as url:
        flush_redis(url)
        try:
            yield url
        finally:
            flush_redis(url)
