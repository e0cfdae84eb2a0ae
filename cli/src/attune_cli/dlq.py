"""Dead letters for operators: what is on a dead-letter topic, and putting it back after a fix.

`inspect` prints ids, reasons and field errors, never the payload (it holds conversation text).
`redrive` re-publishes each dead letter's original value to its source topic, keyed as before;
consumers deduplicate on `event_id`, so a redrive of something that did get through changes
nothing. The dead-letter topic itself is never changed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from attune_runtime.kafka_client import KafkaClientSettings, kafka_client_options
from attune_schemas import DeadLetter, InvalidMessage, decode
from attune_schemas.topics import ALERTS_DLQ, topic

DEAD_LETTER = topic(ALERTS_DLQ).value  # every dead-letter topic holds DeadLetter records


@dataclass(frozen=True)
class Letter:
    partition: int
    offset: int
    letter: DeadLetter | None  # None: the record on the DLQ is itself unreadable


async def read_letters(kafka: KafkaClientSettings, dlq: str) -> list[Letter]:
    """Every record on `dlq` (cluster name) from the beginning to its current end."""
    consumer = AIOKafkaConsumer(
        **kafka_client_options(kafka), enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(dlq, p) for p in await _partitions(kafka, dlq)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[Letter] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    try:
                        letter: DeadLetter | None = decode(DEAD_LETTER, record.value)
                    except InvalidMessage:
                        letter = None
                    letters.append(Letter(record.partition, record.offset, letter))
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda x: (x.partition, x.offset))


async def _partitions(kafka: KafkaClientSettings, name: str) -> list[int]:
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka))
    await admin.start()
    try:
        for _ in range(20):  # a topic created a moment ago takes a moment to show
            [described] = await admin.describe_topics([name])
            if not described["error_code"] and described["partitions"]:
                return sorted(p["partition"] for p in described["partitions"])
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    raise LookupError(f"no topic {name} on the cluster")


async def redrive(kafka: KafkaClientSettings, letters: list[Letter]) -> int:
    """Publish each letter's original value to its source topic (acks=all); how many."""
    producer = AIOKafkaProducer(**kafka_client_options(kafka), acks="all", enable_idempotence=True)
    await producer.start()
    sent = 0
    try:
        for item in letters:
            if item.letter is None:
                continue
            await producer.send_and_wait(
                item.letter.source_topic,  # the cluster name, prefix included
                item.letter.payload.encode(),
                key=item.letter.key.encode() if item.letter.key is not None else None,
                headers=[("redriven_from", f"{item.partition}:{item.offset}".encode())],
            )
            sent += 1
    finally:
        await producer.stop()
    return sent
