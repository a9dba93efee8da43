"""A chair's check-in page on a phone (Debian's Chromium, 390 px) while PostgreSQL is down.

`confhub serve` runs on a PostgreSQL cluster of this module's own (never the machine's), which
the test stops while the page is open. The answer the chair gives meanwhile is refused by the
server with "send it again"; the page keeps it on the phone and says the server could not store
it yet, then sends it again by itself once the database is back: stored once, and the page says
so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from confhub.demo import DemoSeed
from tests.conftest import TEST_SECRET, skip_or_fail
from tests.helpers.private_services import (
    PrivatePostgres,
    clone_database,
    free_port,
    postgres_bin_dir,
    seeded_template,
)
from tests.helpers.processes import ServedProcess, clean_env

pytestmark = [pytest.mark.e2e, pytest.mark.services]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TEMPLATE = "confhub_outage_browser_template"
DATABASE = "confhub_outage_browser"


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[tuple[PrivatePostgres, DemoSeed]]:
    """This module's own PostgreSQL cluster with a seeded template database (set up before the
    browser opens: see `browser` in tests/e2e/conftest.py)."""
    if postgres_bin_dir() is None:
        skip_or_fail("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster, seeded_template(cluster, TEMPLATE)
    finally:
        cluster.destroy()


@dataclass
class Served:
    """One `confhub serve` process on the private cluster."""

    process: ServedProcess
    postgres: PrivatePostgres
    seed: DemoSeed


@pytest.fixture
def served(private_postgres: tuple[PrivatePostgres, DemoSeed], tmp_path: Path) -> Iterator[Served]:
    """A fresh copy of the template served by one process; stopped afterwards."""
    cluster, seed = private_postgres
    url = in_thread(clone_database(cluster, TEMPLATE, DATABASE))
    port = free_port()
    env = clean_env(
        CONFHUB_DATABASE_URL=url,
        CONFHUB_SECRET_KEY=TEST_SECRET,
        CONFHUB_BASE_URL=f"http://127.0.0.1:{port}",
        CONFHUB_MEDIA_DIR=str(tmp_path / "media"),
        CONFHUB_DEFAULT_PROVINCE="38",
    )
    process = ServedProcess("phone-server", port, env, tmp_path)
    try:
        process.start()
        yield Served(process, cluster, seed)
    finally:
        if not cluster.running:
            cluster.start()
        process.stop()


def in_thread(work: Any) -> Any:
    """Run a coroutine on a thread of its own (Playwright marks this thread's loop running)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


async def records(cluster: PrivatePostgres, key: str) -> list[int | None]:
    """The delegates of every stored check-in with this idempotency key."""
    connection = await asyncpg.connect(cluster.dsn(DATABASE))
    try:
        rows = await connection.fetch(
            "SELECT delegates_present FROM checkin_record WHERE idempotency_key = $1", key
        )
    finally:
        await connection.close()
    return [row["delegates_present"] for row in rows]


def test_an_answer_given_while_the_database_is_down_is_stored_when_it_returns(
    served: Served, browser: Any, screenshot_dir: Path
) -> None:
    # `served` first: its module's cluster is built before the browser opens.
    from playwright.sync_api import expect

    errors: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.goto(f"{served.process.url}/checkin/{served.seed.cam_tu_token}")
    expect(phone.locator("#connection")).to_have_attribute("data-state", "live", timeout=10_000)

    served.postgres.stop()
    phone.check("#status-present")
    phone.fill("#delegates", "12")
    phone.click("#checkin-form button[type=submit]")
    waiting = phone.locator("#answer-status [data-state=pending]")
    expect(waiting).to_contain_text("Máy chủ tạm thời chưa lưu được", timeout=10_000)
    expect(waiting).to_contain_text("tự động được gửi lại")
    # Still connected: the socket was not closed by the outage.
    expect(phone.locator("#connection")).to_have_attribute("data-state", "live")
    outbox = phone.evaluate(
        "Object.keys(localStorage).filter((k) => k.startsWith('confhub.outbox.v1.'))"
        ".map((k) => JSON.parse(localStorage.getItem(k))).flat()"
    )
    assert len(outbox) == 1, outbox
    key = outbox[0]["idempotency_key"]
    phone.screenshot(path=str(screenshot_dir / "checkin-phone-database-down.png"), full_page=True)

    # A visitor opening a page meanwhile is told, in Vietnamese, to try again shortly.
    desktop = browser.new_context(viewport=DESKTOP, locale="vi-VN").new_page()
    answer = desktop.goto(f"{served.process.url}/news")
    assert answer is not None and answer.status == 503
    assert int(answer.headers["retry-after"]) > 0
    expect(desktop.locator("h1")).to_have_text("Dịch vụ tạm thời gián đoạn")
    desktop.screenshot(path=str(screenshot_dir / "news-desktop-database-down.png"))
    desktop.context.close()

    served.postgres.start()
    expect(phone.locator("#answer-status [data-state=stored]")).to_contain_text(
        "Đã lưu lúc", timeout=30_000
    )
    expect(phone.locator("#current-text")).to_contain_text("12")
    assert in_thread(records(served.postgres, key)) == [12]
    phone.screenshot(path=str(screenshot_dir / "checkin-phone-database-back.png"), full_page=True)
    context.close()
    assert errors == []
