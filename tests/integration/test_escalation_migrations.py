"""Escalation's Alembic migrations: one head, and the newest steps up and down on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from attune_escalation.migrate import alembic_config, upgrade_async

pytestmark = pytest.mark.integration
TRACED = ("outbox", "notifications")


def test_the_migrations_have_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()


async def columns(database_url: str, table: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: sa.inspect(c).get_columns(table))
    finally:
        await engine.dispose()
    return {c["name"] for c in found}


async def test_the_traceparent_columns_come_and_go_with_their_migration(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    (revision,) = [r for r in script.walk_revisions() if "trace context" in (r.doc or "")]
    before = revision.down_revision
    assert isinstance(before, str)
    await upgrade_async(database_url)
    for table in TRACED:
        assert "traceparent" in await columns(database_url, table)
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), before)
    for table in TRACED:
        assert "traceparent" not in await columns(database_url, table)
    await upgrade_async(database_url)
    for table in TRACED:
        assert "traceparent" in await columns(database_url, table)
