"""End-to-end fixtures: the app served by uvicorn on a free port, and Debian's Chromium driven by
Playwright (never a downloaded browser). Screenshots go to `test-artifacts/` for CI's log."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from confhub.app import create_app
from tests.conftest import free_port, make_settings, skip_or_fail

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's Chromium, where installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class LiveServer:
    """uvicorn serving an app in a background thread."""

    def __init__(self, app: object, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the test server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(demo_db: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The demo app on a copy of the seeded database, served on a free port."""
    port = free_port()
    settings = make_settings(demo_db, tmp_path, base_url=f"http://127.0.0.1:{port}")
    with LiveServer(create_app(settings), port) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from Debian's package, through Playwright.

    One per test module: while Playwright's sync API is open it marks an asyncio loop as running
    in this thread, so `asyncio.run` (database set-up in fixtures and tests) fails until it closes.
    Module scope closes it before the next module's tests, and session fixtures (the template
    databases) are built before it opens.
    """
    executable = chromium_path()
    if executable is None:
        skip_or_fail("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test saves its screenshots (kept by CI in its log folder)."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
