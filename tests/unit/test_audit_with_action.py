"""One database for escalation and the audit trail (as compose and the Helm chart deploy them):
a clinician's action and its audit record commit together, or neither does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from attune_auth.db import AuditRecord, make_engine, make_sessions
from attune_auth.principal import Role
from attune_runtime.clock import ManualClock
from tests.factories import alert
from tests.identity import Identity
from tests.unit.escalation_support import Api, running_api

SQLITE = "sqlite+aiosqlite:///"


@pytest.fixture
async def shared(clock: ManualClock, identity: Identity) -> AsyncIterator[Api]:
    """Escalation whose database is the identity database itself."""
    async with running_api(
        Path(identity.database_url.removeprefix(SQLITE)), clock, identity
    ) as api:
        assert api.service.app.state.guard.audit.shares(identity.database_url)
        yield api


async def sql(identity: Identity, statement: str) -> None:
    engine = make_engine(identity.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def actions(identity: Identity) -> list[str]:
    engine = make_engine(identity.database_url)
    try:
        async with make_sessions(engine)() as session:
            return list(await session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))
    finally:
        await engine.dispose()


async def test_an_action_and_its_audit_record_commit_together(
    shared: Api, identity: Identity
) -> None:
    await shared.alert(alert())
    iid = await shared.incident_id()

    r = await shared.http.post(f"/v1/incidents/{iid}/ack", json={"reason": "on call"})

    assert r.status_code == 200
    assert "incident_acknowledge" in await actions(identity)


async def audit_store_fails(identity: Identity) -> None:
    """The audit store refuses every new record (full disk, a lost connection, ...)."""
    await sql(
        identity,
        "CREATE TRIGGER audit_store_fails BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END",
    )


async def test_an_audit_record_that_cannot_be_written_undoes_the_action(
    shared: Api, identity: Identity, clock: ManualClock
) -> None:
    await shared.alert(alert())
    iid = await shared.incident_id()
    await audit_store_fails(identity)
    failing = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=shared.service.app, raise_app_exceptions=False),
        base_url="http://escalation",
        headers=identity.bearer("tenant-a", Role.CLINICIAN, clock),
    )
    async with failing:
        r = await failing.post(f"/v1/incidents/{iid}/ack")
        assert r.status_code == 500
        await sql(identity, "DROP TRIGGER audit_store_fails")
        incident = (await failing.get(f"/v1/incidents/{iid}")).json()

    # Not acknowledged, no clinician named, nothing sent to the integrator, nothing audited.
    assert incident["status"] == "open" and incident["acknowledged_at"] is None
    assert "incident_acknowledge" not in await actions(identity)
    assert all(b"acknowledged" not in m.body for m in shared.controls)

    # Once the store is back, the same action goes through, with its record.
    again = await shared.http.post(f"/v1/incidents/{iid}/ack")
    assert again.status_code == 200 and again.json()["acknowledged_at"] is not None
    assert "incident_acknowledge" in await actions(identity)


async def test_retention_deletes_text_only_together_with_its_audit_record(
    shared: Api, identity: Identity, clock: ManualClock
) -> None:
    await shared.alert(alert())
    iid = await shared.incident_id()
    note = "agreed a check-in"
    resolved = await shared.http.post(
        f"/v1/incidents/{iid}/resolve", json={"outcome": "repaired", "note": note}
    )
    assert resolved.status_code == 200
    clock.advance(timedelta(days=31))
    retention = shared.service.parts.retention
    await audit_store_fails(identity)
    with pytest.raises(IntegrityError):
        await retention.run_once()
    await sql(identity, "DROP TRIGGER audit_store_fails")
    shared.http.headers.update(identity.bearer("tenant-a", Role.CLINICIAN, clock))
    kept = (await shared.http.get(f"/v1/incidents/{iid}")).json()
    assert kept["resolution_note"] == note  # not deleted without its record
    assert "text_deleted_after_retention" not in await actions(identity)

    done = await retention.run_once()
    assert done.notes == 1
    assert "text_deleted_after_retention" in await actions(identity)
