"""A valid event dated a week ahead, from another tenant, lands on conversation.events (past
ingest, as a misbehaving producer would put it): it is dead-lettered, and the conversations that
share its partition keep their windows and their alerts (issue 7: one such event made every
other conversation look idle).

Two conversations share the partition with it. One has a crisis alert open, which must not
resolve as timed out. The other is mid-screening: the AI has asked about thoughts of ending
one's life, and the client's "yeah a bit", sent after the bad event, is a crisis only if the
window still holds the question.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from demo import Pager  # deploy/demo/demo.py
from tests.e2e.conftest import Stack, run_id, wait_until
from tests.factories import event_json
from tests.faults.integrators import (
    Integrators,
    conversation_id,
    demo_on_partition,
    on_partition,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]


def screening(conversation_id: str, start: datetime) -> list[dict[str, Any]]:
    """The AI asks a risk question; the last event is the client's yes."""
    turns = [
        ("ai", "Hi Alex, how has your week been?"),
        ("client", "Pretty heavy. Work has been a lot and I have not been sleeping well."),
        ("ai", "I'm sorry it has been so heavy. Are you having any thoughts of ending your life?"),
        ("client", "yeah a bit"),
    ]
    return [
        event_json(
            conversation_id=conversation_id,
            at=start + timedelta(seconds=30 * n),
            sender=sender,
            text=text,
            message_id=f"m{n}",
        )
        for n, (sender, text) in enumerate(turns)
    ]


def firing(alerts: list[dict[str, Any]], cid: str, kind: str = "crisis") -> bool:
    return any(
        a["conversation_id"] == cid and a["kind"] == kind and a["status"] == "firing"
        for a in alerts
    )


async def test_a_week_ahead_event_is_dead_lettered_and_moves_no_other_conversation(
    stack: Stack, pager: Pager, reader: Any, producer: AIOKafkaProducer
) -> None:
    run, start = run_id(), datetime.now(UTC) - timedelta(minutes=10)
    crisis = demo_on_partition("crisis", run, start, partition=0)
    open_alert = conversation_id(crisis)
    asked, rogue = on_partition(f"screening-{run}", 0, 1) + on_partition(f"rogue-{run}", 0, 1)
    screen = screening(asked, start)
    ahead = event_json(
        conversation_id=rogue,
        tenant_id="another-clinic",
        at=datetime.now(UTC) + timedelta(days=7),
        text="checking in",
    )
    integrators = Integrators(stack.url("ingest"), stack.auth())
    alerts = await reader(f"{stack.prefix}alerts")
    dlq = await reader(f"{stack.prefix}conversation.events.dlq")

    async with httpx.AsyncClient(auth=stack.auth()) as client:
        for event in crisis + screen[:-1]:
            await integrators.send(client, event)
        await alerts.wait_for(lambda v: firing(v, open_alert))
        await producer.send_and_wait(
            f"{stack.prefix}conversation.events", json.dumps(ahead).encode(), key=rogue.encode()
        )
        letters = await dlq.wait_for(lambda v: any(d["key"] == rogue for d in v))
        await integrators.send(client, screen[-1])
    await alerts.wait_for(lambda v: firing(v, asked))
    await wait_until(lambda: pager.for_conversation(asked))
    values = await alerts.settle(3.0)

    [letter] = [d for d in letters if d["key"] == rogue]
    assert (letter["service"], letter["reason"]) == ("classifier", "occurred_in_future")
    assert json.loads(letter["payload"])["event_id"] == ahead["event_id"]
    mine = [a for a in values if a["conversation_id"] in (open_alert, asked, rogue)]
    assert not [a for a in mine if a["status"] == "resolved"], "an open alert was timed out"
    assert not [a for a in mine if a["conversation_id"] == rogue]
    assert any(
        a["conversation_id"] == asked and "suicidal_ideation" in a["crisis_categories"]
        for a in mine
    )
