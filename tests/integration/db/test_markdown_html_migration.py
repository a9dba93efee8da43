"""Migration 0008: minutes and articles written before it get their stored HTML, so the pages,
which no longer render Markdown, show them as before. Migration 0013: the texts holding raw HTML
are rendered again, so their pages show its text instead of literal tags.

Rows are written at revision 0007 (before the HTML columns exist) with Core statements that name
the 0007 columns, then the database is upgraded to head and the stored HTML is read back. Runs
on SQLite (batch mode) and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect

from confhub.db import migrate
from confhub.db.engine import create_engine
from confhub.news.markdown import render_markdown
from tests.integration.news.test_raw_html import RAW
from tests.unit.test_news_markdown import XSS_CORPUS

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
STAMPS = {"created_at": NOW, "updated_at": NOW}
MINUTES = "## Nội dung\n\nHội nghị **đã** nghe báo cáo.\n\n<script>alert(1)</script>"
BODY = "Chủ trì tại xã Cẩm Tú.\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n[x](javascript:alert(1))"


def _table(name: str, *columns: str) -> sa.TableClause:
    typed = {
        name: sa.DateTime(timezone=True)
        for name in ("created_at", "updated_at", "starts_at", "ends_at", "content_updated_at")
    }
    typed["figures"] = sa.JSON()
    return sa.table(name, *(sa.column(c, typed.get(c)) for c in columns))


def _rows_at_0007() -> list[tuple[sa.TableClause, Any]]:
    """A province, a meeting, its minutes (and an empty one's), and two articles."""
    province = _table("province", "code", "name", "division_type", "codename", *STAMPS)
    meeting = _table(
        "meeting",
        *("id", "province_code", "title", "convening_body", "presiding_official"),
        *("description", "starts_at", "ends_at", "status", "sequence", *STAMPS),
    )
    minutes = _table("minutes", "id", "meeting_id", "revision", "markdown", *STAMPS)
    article = _table(
        "article",
        *("id", "uuid", "site", "province_code", "meeting_id", "status", "title", "slug"),
        *("lead", "body", "figures", "featured", "content_updated_at", *STAMPS),
    )
    return [
        (province, [{"code": 38, "name": "Thanh Hóa", "division_type": "tỉnh",
                     "codename": "thanh_hoa", **STAMPS}]),
        (meeting, [{"id": i, "province_code": 38, "title": "Hội nghị", "convening_body": "",
                    "presiding_official": "", "description": "", "starts_at": NOW,
                    "ends_at": NOW, "status": "ended", "sequence": 0, **STAMPS} for i in (1, 2)]),
        (minutes, [
            {"id": 1, "meeting_id": 1, "revision": 3, "markdown": MINUTES, **STAMPS},
            {"id": 2, "meeting_id": 2, "revision": 0, "markdown": "", **STAMPS},
        ]),
        (article, [
            {"id": i, "uuid": f"00000000-0000-4000-8000-00000000000{i}", "site": "province:38",
             "province_code": 38, "meeting_id": 1, "status": "published", "title": "Tin",
             "slug": f"tin-{i}", "lead": "", "body": body, "figures": [], "featured": False,
             "content_updated_at": NOW, **STAMPS}
            for i, body in ((1, BODY), (2, "[" * 20_000))
        ]),
    ]  # fmt: skip


def _run(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _write_at_0007(url: str) -> None:
    migrate.upgrade(url, "0007")

    async def write(engine: Any) -> None:
        async with engine.begin() as connection:
            for table, rows in _rows_at_0007():
                await connection.execute(sa.insert(table), rows)

    _run(url, write)


def _stored(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async def read(engine: Any) -> tuple[Any, Any]:
        async with engine.connect() as connection:
            minutes = await connection.execute(
                sa.text("SELECT id, markdown_html FROM minutes ORDER BY id")
            )
            articles = await connection.execute(
                sa.text("SELECT id, body_html FROM article ORDER BY id")
            )
            return minutes.all(), articles.all()

    minutes, articles = _run(url, read)
    return [tuple(row) for row in minutes], [tuple(row) for row in articles]


def test_upgrade_stores_the_html_of_every_text_written_before_it(empty_url: str) -> None:
    _write_at_0007(empty_url)
    migrate.upgrade(empty_url, "0008")
    minutes, articles = _stored(empty_url)
    assert "<h3>Nội dung</h3>" in minutes[0][1]
    # The renderer of its day showed raw HTML as escaped text (0013 renders it again).
    assert "&lt;script&gt;" in minutes[0][1] and "<script" not in minutes[0][1]
    assert minutes[1] == (2, "")
    assert articles == [
        (1, str(render_markdown(BODY))),
        # Written before any bound: far past what a save accepts now, and rendered all the same.
        (2, f"<p>{'[' * 20_000}</p>\n"),
    ]
    assert "<table>" in articles[0][1] and "<a " not in articles[0][1]


def test_texts_with_raw_html_are_rendered_again_and_only_they(empty_url: str) -> None:
    _write_at_0007(empty_url)
    migrate.upgrade(empty_url, "0012")
    sentinel = "<p>as stored</p>\n"

    async def mark(engine: Any) -> None:
        async with engine.begin() as connection:
            await connection.execute(sa.text("UPDATE article SET body_html = :h"), {"h": sentinel})

    _run(empty_url, mark)
    migrate.upgrade(empty_url)
    minutes, articles = _stored(empty_url)
    assert minutes == [(1, str(render_markdown(MINUTES))), (2, "")]
    assert minutes[0][1] == "<h3>Nội dung</h3>\n<p>Hội nghị <strong>đã</strong> nghe báo cáo.</p>\n"
    # Neither article's text has a "<": today's renderer shows them as 0008's did; untouched.
    assert articles == [(1, sentinel), (2, sentinel)]


def test_downgrade_drops_the_html_and_keeps_the_texts(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "0007")

    async def columns(engine: Any) -> dict[str, set[str]]:
        async with engine.connect() as connection:
            return dict(
                await connection.run_sync(
                    lambda conn: {
                        table: {c["name"] for c in inspect(conn).get_columns(table)}
                        for table in ("minutes", "article")
                    }
                )
            )

    found = _run(empty_url, columns)
    assert "markdown" in found["minutes"] and "markdown_html" not in found["minutes"]
    assert "body" in found["article"] and "body_html" not in found["article"]


def test_0013_renders_as_confhub_did_when_it_was_written() -> None:
    """0013 keeps a copy of the renderer: on raw HTML of every kind, the same HTML as today's."""
    path = Path(migrate.__file__).parent / "migrations" / "versions" / "0013_raw_html_as_text.py"
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parser = module._renderer()
    texts = [*XSS_CORPUS, RAW, MINUTES, BODY, "a <b>x</b> <o:p></o:p> c<d \\<i>"]
    for text in texts:
        assert module._html(parser, text) == str(render_markdown(text)), text
