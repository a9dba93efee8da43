"""A PostgreSQL cluster and a Redis server of a test's own, which it may stop and start again.

Outage tests take a dependency away in the middle of a test. They never touch the machine's
services on 5432/6379 (other tests and other engineers use them): each starts its own from
Debian's binaries on a free port, with its files in a fresh temporary folder. PostgreSQL refuses
to run as root, so under root (as CI runs) its programs run as the `postgres` account through
`runuser`, and its folder belongs to that account.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from confhub.demo import DemoSeed

START_TIMEOUT = 30.0
# Settings for a throwaway cluster: nothing here needs to survive a crash of the machine.
POSTGRES_OPTIONS = (
    "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
    "-c listen_addresses=127.0.0.1 -c max_connections=60"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postgres_bin_dir() -> Path | None:
    """The newest `/usr/lib/postgresql/*/bin` holding initdb and pg_ctl, if any."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for candidate in reversed(candidates):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _postgres_account() -> pwd.struct_passwd | None:
    """The account PostgreSQL's programs run as when this process is root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of one test module: `start()`, `stop()`, `start()` again."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="confhub-pg-")))

    @property
    def data_dir(self) -> Path:
        """The cluster's files."""
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        """The server's log."""
        return self.directory / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one of its databases (user postgres, trust)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The asyncpg DSN of one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        bin_dir = postgres_bin_dir()
        assert bin_dir is not None, "PostgreSQL's server programs are not installed"
        argv = [str(bin_dir / command[0]), *command[1:]]
        if _postgres_account() is not None:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    def init(self) -> None:
        """Create the cluster (owned by `postgres` when running as root)."""
        account = _postgres_account()
        if account is not None:
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        done = self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip
        assert done.returncode == 0, f"initdb failed:\n{done.stdout}{done.stderr}"

    def start(self) -> None:
        """Start serving on `port` and wait until connections are accepted."""
        options = f"-p {self.port} -k {self.directory} {POSTGRES_OPTIONS}"
        done = self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options,
            "-w", "-t", str(int(START_TIMEOUT)), "start",
        )  # fmt: skip
        assert done.returncode == 0, f"pg_ctl start failed:\n{done.stdout}{done.stderr}"
        wait_for(lambda: listening(self.port), f"PostgreSQL on port {self.port}")

    def stop(self, mode: str = "immediate") -> None:
        """Stop it: `immediate` drops every connection at once, as a crash would."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
        wait_for(lambda: not listening(self.port), f"PostgreSQL on port {self.port} to stop")

    @property
    def running(self) -> bool:
        """Whether it accepts connections."""
        return listening(self.port)

    def destroy(self) -> None:
        """Stop it and remove its files."""
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A Redis server of one test, without persistence: `start()`, `kill()`, `start()` again."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="confhub-redis-")))
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """Its URL."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start serving on `port` and wait until it accepts connections."""
        executable = shutil.which("redis-server")
        assert executable is not None, "redis-server is not installed"
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    executable, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(lambda: listening(self.port), f"Redis on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: every connection drops and everything it held is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        wait_for(lambda: not listening(self.port), f"Redis on port {self.port} to stop")

    @property
    def running(self) -> bool:
        """Whether it accepts connections."""
        return listening(self.port)

    def destroy(self) -> None:
        """Kill it and remove its files."""
        with contextlib.suppress(Exception):
            self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_for(condition: object, what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll `condition()` until it holds; fail naming `what` otherwise."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


async def admin_execute(cluster: PrivatePostgres, *statements: str) -> None:
    """Run statements on the cluster's maintenance database."""
    import asyncpg

    connection = await asyncpg.connect(cluster.dsn())
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def seeded_template(cluster: PrivatePostgres, name: str = "confhub_template") -> DemoSeed:
    """A database `name` on the cluster, migrated, with Thanh Hóa's units and the demo's seed:
    clone it per test with `CREATE DATABASE … TEMPLATE name` (see :func:`clone_database`)."""
    import asyncio

    from confhub.db import migrate
    from confhub.db.engine import create_engine, session_maker
    from confhub.demo import seed_thanh_hoa
    from confhub.units.loader import load_units

    asyncio.run(admin_execute(cluster, f'CREATE DATABASE "{name}"'))
    url = cluster.url(name)
    migrate.upgrade(url)

    async def seed() -> DemoSeed:
        engine = create_engine(url)
        try:
            async with session_maker(engine)() as session, session.begin():
                await load_units(session, province_code=38)
                return await seed_thanh_hoa(session)
        finally:
            await engine.dispose()

    return asyncio.run(seed())


async def clone_database(cluster: PrivatePostgres, template: str, name: str) -> str:
    """A fresh copy of `template` named `name`; returns its SQLAlchemy URL."""
    await admin_execute(
        cluster,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
    )
    return cluster.url(name)
