"""Alembic as both databases run it (identity, escalation): each package keeps its own
migrations folder and version table; configuring, upgrading and env.py are the same."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from attune_auth.db import make_engine

DEFAULT_VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Migrations:
    """A package's migrations folder and the table that records how far a database is."""

    folder: Path
    version_table: str = DEFAULT_VERSION_TABLE

    def config(self, database_url: str) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(self.folder))
        cfg.set_main_option("sqlalchemy.url", database_url)
        return cfg

    def upgrade(self, database_url: str) -> None:
        command.upgrade(self.config(database_url), "head")

    async def upgrade_async(self, database_url: str) -> None:
        # env.py runs its own event loop, so it gets a thread of its own.
        await asyncio.to_thread(self.upgrade, database_url)


def run_env(metadata: MetaData, *, version_table: str = DEFAULT_VERSION_TABLE) -> None:
    """The whole of a migrations folder's env.py: online over the async engine (SQLite in
    batch mode, which its ALTER TABLE needs), offline as SQL."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=metadata, version_table=version_table, literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    assert url, "sqlalchemy.url is not set"
    asyncio.run(_online(url, metadata, version_table))


async def _online(url: str, metadata: MetaData, version_table: str) -> None:
    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    engine = make_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()
