"""Test databases: built once per test run, copied for each test.

Migrating and loading 3,321 units takes seconds, copying a file or cloning a PostgreSQL
database a fraction of one. So each kind of database is built once per run, shared by every
pytest-xdist worker (the first to need it builds it under a lock; the others wait and read what
it wrote), and every test gets a copy of its own:

- SQLite: a template file in the run's shared temporary folder, copied to the test's `tmp_path`.
- PostgreSQL: a template database `confhub_tpl_<run>_<kind>` on the machine's server, cloned
  with `CREATE DATABASE … TEMPLATE …` into `confhub_test_<random>` and dropped after the test;
  the run's templates are dropped when it ends (`drop_run_templates`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import json
import shutil
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed, seed_thanh_hoa
from confhub.units.loader import load_units
from tests.helpers.services import POSTGRES_ADMIN_URL, port_open, skip_or_fail

TEMPLATE_PREFIX = "confhub_tpl_"
CLONE_PREFIX = "confhub_test_"


def sqlite_url(path: Path) -> str:
    """The async SQLite URL of a file."""
    return f"sqlite+aiosqlite:///{path}"


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """An exclusive lock shared by the run's workers (a lock file in the run's folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def seed_database(
    url: str, *, province: int | None = None, demo: bool = True
) -> DemoSeed | None:
    """Load units (every province, or one) and, with `demo`, the demo's Thanh Hóa seed."""
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session, session.begin():
            if province is None:
                await load_units(session)
            else:
                await load_units(session, province)
            return await seed_thanh_hoa(session) if demo else None
    finally:
        await engine.dispose()


def _read_seed(path: Path) -> DemoSeed | None:
    data = json.loads(path.read_text())
    return None if data is None else DemoSeed(**data)


def _write_seed(path: Path, seed: DemoSeed | None) -> None:
    path.write_text(json.dumps(None if seed is None else dataclasses.asdict(seed)))


# --- SQLite ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateDb:
    """A migrated database file to copy for each test."""

    path: Path
    seed: DemoSeed | None

    def copy_to(self, folder: Path, name: str = "confhub.sqlite3", replace: bool = False) -> str:
        """A private copy in `folder`; returns its URL. With `replace`, the file of an earlier
        copy and its WAL are removed first (a connection still open keeps reading those, not
        the new copy)."""
        target = folder / name
        if replace:
            for old in (target, *(target.with_name(target.name + end) for end in ("-wal", "-shm"))):
                old.unlink(missing_ok=True)
        shutil.copyfile(self.path, target)
        return sqlite_url(target)


def sqlite_template(run_dir: Path, name: str, seed: bool) -> TemplateDb:
    """`name`.sqlite3 in the run's folder: migrated, every unit, the demo's seed when `seed`;
    built by the first worker that asks."""
    path = run_dir / f"{name}.sqlite3"
    seed_file = run_dir / f"{name}.seed.json"
    with run_lock(run_dir / f"{name}.lock"):
        if not seed_file.exists():
            building = run_dir / f"{name}.building.sqlite3"
            building.unlink(missing_ok=True)
            url = sqlite_url(building)
            migrate.upgrade(url)
            result = asyncio.run(seed_database(url, demo=seed))
            # Fold the WAL into the main file so a plain copy carries everything.
            with sqlite3.connect(building) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            building.replace(path)
            _write_seed(seed_file, result)
        return TemplateDb(path=path, seed=_read_seed(seed_file))


# --- PostgreSQL --------------------------------------------------------------------------------


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


def database_url(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the test server."""
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


async def admin_execute(*statements: str) -> None:
    """Run statements on the server's maintenance database."""
    import asyncpg

    connection = await asyncpg.connect(_dsn(POSTGRES_ADMIN_URL))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def require_postgres() -> None:
    """Skip (or fail under CONFHUB_REQUIRE_SERVICES=1) when PostgreSQL is not there."""
    if not port_open("127.0.0.1", 5432):
        skip_or_fail("PostgreSQL is not reachable on 127.0.0.1:5432")


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (empty, or a clone of `template`) for as long as the block
    runs, then dropped; yields its URL."""
    require_postgres()
    name = f"{CLONE_PREFIX}{uuid.uuid4().hex[:12]}"
    create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    try:
        asyncio.run(admin_execute(create))
    except Exception as exc:
        skip_or_fail(f"PostgreSQL on 127.0.0.1:5432 refused a test database: {exc}")
    try:
        yield database_url(name)
    finally:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass(frozen=True)
class PostgresTemplate:
    """A template database of this run and what its seed printed."""

    name: str
    seed: DemoSeed | None

    @contextmanager
    def clone(self) -> Iterator[str]:
        """A fresh copy for as long as the block runs; yields its URL."""
        with postgres_database(self.name) as url:
            yield url


def postgres_template(
    run_dir: Path,
    run_id: str,
    kind: str,
    build: Callable[[str], Awaitable[DemoSeed | None]] | None = None,
) -> PostgresTemplate:
    """The run's template database `kind`: migrated, then filled by `build(url)` (by default
    every unit and the demo's seed); built by the first worker that asks."""
    require_postgres()
    name = f"{TEMPLATE_PREFIX}{run_id}_{kind}"
    seed_file = run_dir / f"{name}.seed.json"
    with run_lock(run_dir / f"{name}.lock"):
        if not seed_file.exists():
            try:
                asyncio.run(
                    admin_execute(
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                        f'CREATE DATABASE "{name}"',
                    )
                )
            except Exception as exc:
                skip_or_fail(f"PostgreSQL on 127.0.0.1:5432 refused a test database: {exc}")
            url = database_url(name)
            migrate.upgrade(url)
            result = asyncio.run((build or seed_database)(url))
            _write_seed(seed_file, result)
        return PostgresTemplate(name=name, seed=_read_seed(seed_file))


def drop_run_templates(run_dir: Path, run_id: str) -> None:
    """Drop the template databases this run built (called once, when the run ends)."""
    names = [
        path.name.removesuffix(".seed.json")
        for path in run_dir.glob(f"{TEMPLATE_PREFIX}{run_id}_*.seed.json")
    ]
    if names and port_open("127.0.0.1", 5432):
        asyncio.run(admin_execute(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names)))
