"""Nothing twice, nothing lost, with real processes: two `confhub serve` processes on one
PostgreSQL database (and Redis) share the outbox and send each notice exactly once; a process
killed with SIGKILL in the middle of sending leaves nothing unsent, and after the restart every
recipient has each notice once by its Message-ID (the receiver drops a copy by that id)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from confhub.db.engine import create_engine, session_maker
from confhub.notices.models import NoticeDelivery
from tests.conftest import TEST_SECRET, free_port, seed_postgres_demo
from tests.helpers.processes import ServedProcess, clean_env, start_all
from tests.helpers.receivers import smtp_server, webhook_server
from tests.integration.notices.conftest import outbox_rows, wait_for
from tests.integration.notices.test_email import fill_directory

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.slow]
SECRET = "webhook-secret-0123456789abcdef"


@contextlib.contextmanager
def served(names: list[str], tmp_path: Path, **env: str) -> Iterator[list[ServedProcess]]:
    """`confhub serve` processes with `env`, always stopped at the end."""
    processes = [
        ServedProcess(name, free_port(), clean_env(CONFHUB_SECRET_KEY=TEST_SECRET, **env), tmp_path)
        for name in names
    ]
    try:
        start_all(processes)  # side by side: each start is mostly importing
        yield processes
    finally:
        for process in processes:
            process.stop()


def test_two_processes_send_each_notice_exactly_once(
    postgres_url: str, own_redis_url: str, tmp_path: Path
) -> None:
    seed = seed_postgres_demo(postgres_url)
    meeting_id = seed.upcoming_meeting_id
    addresses = fill_directory(postgres_url, meeting_id)
    with smtp_server() as (smtp_url, inbox), webhook_server(SECRET) as (hook_url, hooks):
        env = {
            "CONFHUB_DATABASE_URL": postgres_url,
            "CONFHUB_REDIS_URL": own_redis_url,
            "CONFHUB_SMTP_URL": smtp_url,
            "CONFHUB_NOTIFY_WEBHOOK_URL": hook_url,
            "CONFHUB_NOTIFY_WEBHOOK_SECRET": SECRET,
        }
        with served(["a", "b"], tmp_path, **env) as (a, _b):
            # The demo's 166 invitations were queued when it scheduled the meeting.
            wait_for(lambda: inbox.count() >= 166, "the 166 invitations", timeout=120)
            with httpx.Client(base_url=a.url) as client:
                login = {"email": seed.organizer_email, "password": seed.organizer_password}
                assert client.post("/api/v1/auth/login", json=login).status_code == 200
                meeting = client.get(f"/api/v1/meetings/{meeting_id}").json()
                later = datetime.fromisoformat(meeting["starts_at"]) + timedelta(hours=2)
                response = client.patch(
                    f"/api/v1/meetings/{meeting_id}", json={"starts_at": later.isoformat()}
                )
                assert response.status_code == 200, response.text
            wait_for(lambda: inbox.count() >= 332, "the 166 change e-mails", timeout=120)
            wait_for(lambda: len(hooks.posts) >= 166, "the 166 change posts", timeout=120)
            wait_for(
                lambda: {r.state for r in outbox_rows(postgres_url, meeting_id)} == {"delivered"},
                "every delivery recorded",
            )
            time.sleep(2)  # a copy sent late would arrive now
    received = inbox.by_message_id()
    assert len(received) == 332
    assert inbox.count() == 332  # not one copy: each message was sent once
    assert {len(copies) for copies in received.values()} == {1}
    assert hooks.bad_signatures == 0
    assert set(hooks.ids().values()) == {1} and len(hooks.ids()) == 166
    per_recipient: dict[str, int] = {}
    for _rcpts, message in inbox.messages:
        to = message["To"].addresses[0].addr_spec
        per_recipient[to] = per_recipient.get(to, 0) + 1
    assert per_recipient == dict.fromkeys(addresses.values(), 2)


def test_a_process_killed_mid_send_leaves_nothing_unsent_or_doubled(
    postgres_url: str, own_redis_url: str, tmp_path: Path
) -> None:
    seed = seed_postgres_demo(postgres_url)
    meeting_id = seed.upcoming_meeting_id
    addresses = fill_directory(postgres_url, meeting_id)
    with smtp_server() as (smtp_url, inbox):
        inbox.delay = 0.05  # about 8 s for the 166 messages
        env = {
            "CONFHUB_DATABASE_URL": postgres_url,
            "CONFHUB_REDIS_URL": own_redis_url,
            "CONFHUB_SMTP_URL": smtp_url,
        }
        with served(["a"], tmp_path, **env) as (a,):
            wait_for(lambda: inbox.count() >= 30, "the first messages", timeout=120)
            assert a.process is not None
            a.process.send_signal(signal.SIGKILL)
            a.process.wait(timeout=10)
        before_restart = inbox.count()
        assert before_restart < 166, "the process finished before it was killed"
        rows = outbox_rows(postgres_url, meeting_id)
        in_flight = [r for r in rows if r.state == "sent"]
        assert in_flight, "nothing was left claimed by the killed process"
        # The killed process's lease (60 s) runs out: moved into the past rather than waited for.
        asyncio.run(_expire_leases(postgres_url))
        with served(["b"], tmp_path, **env):
            wait_for(
                lambda: {r.state for r in outbox_rows(postgres_url, meeting_id)} == {"delivered"},
                "every delivery recorded after the restart",
                timeout=120,
            )
    received = inbox.by_message_id()
    assert len(received) == 166  # nothing lost
    recipients: dict[str, set[str]] = {}
    for message_id, copies in received.items():
        for message in copies:
            to = message["To"].addresses[0].addr_spec
            recipients.setdefault(to, set()).add(message_id)
    # Every recipient has its invitation once by Message-ID (a copy of the one in flight when the
    # process died may arrive twice; the receiver tells it by the same Message-ID).
    assert set(recipients) == set(addresses.values())
    assert {len(ids) for ids in recipients.values()} == {1}
    assert inbox.count() - len(received) <= len(in_flight)


async def _expire_leases(url: str) -> None:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session, session.begin():
            await session.execute(
                update(NoticeDelivery)
                .where(NoticeDelivery.state == "sent")
                .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
            )
    finally:
        await engine.dispose()
