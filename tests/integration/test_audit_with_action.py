"""Escalation on the identity database (one PostgreSQL, as compose deploys it; SQLite too):
a clinician's action commits with its audit record or not at all, on the real database."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, text

from attune_auth.db import AuditRecord, make_engine, make_sessions
from attune_auth.migrate import upgrade_async as upgrade_identity
from attune_escalation.migrate import upgrade_async
from attune_schemas import encode
from tests.factories import alert
from tests.identity import Identity
from tests.integration.services import escalation

pytestmark = pytest.mark.integration

FAIL = {
    "sqlite": [
        "CREATE TRIGGER audit_store_fails BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION audit_store_fails() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'audit store unavailable'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_store_fails BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_store_fails()",
    ],
}
RECOVER = {
    "sqlite": ["DROP TRIGGER audit_store_fails"],
    "postgresql": [
        "DROP TRIGGER audit_store_fails ON audit_log",
        "DROP FUNCTION audit_store_fails()",
    ],
}


async def run_sql(database_url: str, statements: dict[str, list[str]]) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            for statement in statements[engine.dialect.name]:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def actions(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session:
            return list(await session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))
    finally:
        await engine.dispose()


async def test_an_action_is_rolled_back_when_its_audit_record_cannot_be_written(
    bootstrap: str, prefix: str, producer: AIOKafkaProducer, database_url: str
) -> None:
    await upgrade_async(database_url)
    await upgrade_identity(database_url)
    one_database = Identity(database_url)  # escalation's database is the identity database
    async with escalation(
        bootstrap, prefix, database_url, identity=one_database, console_notifications=False
    ) as (service, client):
        assert service.app.state.guard.audit.shares(database_url)
        await producer.send_and_wait(
            f"{prefix}alerts", encode(alert(conversation_id="c-aud")), key=b"c-aud"
        )
        for _ in range(100):
            if listed := (await client.get("/v1/incidents")).json():
                break
            await asyncio.sleep(0.1)
        iid = listed[0]["id"]

        await run_sql(database_url, FAIL)
        failed = await client.post(f"/v1/incidents/{iid}/ack")
        await run_sql(database_url, RECOVER)
        after_failure = (await client.get(f"/v1/incidents/{iid}")).json()
        acked = await client.post(f"/v1/incidents/{iid}/ack")

    assert failed.status_code == 500
    assert after_failure["status"] == "open" and after_failure["acknowledged_at"] is None
    assert acked.status_code == 200 and acked.json()["acknowledged_at"] is not None
    assert (await actions(database_url)).count("incident_acknowledge") == 1
