"""Alembic environment: runs migrations on the async engine confhub uses."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from confhub.db.engine import create_engine
from confhub.db.migrations.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
        user_module_prefix="advanced_alchemy.types.",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = str(config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url"))
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("confhub migrations run online only: use `confhub db upgrade`")

existing = config.attributes.get("connection")
if existing is not None:
    _run(existing)
else:
    asyncio.run(_run_async())
