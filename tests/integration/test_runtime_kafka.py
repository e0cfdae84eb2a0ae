"""The shared producer on the real broker: many records in one call keep each key's order;
`publish_all` writes what FastStream's own publish writes."""

from __future__ import annotations

import json
from typing import Any

from faststream.kafka import KafkaBroker

from attune_runtime import tracing
from attune_runtime.kafka import (
    ManagedProducer,
    OutRecord,
    broker_producer,
    publish_all,
    send_records,
)
from attune_runtime.settings import ServiceSettings
from attune_schemas import encode
from tests.factories import Script


async def test_records_sent_together_keep_the_partition_and_order_of_their_key(
    bootstrap: str, prefix: str, reader: Any
) -> None:
    topic = f"{prefix}conversation.events"
    producer = ManagedProducer(ServiceSettings(kafka_bootstrap_servers=bootstrap), service="t")
    await producer.start()
    try:
        keys = [f"c-{i}".encode() for i in range(40)]
        # One record per key alone (the partitioner of `send`), then many per key in one call.
        singles = [await send_records(producer, [OutRecord(topic, k, b"{}")]) for k in keys]
        batch = [
            OutRecord(topic, k, json.dumps({"n": n}).encode(), (("event_type", b"x"),))
            for n in range(30)
            for k in keys
        ]
        outcomes = await send_records(producer, batch)
    finally:
        await producer.stop()

    assert all(o == [None] for o in singles) and outcomes == [None] * len(batch)
    topic_reader = await reader(topic)
    await topic_reader.wait_for(lambda v: len(v) == len(keys) + len(batch))
    records = topic_reader.records
    partition_of = {r.key: r.partition for r in records if r.value == b"{}"}
    numbers: dict[bytes, list[int]] = {}
    for r in records:
        if r.value != b"{}":
            assert r.partition == partition_of[r.key]
            assert r.headers == (("event_type", b"x"),)
            numbers.setdefault(r.key, []).append(json.loads(r.value)["n"])
    assert numbers == {k: list(range(30)) for k in keys}


async def test_publish_all_writes_the_records_faststream_would(
    bootstrap: str, prefix: str, reader: Any
) -> None:
    """Same key, value and header names in the same order (content type, correlation id,
    event type, trace) as FastStream's publish, so every consumer decodes them alike."""
    topic = f"{prefix}rupture.assessments"
    s = Script("c-headers")
    ours, theirs = s.client("the exam mostly"), s.client("and sleep")
    parent = tracing.start()
    broker = KafkaBroker(bootstrap, acks="all", enable_idempotence=True)
    out = broker.publisher(topic)
    await broker.connect()
    try:
        assert broker_producer(broker) is not None  # the direct path, not the fallback
        await publish_all([(out, ours)], broker=broker, traces={ours.event_id: parent})
        await out.publish(
            encode(theirs),
            key=theirs.conversation_id.encode(),
            headers={"event_type": theirs.type, tracing.TRACEPARENT: tracing.start(parent)},
        )
    finally:
        await broker.stop()
    topic_reader = await reader(topic)
    await topic_reader.wait_for(lambda v: len(v) == 2)
    got = {json.loads(r.value)["event_id"]: r for r in topic_reader.records}
    a, b = got[str(ours.event_id)], got[str(theirs.event_id)]
    assert (a.key, a.value) == (b"c-headers", encode(ours))
    assert [name for name, _ in a.headers] == [name for name, _ in b.headers]
    assert dict(a.headers)["content-type"] == dict(b.headers)["content-type"]
    assert dict(a.headers)["event_type"] == b"message_sent"
    assert tracing.trace_id(dict(a.headers)[tracing.TRACEPARENT].decode()) == tracing.trace_id(
        parent
    )
