"""The audit trail on a real database: appends work, nothing rewrites or removes a record,
not even SQL sent past the application (a trigger on PostgreSQL and on SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update

from attune_auth.audit import AppendOnly, AuditTrail
from attune_auth.db import AuditRecord, make_engine, make_sessions
from attune_auth.migrate import upgrade_async
from attune_auth.principal import Principal, Role
from tests.factories import T0

pytestmark = pytest.mark.integration

WHO = Principal("tenant-a", "clinician@tenant-a", Role.CLINICIAN, "token")


async def test_the_audit_trail_is_append_only(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    trail = AuditTrail(sessions)
    try:
        for action in ("incident_read", "incident_acknowledge"):
            await trail.append(WHO, at=T0, action=action, target="incident:1", source="10.0.0.1")

        async with sessions() as session:
            [first, _] = await session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            first.actor = "user:someone-else"
            with pytest.raises(AppendOnly):
                await session.flush()
        for statement in (update(AuditRecord).values(action="x"), delete(AuditRecord)):
            async with sessions() as session:
                with pytest.raises(AppendOnly):
                    await session.execute(statement)
        raw = ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"]
        if engine.dialect.name == "postgresql":
            raw.append("TRUNCATE audit_log")
        for sql in raw:
            async with engine.connect() as conn:
                with pytest.raises(Exception, match="append-only"):
                    await conn.execute(text(sql))
                await conn.rollback()

        exported = await trail.export(tenant_id="tenant-a")
        async with sessions() as session:
            total = await session.scalar(select(func.count()).select_from(AuditRecord))
    finally:
        await engine.dispose()
    assert total == 2
    assert [(r.action, r.actor, r.source) for r in exported] == [
        ("incident_read", "user:clinician@tenant-a", "10.0.0.1"),
        ("incident_acknowledge", "user:clinician@tenant-a", "10.0.0.1"),
    ]
