"""The `confhub` console script as an operator runs it: a real process, real output.

The contract fixes the demo's two printed lines (`Organizer login: EMAIL PASSWORD` and
`Check-in link (Xã Cẩm Tú): URL`), the commands and their options, and that a bad setting stops
a command with one line naming the variable.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from litestar.testing import TestClient

from confhub.app import create_app
from tests.conftest import free_port, make_settings, sqlite_url

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEPT_10_TITLE = "Hội nghị trực tuyến đánh giá hoạt động chính quyền địa phương 2 cấp"
STARTUP_TIMEOUT = 90.0
COMMAND_TIMEOUT = 120.0
PASSWORD = "a-long-enough-password"


def confhub_script() -> Path:
    """The installed console script of this environment."""
    script = Path(sys.executable).with_name("confhub")
    assert script.exists(), f"the confhub console script is not installed at {script}"
    return script


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any CONFHUB_* variable, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONFHUB_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `confhub ARGS` to completion."""
    return subprocess.run(
        [str(confhub_script()), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single `confhub: …` line a failing command prints on stderr."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("confhub:"), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --- Help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        ((), ["demo", "serve", "db", "units", "users"]),
        (("demo",), ["--host", "--port", "--db"]),
        (("serve",), ["--host", "--port", "--workers", "--no-migrate"]),
        (("db",), ["upgrade", "downgrade"]),
        (("units", "load"), ["--province"]),
        (("users", "create"), ["--email", "--role", "--province", "--unit"]),
    ],
)
def test_help(tmp_path: Path, args: tuple[str, ...], mentions: list[str]) -> None:
    result = run(*args, "--help", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: confhub")
    for word in mentions:
        assert word in result.stdout, f"{word} missing from `confhub {' '.join(args)} --help`"


def test_users_create_help_names_the_roles(tmp_path: Path) -> None:
    result = run("users", "create", "--help", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0
    for role in ("admin", "secretariat", "chair", "viewer"):
        assert role in result.stdout
    assert "standard input" in result.stdout


# --- The demo -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoProcess:
    """A running `confhub demo` and what it printed."""

    base_url: str
    organizer_email: str
    organizer_password: str
    checkin_url: str
    lines: list[str]


def _read_lines(stream: IO[str], sink: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):
        sink.put(line.rstrip("\n"))
    sink.put(None)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    """`confhub demo` on a free port, started once for this module's tests."""
    work = tmp_path_factory.mktemp("demo")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    stderr_path = work / "stderr.log"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [
                str(confhub_script()),
                "demo",
                "--port",
                str(port),
                "--db",
                str(work / "demo.sqlite3"),
            ],
            cwd=work,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
        lines_in: queue.Queue[str | None] = queue.Queue()
        # Keeps draining stdout (uvicorn's access log goes there) so the pipe never fills.
        reader = threading.Thread(target=_read_lines, args=(process.stdout, lines_in), daemon=True)
        reader.start()
        try:
            organizer = re.compile(r"^Organizer login: (\S+) (\S+)$")
            checkin = re.compile(
                rf"^Check-in link \(Xã Cẩm Tú\): (http://127\.0\.0\.1:{port}/checkin/\S+)$"
            )
            login: re.Match[str] | None = None
            link: re.Match[str] | None = None
            lines: list[str] = []
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while login is None or link is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"the demo did not print its two lines in time: {lines!r}")
                try:
                    line = lines_in.get(timeout=remaining)
                except queue.Empty:
                    continue
                if line is None:
                    pytest.fail(
                        f"the demo exited ({process.wait()}) before printing its lines: "
                        f"{lines!r}\n{stderr_path.read_text()}"
                    )
                lines.append(line)
                login = login or organizer.match(line)
                link = link or checkin.match(line)
            _wait_healthy(base_url, process, stderr_path)
            yield DemoProcess(
                base_url=base_url,
                organizer_email=login.group(1),
                organizer_password=login.group(2),
                checkin_url=link.group(1),
                lines=lines,
            )
        finally:
            _stop(process)
            if process.stdout is not None:
                process.stdout.close()


def _wait_healthy(base_url: str, process: subprocess.Popen[str], stderr_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo exited with {process.returncode}:\n{stderr_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{base_url}/healthz did not answer 200 within 60 s")


def test_demo_prints_the_contract_lines(demo_process: DemoProcess) -> None:
    assert demo_process.organizer_email == "thuky@thanhhoa.confhub.example"
    assert len(demo_process.organizer_password) >= 8
    # Each contract line stands on a line of its own.
    assert sum(line.startswith("Organizer login: ") for line in demo_process.lines) == 1
    assert sum(line.startswith("Check-in link (Xã Cẩm Tú): ") for line in demo_process.lines) == 1


def test_demo_home_page_shows_the_sept_10_conference(demo_process: DemoProcess) -> None:
    response = httpx.get(f"{demo_process.base_url}/", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert SEPT_10_TITLE in response.text


def test_demo_checkin_link_opens_the_cam_tu_page(demo_process: DemoProcess) -> None:
    response = httpx.get(demo_process.checkin_url, headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 200
    assert "Phạm Thị Nhàn" in response.text
    assert "Cẩm Tú" in response.text


def test_demo_organizer_can_sign_in_and_list_meetings(demo_process: DemoProcess) -> None:
    with httpx.Client(base_url=demo_process.base_url, timeout=10) as http:
        response = http.post(
            "/api/v1/auth/login",
            json={
                "email": demo_process.organizer_email,
                "password": demo_process.organizer_password,
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "secretariat"
        listing = http.get("/api/v1/meetings", params={"province": 38})
        assert listing.status_code == 200, listing.text
        body = listing.json()
        assert set(body) == {"items", "total", "limit", "offset"}
        assert body["total"] == 2
        statuses = sorted(item["status"] for item in body["items"])
        assert statuses == ["ended", "scheduled"]
        ended = next(item for item in body["items"] if item["status"] == "ended")
        assert ended["invited_count"] == 166
        assert ended["title"].startswith(SEPT_10_TITLE)
        upcoming = next(item for item in body["items"] if item["status"] == "scheduled")
        assert upcoming["invited_count"] == 166


def test_demo_rejects_a_wrong_password(demo_process: DemoProcess) -> None:
    response = httpx.post(
        f"{demo_process.base_url}/api/v1/auth/login",
        json={"email": demo_process.organizer_email, "password": "wrong-password"},
        timeout=10,
    )
    assert response.status_code == 401
    assert httpx.get(f"{demo_process.base_url}/api/v1/meetings", timeout=10).status_code == 401


# --- users create -------------------------------------------------------------------------------


def _database_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite+aiosqlite:///"))


def test_users_create_then_sign_in(units_db: str, tmp_path: Path) -> None:
    email = "x@example.org"
    result = run(
        "users",
        "create",
        "--email",
        email,
        "--role",
        "secretariat",
        "--province",
        "38",
        env=clean_env(CONFHUB_DATABASE_URL=units_db),
        cwd=tmp_path,
        stdin=f"{PASSWORD}\n",
    )
    assert result.returncode == 0, result.stderr
    assert email in result.stdout
    assert PASSWORD not in result.stdout + result.stderr

    with sqlite3.connect(_database_file(units_db)) as connection:
        (stored,) = connection.execute(
            "SELECT password_hash FROM user_account WHERE email = ?", (email,)
        ).fetchone()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored

    with TestClient(create_app(make_settings(units_db, tmp_path))) as client:
        response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "secretariat"
        assert response.json()["province_code"] == 38
        wrong = client.post("/api/v1/auth/login", json={"email": email, "password": "nope-nope"})
        assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (["--role", "chair"], "unit"),
        (["--role", "secretariat", "--province", "99"], "province"),
        (["--role", "viewer"], "province"),
        (["--role", "chair", "--unit", "99999999"], "unit"),
    ],
)
def test_users_create_bad_input(
    units_db: str, tmp_path: Path, options: list[str], names: str
) -> None:
    result = run(
        "users",
        "create",
        "--email",
        "y@example.org",
        *options,
        env=clean_env(CONFHUB_DATABASE_URL=units_db),
        cwd=tmp_path,
        stdin=f"{PASSWORD}\n",
    )
    line = one_error_line(result)
    assert names in line
    with sqlite3.connect(_database_file(units_db)) as connection:
        (count,) = connection.execute("SELECT count(*) FROM user_account").fetchone()
    assert count == 0


def test_users_create_short_password(units_db: str, tmp_path: Path) -> None:
    result = run(
        "users",
        "create",
        "--email",
        "z@example.org",
        "--role",
        "admin",
        env=clean_env(CONFHUB_DATABASE_URL=units_db),
        cwd=tmp_path,
        stdin="short\n",
    )
    assert "password" in one_error_line(result)


def test_users_create_duplicate_email(units_db: str, tmp_path: Path) -> None:
    env = clean_env(CONFHUB_DATABASE_URL=units_db)
    args = ("users", "create", "--email", "dup@example.org", "--role", "admin")
    assert run(*args, env=env, cwd=tmp_path, stdin=f"{PASSWORD}\n").returncode == 0
    again = run(*args, env=env, cwd=tmp_path, stdin=f"{PASSWORD}\n")
    assert "dup@example.org" in one_error_line(again)


# --- Bad configuration --------------------------------------------------------------------------


def test_serve_without_secret_key_fails_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run("serve", "--port", str(free_port()), env=clean_env(), cwd=tmp_path)
    assert time.monotonic() - started < 30
    line = one_error_line(result)
    assert "CONFHUB_SECRET_KEY" in line


def test_serve_with_a_short_secret_key_fails_fast(tmp_path: Path) -> None:
    result = run(
        "serve",
        "--port",
        str(free_port()),
        env=clean_env(CONFHUB_SECRET_KEY="too-short"),
        cwd=tmp_path,
    )
    assert "CONFHUB_SECRET_KEY" in one_error_line(result)


@pytest.mark.parametrize("url", ["mysql://user@localhost/confhub", "not a database url"])
def test_units_load_with_a_bad_database_url(tmp_path: Path, url: str) -> None:
    result = run("units", "load", env=clean_env(CONFHUB_DATABASE_URL=url), cwd=tmp_path)
    assert "CONFHUB_DATABASE_URL" in one_error_line(result)


# --- db upgrade and units load ------------------------------------------------------------------


def test_db_upgrade_then_units_load(tmp_path: Path) -> None:
    env = clean_env(CONFHUB_DATABASE_URL=sqlite_url(tmp_path / "fresh.sqlite3"))
    upgrade = run("db", "upgrade", env=env, cwd=tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "upgraded" in upgrade.stdout

    load = run("units", "load", "--province", "38", env=env, cwd=tmp_path)
    assert load.returncode == 0, load.stderr
    assert "166 units" in load.stdout
    assert "1 provinces" in load.stdout or "1 province" in load.stdout

    again = run("units", "load", "--province", "38", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "166 units" in again.stdout
    assert "0 created" in again.stdout  # idempotent

    with sqlite3.connect(tmp_path / "fresh.sqlite3") as connection:
        (units,) = connection.execute(
            "SELECT count(*) FROM unit WHERE province_code = 38"
        ).fetchone()
    assert units == 166
