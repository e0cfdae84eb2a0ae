"""The shared producer on the real broker: many records in one call keep each key's order."""

from __future__ import annotations

import json
from typing import Any

from attune_runtime.kafka import ManagedProducer, OutRecord, send_records
from attune_runtime.settings import ServiceSettings


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
