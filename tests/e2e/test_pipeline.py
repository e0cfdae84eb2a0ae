"""The product end to end: four processes, real Kafka, a database, a webhook pager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from demo import SCRIPTS, Pager, build_events  # deploy/demo/demo.py
from tests.e2e.conftest import Stack, run_id, wait_until

pytestmark = pytest.mark.e2e


async def post(client: httpx.AsyncClient, stack: Stack, events: list[dict[str, Any]]) -> None:
    for e in events:
        r = await client.post(f"{stack.url('ingest')}/v1/events", json=e)
        assert r.status_code == 202, r.text


async def test_the_demo_story_reaches_a_clinician_and_the_ordinary_chat_does_not(
    stack: Stack, pager: Pager, reader: Any
) -> None:
    rid, start = run_id(), datetime.now(UTC) - timedelta(minutes=30)
    convs = {name: build_events(name, rid, start) for name in SCRIPTS}
    ids = {name: evs[0]["conversation_id"] for name, evs in convs.items()}
    async with httpx.AsyncClient(timeout=10, auth=stack.auth()) as client:
        for name in ("rupture", "crisis", "ordinary"):
            await post(client, stack, convs[name])
        await wait_until(
            lambda: pager.for_conversation(ids["rupture"]) and pager.for_conversation(ids["crisis"])
        )
        control = await reader(f"{stack.prefix}conversation.control")
        await control.wait_for(lambda v: any(c["conversation_id"] == ids["crisis"] for c in v))
        alerts = await (await reader(f"{stack.prefix}alerts")).settle(3.0)
        incidents = (await client.get(f"{stack.url('escalation')}/v1/incidents")).json()

    alerted = {a["conversation_id"] for a in alerts}
    assert ids["rupture"] in alerted and ids["crisis"] in alerted
    assert ids["ordinary"] not in alerted
    assert not pager.for_conversation(ids["ordinary"])
    crisis_pages = [page for _, page in pager.for_conversation(ids["crisis"])]
    assert crisis_pages[0]["severity"] == "critical" and crisis_pages[0]["alert_kind"] == "crisis"
    assert [c["action"] for c in control.values if c["conversation_id"] == ids["crisis"]] == [
        "pause_ai"
    ]
    rupture = next(
        a for a in alerts if a["conversation_id"] == ids["rupture"] and a["kind"] == "rupture"
    )
    assert rupture["triggering_turn"]["excerpt"].startswith("Many people find it helpful")
    assert {i["conversation_id"] for i in incidents} == {ids["rupture"], ids["crisis"]}

    # Nothing a client or the AI said appears in any service's logs.
    said = [e["text"] for evs in convs.values() for e in evs if e["type"] == "message_sent"]
    for service in ("ingest", "classifier", "router", "escalation"):
        logs = stack.log_text(service)
        leaked = [t for t in said if len(t) > 12 and t in logs]
        assert not leaked, f"{service} logged conversation text: {leaked[:1]}"


async def test_bad_input_gets_422_and_a_dead_letter_and_the_pipeline_keeps_going(
    stack: Stack, pager: Pager, reader: Any, producer: Any
) -> None:
    rid, start = run_id(), datetime.now(UTC) - timedelta(minutes=5)
    crisis = build_events("crisis", rid, start)
    bad = dict(crisis[1], sender="robot")
    async with httpx.AsyncClient(timeout=10, auth=stack.auth()) as client:
        r = await client.post(f"{stack.url('ingest')}/v1/events", json=[bad, crisis[0]])
        assert r.status_code == 422
        assert r.json()["rejected"] == [
            {"index": 0, "event_id": bad["event_id"], "reason": "invalid_event",
             "errors": [{"field": "sender",
                         "reason": "Input should be 'client', 'ai' or 'clinician'"}]}
        ]  # fmt: skip
        assert r.json()["accepted"] == [crisis[0]["event_id"]]
        await producer.send_and_wait(
            f"{stack.prefix}conversation.raw", b"not json at all", key=b"x"
        )
        dlq = await (await reader(f"{stack.prefix}conversation.events.dlq")).wait_for(
            lambda v: len(v) == 1
        )
        assert dlq[0]["reason"] == "invalid_json"
        await post(client, stack, crisis[1:])
        await wait_until(lambda: pager.for_conversation(crisis[0]["conversation_id"]))


async def test_a_duplicate_event_does_not_alert_twice(
    stack: Stack, pager: Pager, reader: Any
) -> None:
    rid, start = run_id(), datetime.now(UTC) - timedelta(minutes=5)
    events = build_events("crisis", rid, start)[:5]  # up to the first crisis message
    cid = events[0]["conversation_id"]
    async with httpx.AsyncClient(timeout=10, auth=stack.auth()) as client:
        await post(client, stack, events)
        r = await client.post(f"{stack.url('ingest')}/v1/events", json=events[-1])
        assert r.json()["duplicates"] == [events[-1]["event_id"]]
        await wait_until(lambda: pager.for_conversation(cid))
        alerts = await (await reader(f"{stack.prefix}alerts")).settle(3.0)
    assert len([a for a in alerts if a["conversation_id"] == cid]) == 1
    assert len(pager.for_conversation(cid)) == 1


@pytest.mark.parametrize("service", ["classifier", "router"])
async def test_a_service_restarted_mid_conversation_still_alerts(
    stack: Stack, pager: Pager, reader: Any, service: str
) -> None:
    rid, start = run_id(), datetime.now(UTC) - timedelta(minutes=30)
    events = build_events("rupture", rid, start)
    cid = events[0]["conversation_id"]
    # Up to the client's rejection of the support group; then the service restarts.
    cut = (
        next(i for i, e in enumerate(events) if e.get("text", "").startswith("That's not helpful"))
        + 1
    )
    assessments = await reader(f"{stack.prefix}rupture.assessments")
    async with httpx.AsyncClient(timeout=10, auth=stack.auth()) as client:
        await post(client, stack, events[:cut])
        await assessments.wait_for(lambda v: sum(a["conversation_id"] == cid for a in v) >= 4)
        await stack.restart(service)
        await post(client, stack, events[cut:])
        await wait_until(lambda: pager.for_conversation(cid))
        alerts = await (await reader(f"{stack.prefix}alerts")).settle(3.0)
    firing = [a for a in alerts if a["conversation_id"] == cid and a["status"] == "firing"]
    kinds = [a["kind"] for a in firing]
    assert "rupture" in kinds
    assert len(kinds) == len(set(kinds)), f"an alert fired twice across the restart: {kinds}"
