"""Alembic migrations: one head, a clean round trip, and models that match the migrations.

Each check runs on an empty SQLite file and on a fresh PostgreSQL database (the production
path). The tests are synchronous because :mod:`confhub.db.migrate` drives Alembic with its own
event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from confhub.db import migrate
from confhub.db.engine import create_engine
from confhub.db.migrations.models import metadata

pytestmark = pytest.mark.integration

VERSION_TABLE = "alembic_version"


def _with_connection(url: str, work: Any) -> Any:
    """Run `work(sync_connection)` on the database and return its result."""

    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    return set(_with_connection(url, lambda conn: inspect(conn).get_table_names()))


def _current_revisions(url: str) -> set[str]:
    def read(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    result: set[str] = _with_connection(url, read)
    return result


def _schema_differences(url: str) -> list[Any]:
    def compare(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, metadata))

    result: list[Any] = _with_connection(url, compare)
    return result


def test_there_is_exactly_one_head() -> None:
    heads = migrate.heads()
    assert len(heads) == 1, f"the migration history has several heads: {heads}"


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    model_tables = set(metadata.tables)
    assert model_tables, "no models were imported into the metadata"
    (head,) = migrate.heads()

    migrate.upgrade(empty_url)
    assert _tables(empty_url) == model_tables | {VERSION_TABLE}
    assert _current_revisions(empty_url) == {head}

    migrate.downgrade(empty_url, "base")
    assert _tables(empty_url) == {VERSION_TABLE}
    assert _current_revisions(empty_url) == set()

    migrate.upgrade(empty_url)
    assert _tables(empty_url) == model_tables | {VERSION_TABLE}
    assert _current_revisions(empty_url) == {head}


def test_upgrade_is_idempotent(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.upgrade(empty_url)
    assert _current_revisions(empty_url) == set(migrate.heads())


def test_models_and_migrations_agree(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    differences = _schema_differences(empty_url)
    assert differences == [], (
        "the models and the migrations disagree; fix one of them:\n"
        + "\n".join(repr(diff) for diff in differences)
    )
