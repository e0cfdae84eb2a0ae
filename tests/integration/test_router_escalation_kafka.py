"""Router and escalation against a real broker and a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from attune_escalation.migrate import upgrade_async
from attune_runtime import tracing
from attune_schemas import AlertKind, Severity, encode
from tests.factories import T0, alert, assessment
from tests.integration.services import escalation, router

pytestmark = pytest.mark.integration


async def test_router_fires_once_for_duplicates_and_does_not_refire_after_restart(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    topic = f"{prefix}rupture.assessments"
    first = assessment(conversation_id="c-r", rupture=0.97, markers=("rejecting_intervention",))
    async with router(bootstrap, prefix):
        for _ in range(2):  # redelivered: the same assessment twice
            await producer.send_and_wait(topic, encode(first), key=b"c-r")
        alerts = await reader(f"{prefix}alerts")
        await alerts.wait_for(lambda v: len(v) >= 1)
        assert len(await alerts.settle(1.5)) == 1
    # Restart: the open alert is rebuilt from the topic, so more high risk does not re-fire.
    async with router(bootstrap, prefix) as svc:
        later = assessment(conversation_id="c-r", rupture=0.95, at=T0.replace(minute=5))
        await producer.send_and_wait(topic, encode(later), key=b"c-r")
        await asyncio.sleep(0.5)
        values = await alerts.settle(2.0)
        assert svc.parts.warm_up is not None and svc.parts.warm_up.replayed == 2
    assert len(values) == 1 and values[0]["status"] == "firing"


async def test_an_alert_opens_one_incident_and_the_outbox_reaches_kafka(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer, database_url: str
) -> None:
    await upgrade_async(database_url)
    crisis = alert(conversation_id="c-e", kind=AlertKind.CRISIS, severity=Severity.CRITICAL)
    traceparent = tracing.start()
    async with escalation(bootstrap, prefix, database_url, console_notifications=False) as (
        _,
        client,
    ):
        for _ in range(2):  # duplicate delivery
            await producer.send_and_wait(
                f"{prefix}alerts",
                encode(crisis),
                key=b"c-e",
                headers=[(tracing.TRACEPARENT, traceparent.encode())],
            )
        control = await reader(f"{prefix}conversation.control")
        audit = await reader(f"{prefix}escalation.events")
        await control.wait_for(lambda v: [c["action"] for c in v] == ["pause_ai"])
        await audit.wait_for(lambda v: any(e["action"] == "opened" for e in v))
        incidents = (await client.get("/v1/incidents")).json()
        assert len(incidents) == 1 and incidents[0]["severity"] == "critical"
        iid = incidents[0]["id"]
        assert (await client.post(f"/v1/incidents/{iid}/join")).status_code == 200
        r = await client.post(f"/v1/incidents/{iid}/resolve", json={"outcome": "client_safe"})
        assert r.status_code == 200 and r.json()["status"] == "resolved"
        actions = await control.wait_for(lambda v: len(v) == 3)
        trail = await audit.wait_for(lambda v: any(e["action"] == "resolved" for e in v))
    assert [c["action"] for c in actions] == ["pause_ai", "clinician_joining", "resume_ai"]
    assert all(c["incident_id"] == iid for c in actions)
    assert [e["action"] for e in trail if e["action"] != "notified"] == [
        "opened", "escalated", "acknowledged", "joined", "resolved",
    ]  # fmt: skip
    assert len({e["event_id"] for e in trail}) == len(trail)
    # The alert's trace reached Kafka through the outbox (its traceparent column) on the
    # records written with it; a clinician's actions are no part of it.
    traces = {
        json.loads(r.value)["action"]: tracing.trace_id(tracing.from_headers(r.headers))
        for r in control.records + audit.records
    }
    alert_trace = tracing.trace_id(traceparent)
    assert traces["pause_ai"] == traces["opened"] == traces["escalated"] == alert_trace
    assert traces["clinician_joining"] is None and traces["resolved"] is None


async def test_a_future_dated_alert_is_dead_lettered_and_the_next_one_opens_the_incident(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'escalation.db'}"
    await upgrade_async(database_url)
    now = datetime.now(UTC)
    ahead = alert(conversation_id="c-t", at=now + timedelta(days=7))
    on_time = alert(conversation_id="c-t", at=now)
    async with escalation(bootstrap, prefix, database_url, console_notifications=False) as (
        _,
        client,
    ):
        for a in (ahead, on_time):
            await producer.send_and_wait(f"{prefix}alerts", encode(a), key=b"c-t")
        dlq = await reader(f"{prefix}alerts.dlq")
        [letter] = await dlq.wait_for(lambda v: len(v) >= 1)
        audit = await reader(f"{prefix}escalation.events")
        await audit.wait_for(lambda v: any(e["action"] == "opened" for e in v))
        [incident] = (await client.get("/v1/incidents")).json()
    assert (letter["reason"], letter["key"]) == ("occurred_in_future", "c-t")
    assert letter["errors"] == [
        {"field": "occurred_at", "reason": "more than 300 s ahead of the receiver's clock"}
    ]
    assert json.loads(letter["payload"])["event_id"] == str(ahead.event_id)
    assert incident["conversation_id"] == "c-t"


@pytest.mark.parametrize(
    ("note", "status"),
    [
        ("Safety plan agreed.\nCalls her sister\ttonight \U0001f49c \x01", 200),
        ("\u00e9" * 4000, 200),
        ("before\x00after", 422),  # PostgreSQL text cannot hold NUL: refused by the contract
    ],
    ids=["mixed", "at-limit", "nul"],
)
async def test_any_note_the_contract_allows_is_stored_and_read_back(
    bootstrap: str,
    prefix: str,
    producer: AIOKafkaProducer,
    database_url: str,
    note: str,
    status: int,
) -> None:
    await upgrade_async(database_url)
    a = alert(conversation_id="c-n")
    async with escalation(bootstrap, prefix, database_url, console_notifications=False) as (
        _,
        client,
    ):
        await producer.send_and_wait(f"{prefix}alerts", encode(a), key=b"c-n")
        for _ in range(300):
            if listed := (await client.get("/v1/incidents")).json():
                break
            await asyncio.sleep(0.1)
        iid = listed[0]["id"]
        body = {"outcome": "client_safe", "note": note}
        resolved = await client.post(f"/v1/incidents/{iid}/resolve", json=body)
        stored = (await client.get(f"/v1/incidents/{iid}")).json()
    assert resolved.status_code == status
    assert stored["resolution_note"] == (note if status == 200 else None)
