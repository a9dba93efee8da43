"""The server half of bench/markdown_render.py: a database with the hostile article, editors'
accounts, and rounds of readers or editors hammering one `confhub serve` while a probe asks
`/healthz` every 10 ms."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import _rollcall_setup as setup
import httpx
import sqlalchemy as sa
from _rollcall_measure import percentile

SLUG = "bai-viet-199000-ngoac"
ARTICLE_BODY = "[" * 199_000
PROBE_EVERY = 0.01
HTML = {"Accept": "text/html"}


def _confhub(env: dict[str, str], *command: str, stdin: str | None = None) -> None:
    subprocess.run(  # noqa: S603
        [setup.CONFHUB, *command],
        env=env,
        input=stdin.encode() if stdin is not None else None,
        check=True,
        capture_output=True,
    )


def _insert_article(database: Path) -> None:
    """The hostile article, written with the columns every version has (those of 0007)."""
    now = datetime.now(UTC)
    stamp = sa.DateTime(timezone=True)
    columns = (
        *("uuid", "site", "province_code", "status", "title", "slug", "lead", "body"),
        *("figures", "featured"),
    )
    article = sa.table(
        "article",
        *(sa.column(name, sa.JSON() if name == "figures" else None) for name in columns),
        *(sa.column(name, stamp) for name in ("content_updated_at", "published_at")),
        *(sa.column(name, stamp) for name in ("created_at", "updated_at")),
    )
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(
            sa.insert(article),
            {
                "uuid": str(uuid.uuid4()),
                "site": "province:38",
                "province_code": 38,
                "status": "published",
                "title": "Bài viết 199.000 dấu ngoặc",
                "slug": SLUG,
                "lead": "Nội dung do kiểm tra an ninh gửi.",
                "body": ARTICLE_BODY,
                "figures": [],
                "featured": False,
                **dict.fromkeys(("content_updated_at", "published_at"), now),
                **dict.fromkeys(("created_at", "updated_at"), now),
            },
        )
    engine.dispose()


def prepare(env: dict[str, str], database: Path, today: bool, editors: int) -> list[str]:
    """Migrate (today's code: to 0007 first, so 0008 renders the article as an existing row),
    load Thanh Hóa, write the article, create the editors; their passwords (e-mail editor{i})."""
    _confhub(env, "db", "upgrade", *(["0007"] if today else []))
    _confhub(env, "units", "load", "--province", "38")
    _insert_article(database)
    if today:
        _confhub(env, "db", "upgrade")
    passwords = []
    for number in range(editors):
        password = secrets.token_urlsafe(12)
        email = f"editor{number}@bench.example.org"
        _confhub(env, "users", "create", "--email", email, "--role", "admin", stdin=password)
        passwords.append(password)
    return passwords


@dataclass(frozen=True)
class Load:
    """One round: the answers the workers got (ms, status) and what the probe saw (ms)."""

    code: str
    name: str
    seconds: float
    answers: list[tuple[float, int]]
    probes: list[float]
    load_average: float  # the machine's, over the last minute, at the round's end
    server_errors: int = 0  # "unhandled error" lines the server logged during the round


async def load_round(
    base_url: str,
    code: str,
    name: str | None,
    args: argparse.Namespace,
    passwords: list[str] | None,
    text: str | None,
) -> Load:
    """`args.readers` workers ask for the article page (or, with `passwords`, previews of
    `text`) as fast as answered for `args.seconds`, while the probe asks `/healthz`; with no
    `name`, the probe alone (what this machine gives a quiet process)."""
    answers: list[tuple[float, int]] = []
    probes: list[float] = []
    done = asyncio.Event()

    async def probe(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            started = time.perf_counter()
            (await client.get("/healthz")).raise_for_status()
            probes.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(PROBE_EVERY)

    async def work(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            started = time.perf_counter()
            if passwords is None:
                response = await client.get(f"/news/{SLUG}", headers=HTML)
            else:
                response = await client.post("/api/v1/news/preview", json={"markdown": text})
            if not done.is_set():
                answers.append(((time.perf_counter() - started) * 1000, response.status_code))

    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=600)

    async with contextlib.AsyncExitStack() as stack:
        count = args.readers if name else 0
        workers = [await stack.enter_async_context(client()) for _ in range(count)]
        for number, worker in enumerate(workers if passwords else []):
            email = f"editor{number}@bench.example.org"
            login = {"email": email, "password": passwords[number]}  # type: ignore[index]
            (await worker.post("/api/v1/auth/login", json=login)).raise_for_status()
        if workers:  # first answers compile templates and warm caches: not what is measured
            await (
                workers[0].get(f"/news/{SLUG}", headers=HTML)
                if passwords is None
                else workers[0].post("/api/v1/news/preview", json={"markdown": text})
            )
        prober = asyncio.create_task(probe(await stack.enter_async_context(client())))
        await asyncio.sleep(0.3)
        probes.clear()
        tasks = [asyncio.create_task(work(worker)) for worker in workers]
        await asyncio.sleep(args.seconds)
        done.set()
        await asyncio.gather(prober, *tasks)
    return Load(code, name or "probe alone", args.seconds, answers, probes, os.getloadavg()[0])


def format_load_row(load: Load) -> str:
    """One row of the server table."""
    statuses = Counter(status for _, status in load.answers)
    rates = ", ".join(
        f"{status}: {count / load.seconds:,.1f}" for status, count in sorted(statuses.items())
    )
    times = [ms for ms, _ in load.answers]
    p50, top = percentile(times, 50), max(times, default=None)
    answered = f"{p50:,.0f} / {top:,.0f} ms" if p50 is not None and top is not None else "—"
    probe = [percentile(load.probes, q) for q in (50, 99)]
    probed = (
        f"{probe[0]:,.0f} / {probe[1]:,.0f} / {max(load.probes):,.0f} ms"
        if load.probes and probe[0] is not None and probe[1] is not None
        else "—"
    )
    return (
        f"| {load.code} | {load.name} | {rates or 'none'} | {answered} | {len(load.probes)} | "
        f"{probed} | {load.server_errors} | {load.load_average:.1f} |"
    )
