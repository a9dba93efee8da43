"""`confhub serve` as a real process: started from the installed console script with a clean
environment, ready when /readyz answers, stopped with SIGTERM as systemd stops it, its log (JSON
lines when CONFHUB_LOG_FORMAT=json) in a file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.apps import TEST_PASSWORD_HASH_ENV

# A bound, not a speed check: on a loaded machine a process takes tens of seconds to import.
STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 40.0


def confhub_script() -> Path:
    """The installed console script of this environment."""
    script = Path(sys.executable).with_name("confhub")
    assert script.exists(), f"the confhub console script is not installed at {script}"
    return script


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without CONFHUB_* or PROMETHEUS_* variables, plus `extra`; password
    hashes at the suite's low cost (tests.helpers.apps) unless `extra` says."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CONFHUB_", "PROMETHEUS_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(TEST_PASSWORD_HASH_ENV)
    env.update(extra)
    return env


@dataclass
class ServedProcess:
    """One `confhub serve` process on its own port, its logs in a file."""

    name: str
    port: int
    env: dict[str, str]
    cwd: Path
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.cwd / f"{self.name}.log"

    @property
    def url(self) -> str:
        """This process's own address (no nginx)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The process id, which the app reports in `X-Confhub-Process`."""
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Start serving and wait until /readyz answers 200."""
        command = [str(confhub_script()), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--no-migrate", *self.args],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited early:\n{self.log_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not become ready:\n{self.log_text()[-4000:]}")

    def terminate(self) -> int:
        """SIGTERM, as systemd stops a unit; the exit code once it has stopped."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Make sure it is gone (test teardown)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_text(self) -> str:
        """Everything it logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def access_entry(self, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The `confhub.access` line of one request (written just after its response)."""
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.log_entries():
                if entry.get("request_id") == request_id and entry["logger"] == "confhub.access":
                    return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"no access line for {request_id}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)

    def log_entries(self) -> list[dict[str, Any]]:
        """Its JSON log lines, decoded (other lines skipped)."""
        entries = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue
        return entries


def start_all(processes: list[ServedProcess]) -> None:
    """Start several processes side by side (each spends its start importing, mostly waiting
    on the other cores), returning once every one is ready; the first failure is raised."""
    with ThreadPoolExecutor(max_workers=len(processes)) as pool:
        for started in [pool.submit(process.start) for process in processes]:
            started.result()
