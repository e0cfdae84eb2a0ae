"""The audit of a service's own writes, decided in one place (`AuditTrail.alongside`): with the
audit trail in the service's database, the record is part of the action's transaction; in
another database, it is written once the action has committed, and only then."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import AuditTrail
from attune_auth.db import AuditRecord, make_engine, make_sessions
from attune_auth.principal import Principal, Role
from tests.factories import T0
from tests.identity import Identity

WHO = Principal("tenant-a", "clinician@tenant-a", Role.CLINICIAN, "token")


class Undone(Exception):
    """The action failed after its audit record was taken."""


@pytest.fixture
async def audit_sessions(identity: Identity) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(identity.database_url)
    yield make_sessions(engine)
    await engine.dispose()


async def recorded(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
        return [(r.actor, r.action, r.target) for r in rows]


async def test_in_one_database_the_record_commits_or_rolls_back_with_the_action(
    identity: Identity, audit_sessions: async_sessionmaker[AsyncSession]
) -> None:
    trail = AuditTrail(audit_sessions, database_url=identity.database_url)
    actions = trail.alongside(identity.database_url)

    async def failing_action() -> None:
        async with audit_sessions() as session, session.begin():
            actions.by(session, WHO, at=T0, action="incident_join", target="incident:1")
            raise Undone

    with pytest.raises(Undone):
        await failing_action()
    assert await recorded(audit_sessions) == []

    async with audit_sessions() as session, session.begin():
        pending = actions.by(session, WHO, at=T0, action="incident_join", target="incident:1")
    assert await recorded(audit_sessions) == [
        ("user:clinician@tenant-a", "incident_join", "incident:1")
    ]
    await pending.committed()  # written already: not a second time
    assert len(await recorded(audit_sessions)) == 1


async def test_in_another_database_the_record_follows_the_committed_action(
    identity: Identity,
    audit_sessions: async_sessionmaker[AsyncSession],
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    trail = AuditTrail(audit_sessions, database_url=identity.database_url)
    actions = trail.alongside(database_url)

    async with sessions() as session, session.begin():
        pending = actions.add(
            session,
            tenant_id="tenant-a",
            actor="system:retention",
            at=T0,
            action="text_deleted_after_retention",
            target="tenant:tenant-a",
            details={"records": 2},
        )
    assert await recorded(audit_sessions) == []  # nothing before the action has committed

    await pending.committed()
    assert await recorded(audit_sessions) == [
        ("system:retention", "text_deleted_after_retention", "tenant:tenant-a")
    ]
