"""Ingest on the real broker: poison never blocks a partition, dedup survives a restart."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from attune_ingest.settings import IngestSettings
from attune_runtime.kafka import ManagedProducer
from tests.factories import event_json
from tests.integration.services import ingest

KEY = b"c-poison"


def now_event(**fields: Any) -> dict[str, Any]:
    return event_json(conversation_id=KEY.decode(), at=datetime.now(UTC), **fields)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


POISON: list[tuple[str, bytes | None, str]] = [
    ("malformed JSON", b'{"event_id": ', "invalid_json"),
    ("wrong types", dumps(now_event(type="feedback_submitted", rating="five")), "invalid_event"),
    ("unknown type", dumps(now_event(type="session_paused")), "invalid_event"),
    ("text over the model's limit", dumps(now_event(text="x" * 20_000)), "invalid_event"),
    ("record over the size limit", dumps(now_event(text="x" * 300_000)), "too_large"),
    ("not UTF-8", b'{"text": "caf\xe9"}', "invalid_utf8"),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "too_deep"),
    ("huge integer", b'{"rating": ' + b"9" * 5000 + b"}", "invalid_number"),
    ("NaN", b'{"rating": NaN}', "invalid_number"),
    ("dated a week ahead", b"", "occurred_in_future"),  # value built in the test
    ("tombstone", None, "tombstone"),
]


async def test_every_kind_of_poison_is_dead_lettered_and_the_next_record_passes(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    raw_topic = f"{prefix}conversation.raw"
    goods = []
    async with ingest(bootstrap, prefix):
        for name, value, _ in POISON:
            if name == "dated a week ahead":
                value = dumps(event_json(at=datetime.now(UTC) + timedelta(days=7)))
            good = now_event(text=f"after {name}")
            goods.append(good)
            await producer.send_and_wait(raw_topic, value, key=KEY)
            await producer.send_and_wait(raw_topic, dumps(good), key=KEY)
        events = await reader(f"{prefix}conversation.events")
        dlq = await reader(f"{prefix}conversation.events.dlq")
        await events.wait_for(lambda v: len(v) == len(goods))
        letters = await dlq.wait_for(lambda v: len(v) == len(POISON))

    assert [v["event_id"] for v in events.values] == [g["event_id"] for g in goods]
    assert [letter["reason"] for letter in letters] == [reason for _, _, reason in POISON]
    assert all(letter["errors"] and letter["key"] == KEY.decode() for letter in letters)
    assert {r.partition for r in events.records} == {r.partition for r in dlq.records}


class FailsFor:
    """A producer that always fails for one conversation: a record no retry can fix."""

    def __init__(self, inner: ManagedProducer, key: bytes) -> None:
        self.inner, self.key = inner, key

    async def send(
        self, topic: str, value: bytes, key: bytes, *, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        if key == self.key:
            raise RuntimeError("cannot publish this one")
        return await self.inner.send(topic, value, key, headers=headers)


async def test_a_record_that_fails_every_time_is_dead_lettered_after_retries(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    real = ManagedProducer(IngestSettings(kafka_bootstrap_servers=bootstrap), service="test")
    await real.start()
    stuck, after = event_json(conversation_id="c-stuck"), event_json(conversation_id="c-next")
    try:
        async with ingest(
            bootstrap, prefix, producer=FailsFor(real, b"c-stuck"), retry_max_failures=3
        ):
            # Same partition for both keys is not needed: the partition of c-stuck must move.
            await producer.send_and_wait(f"{prefix}conversation.raw", dumps(stuck), key=b"c-stuck")
            await producer.send_and_wait(f"{prefix}conversation.raw", dumps(after), key=b"c-stuck")
            dlq = await reader(f"{prefix}conversation.events.dlq")
            [letter] = await dlq.wait_for(lambda v: len(v) == 1)
            events = await reader(f"{prefix}conversation.events")
            await events.wait_for(lambda v: len(v) == 1)
    finally:
        await real.stop()

    assert letter["reason"] == "poison_after_retries"
    assert letter["errors"] == [{"field": "(record)", "reason": "failed 3 times: RuntimeError"}]
    assert json.loads(letter["payload"])["event_id"] == stuck["event_id"]
    assert events.values[0]["event_id"] == after["event_id"]


async def test_dedup_is_rebuilt_from_the_topic_so_a_restart_does_not_republish(
    bootstrap: str, prefix: str, reader: Any
) -> None:
    sent = [event_json(conversation_id=f"c-restart-{i}") for i in range(4)]
    async with ingest(bootstrap, prefix) as client:
        first = await client.post("/v1/events", json=sent)
    assert first.status_code == 202

    async with ingest(bootstrap, prefix) as client:  # a fresh process: empty memory
        fresh = event_json(conversation_id="c-restart-new")
        again = await client.post("/v1/events", json=[*sent, fresh])
        app = client._transport.app  # type: ignore[attr-defined]
        rebuilt = len(app.state.service.parts.seen)

    assert rebuilt >= len(sent)
    assert again.json()["duplicates"] == [e["event_id"] for e in sent]
    assert again.json()["accepted"] == [fresh["event_id"]]
    values = await (await reader(f"{prefix}conversation.events")).settle(2.0)
    assert sorted(v["event_id"] for v in values) == sorted(e["event_id"] for e in [*sent, fresh])
