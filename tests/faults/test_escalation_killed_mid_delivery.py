"""Escalation killed (kill -9) while a slow pager holds its webhook: the page comes again after
the restart with the same idempotency key, so the receiver keeps one. Two deliveries of one key,
no more: one per life of the sender. The escalation process and the receiver are the
integration tier's helpers (tests/integration), on the shared broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from attune_escalation.notify import notification_key
from attune_schemas import AlertKind, Severity, encode
from tests.factories import alert
from tests.integration.escalation_process import EscalationProcess
from tests.integration.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start()
    yield r
    r.stop()


@pytest.fixture
async def process(
    bootstrap: str, tmp_path: Path, receiver: WebhookReceiver
) -> AsyncIterator[EscalationProcess]:
    p = EscalationProcess(
        bootstrap,
        tmp_path,
        settings={
            "ATTUNE_ESCALATION_CHANNELS": json.dumps(
                {"pager": {"type": "webhook", "url": receiver.url}}
            ),
            "ATTUNE_ESCALATION_CONSOLE_NOTIFICATIONS": "false",
            # Longer than the test: the first attempt is still waiting when the process dies.
            "ATTUNE_ESCALATION_WEBHOOK_TIMEOUT_SECONDS": "300",
        },
    )
    try:
        yield p
    finally:
        p.stop()
        await p.delete_topics()


async def incident_sent(process: EscalationProcess) -> list[str]:
    """Timeline actions of the one incident, once its notification is recorded as sent."""
    async with httpx.AsyncClient(base_url=process.url, headers=process.headers) as client:
        for _ in range(300):
            [summary] = (await client.get("/v1/incidents")).json() or [None]
            if summary:
                body = (await client.get(f"/v1/incidents/{summary['id']}")).json()
                actions = [e["action"] for e in body["timeline"]]
                if "notified" in actions:
                    return actions
            await asyncio.sleep(0.1)
    raise AssertionError(f"never notified\n{process.tail()}")


async def test_killed_mid_delivery_the_receiver_sees_the_same_key_twice_and_keeps_one(
    process: EscalationProcess, receiver: WebhookReceiver, producer: AIOKafkaProducer
) -> None:
    await process.start()
    crisis = alert(conversation_id="c-kill", kind=AlertKind.CRISIS, severity=Severity.CRITICAL)
    receiver.hold()
    await producer.send_and_wait(f"{process.prefix}alerts", encode(crisis), key=b"c-kill")
    await asyncio.to_thread(receiver.wait_for, 1)  # the page is in flight, the pager is slow

    process.kill()
    receiver.release()
    await process.start()
    await asyncio.to_thread(receiver.wait_for, 2)
    actions = await incident_sent(process)

    first, second = receiver.deliveries
    key = first.body["idempotency_key"]
    incident_id = first.body["incident_id"]
    first_page = f"page:0:0:{crisis.event_id}"  # tier 1 of the incident this alert opened
    assert key == notification_key(incident_id=incident_id, channel="pager", reason=first_page)
    assert first.header_key == second.header_key == second.body["idempotency_key"] == key
    assert first.body == second.body
    assert list(receiver.unique()) == [key]
    assert actions == ["opened", "escalated", "notified"]
