"""Ingest against a real broker: HTTP and Kafka intake, dead letters, duplicates, producer acks."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import AIOKafkaProducer

from tests.factories import event_json
from tests.integration.services import ingest


async def test_http_events_reach_the_topic_keyed_and_in_order(
    bootstrap: str, prefix: str, reader: Any
) -> None:
    events = [event_json(conversation_id="c-order", text=f"message {i}") for i in range(5)]
    async with ingest(bootstrap, prefix) as client:
        r = await client.post("/v1/events", json=events)
        assert r.status_code == 202, r.text
    topic = await reader(f"{prefix}conversation.events")
    await topic.wait_for(lambda v: len(v) == 5)
    assert [v["text"] for v in topic.values] == [f"message {i}" for i in range(5)]
    assert {r.key for r in topic.records} == {b"c-order"}
    assert len({r.partition for r in topic.records}) == 1


async def test_bad_input_is_rejected_and_dead_lettered_while_good_input_flows(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    good = event_json(conversation_id="c-raw")
    bad = dict(event_json(conversation_id="c-raw"), sender="robot")
    async with ingest(bootstrap, prefix) as client:
        r = await client.post("/v1/events", json=bad)
        assert r.status_code == 422
        assert r.json()["rejected"][0]["errors"][0]["field"] == "sender"
        # Integrators publishing straight to Kafka: a poison record first, then a good one.
        await producer.send_and_wait(f"{prefix}conversation.raw", b"{not json", key=b"c-raw")
        await producer.send_and_wait(
            f"{prefix}conversation.raw", json.dumps(bad).encode(), key=b"c-raw"
        )
        await producer.send_and_wait(
            f"{prefix}conversation.raw", json.dumps(good).encode(), key=b"c-raw"
        )
        events = await reader(f"{prefix}conversation.events")
        dlq = await reader(f"{prefix}conversation.events.dlq")
        await events.wait_for(lambda v: any(e["event_id"] == good["event_id"] for e in v))
        letters = await dlq.wait_for(lambda v: len(v) == 2)
    assert [d["reason"] for d in letters] == ["invalid_json", "invalid_event"]
    assert letters[1]["errors"][0]["field"] == "sender"
    assert (
        letters[1]["source_topic"] == f"{prefix}conversation.raw" and letters[1]["key"] == "c-raw"
    )
    assert json.loads(letters[1]["payload"])["event_id"] == bad["event_id"]


async def test_a_duplicate_event_is_published_once(
    bootstrap: str, prefix: str, reader: Any
) -> None:
    event = event_json(conversation_id="c-dup")
    async with ingest(bootstrap, prefix) as client:
        first = await client.post("/v1/events", json=event)
        second = await client.post("/v1/events", json=event)
    assert first.json()["accepted"] == [event["event_id"]]
    assert second.json()["duplicates"] == [event["event_id"]]
    values = await (await reader(f"{prefix}conversation.events")).settle(2.0)
    assert [v["event_id"] for v in values] == [event["event_id"]]


async def test_the_producer_waits_for_all_replicas_and_is_idempotent(
    bootstrap: str, prefix: str
) -> None:
    async with ingest(bootstrap, prefix) as client:
        app = client._transport.app  # type: ignore[attr-defined]
        aio = (
            app.state.service.parts.intake.producer._producer
        )  # the aiokafka producer events go through
        assert aio._txn_manager is not None, "enable_idempotence is off"
        assert aio._sender._acks == -1, "acks is not 'all'"
        r = await client.post("/v1/events", json=event_json(conversation_id="c-acks"))
        assert r.status_code == 202  # and the broker accepted an idempotent, acks=all write
