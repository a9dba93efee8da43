"""`confhub db backup` and `confhub db restore`: a whole database to one file and back.

SQLite uses its online backup API: a consistent copy while the server keeps serving (writers
wait a moment, readers never), written beside the target and renamed into place once checked.
PostgreSQL uses its own tools, `pg_dump --format=custom` and `pg_restore`, with the password
passed in the environment, never on the command line.

A restore checks the file before touching anything: it must pass an integrity check and carry
an Alembic revision this confhub knows; a database that already holds tables is only replaced
with `force`. A backup from an older confhub is restored as it is; `confhub db upgrade` (or
`confhub serve`) migrates it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from confhub.db import is_sqlite, migrate
from confhub.db.engine import create_engine

PG_TIMEOUT_SECONDS = 6 * 60 * 60


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore did."""

    path: Path
    size: int
    revision: str
    head: str

    @property
    def needs_upgrade(self) -> bool:
        """Whether the database is older than this confhub's migrations."""
        return self.revision != self.head


def backup(database_url: str, target: Path, *, force: bool = False) -> BackupReport:
    """Copy the whole database to `target` (refusing to replace a file there unless `force`)."""
    if target.exists() and not force:
        raise BackupError(f"{target} exists; choose another file or pass --force")
    if target.parent and not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if is_sqlite(database_url):
            revision = _backup_sqlite(_sqlite_file(database_url, must_exist=True), partial)
        else:
            revision = _backup_postgres(database_url, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(target, target.stat().st_size, revision, _head())


def restore(database_url: str, source: Path, *, force: bool = False) -> BackupReport:
    """Replace the database with the backup in `source` (an empty one unless `force`)."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    if is_sqlite(database_url):
        revision = _check_sqlite_backup(source)
        _known_revision(revision)
        target = _sqlite_file(database_url, must_exist=False)
        if not force and _sqlite_has_tables(target):
            raise BackupError(f"{target} already holds a database; pass --force to replace it")
        _restore_sqlite(source, target)
    else:
        revision = _check_postgres_backup(source)
        _known_revision(revision)
        if not force and asyncio.run(_postgres_has_tables(database_url)):
            raise BackupError("the PostgreSQL database already holds tables; pass --force")
        _restore_postgres(database_url, source)
    restored = asyncio.run(_revision_of(database_url))
    if restored != revision:
        raise BackupError(f"restored revision {restored!r} differs from the backup's {revision!r}")
    return BackupReport(source, source.stat().st_size, revision, _head())


# -- SQLite -----------------------------------------------------------------------------------


def _sqlite_file(database_url: str, *, must_exist: bool) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError("CONFHUB_DATABASE_URL: only a SQLite file can be backed up or restored")
    path = Path(name)
    if must_exist and not path.is_file():
        raise BackupError(f"{path}: no such database file")
    return path


@contextlib.contextmanager
def _sqlite(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    connection = sqlite3.connect(uri, uri=read_only, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def _backup_sqlite(source: Path, partial: Path) -> str:
    with _sqlite(source) as src, _sqlite(partial) as dst:
        # Copies in steps, letting the server write in between; SQLite restarts the copy
        # when another connection changes the database, so the result is one moment's state.
        src.backup(dst, pages=4096, sleep=0.01)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    return _check_sqlite_backup(partial)


def _check_sqlite_backup(path: Path) -> str:
    try:
        with _sqlite(path, read_only=True) as connection:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{path}: fails SQLite's integrity check: {verdict}")
            has_revision = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            row = (
                connection.execute("SELECT version_num FROM alembic_version").fetchone()
                if has_revision
                else None
            )
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a confhub SQLite backup ({exc})") from None
    if row is None:
        raise BackupError(f"{path}: holds no Alembic revision; not a confhub backup")
    return str(row[0])


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with _sqlite(path) as connection:
        found = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()[0]
    return bool(found)


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sqlite(source, read_only=True) as src, _sqlite(target) as dst:
        # Out of WAL first: a WAL database cannot take pages of another size.
        dst.execute("PRAGMA journal_mode=DELETE")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")  # as the server runs it


# -- PostgreSQL -------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_env(url: URL) -> dict[str, str]:
    """libpq's variables for the database, so no password appears in a process list."""
    env = dict(os.environ)
    parts = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    env.update({key: value for key, value in parts.items() if value})
    return env


def _run_pg(command: list[str], url: URL | None = None) -> str:
    try:
        result = subprocess.run(  # noqa: S603 - pg_dump/pg_restore with our own arguments
            command,
            env=_pg_env(url) if url is not None else None,
            capture_output=True,
            text=True,
            timeout=PG_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{Path(command[0]).name} took too long") from None
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["failed"])[0]
        raise BackupError(f"{Path(command[0]).name}: {first}")
    return result.stdout


def _backup_postgres(database_url: str, partial: Path) -> str:
    url = make_url(database_url)
    _run_pg([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}"], url)
    return _check_postgres_backup(partial)


def _check_postgres_backup(path: Path) -> str:
    pg_restore = _pg_tool("pg_restore")
    try:
        listing = _run_pg([pg_restore, "--list", str(path)])
    except BackupError:
        raise BackupError(f"{path}: not a pg_dump custom-format archive") from None
    if "TABLE DATA public alembic_version" not in listing:
        raise BackupError(f"{path}: holds no Alembic revision; not a confhub backup")
    data = _run_pg(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)]
    ).splitlines()
    copy = next((i for i, line in enumerate(data) if line.startswith("COPY ")), None)
    if copy is None or copy + 1 >= len(data) or data[copy + 1] == "\\.":
        raise BackupError(f"{path}: holds no Alembic revision; not a confhub backup")
    return data[copy + 1].strip()


def _restore_postgres(database_url: str, source: Path) -> None:
    url = make_url(database_url)
    _run_pg(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={url.database}",
            str(source),
        ],
        url,
    )


async def _postgres_has_tables(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
    finally:
        await engine.dispose()
    return bool(count)


# -- revisions --------------------------------------------------------------------------------


async def _revision_of(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return str(await connection.scalar(text("SELECT version_num FROM alembic_version")))
    finally:
        await engine.dispose()


def _head() -> str:
    return ",".join(migrate.heads())


def _known_revision(revision: str) -> None:
    """A backup from a newer confhub cannot be restored by this one."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite+aiosqlite://"))
    try:
        scripts.get_revision(revision)
    except CommandError:
        raise BackupError(
            f"the backup is at revision {revision!r}, which this confhub does not know "
            "(it comes from a newer version: upgrade confhub first)"
        ) from None
