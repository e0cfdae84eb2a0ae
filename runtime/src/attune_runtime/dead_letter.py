"""Poison records go to the dead-letter topic with the reason; the partition keeps moving."""

from __future__ import annotations

from typing import Any

import structlog
from faststream.kafka import KafkaBroker

from attune_runtime.clock import Clock
from attune_schemas import DeadLetter, InvalidMessage

log = structlog.get_logger(__name__)

# Enough of the record to see what was wrong with it, not a copy of a conversation: dead
# letters are read by operators, and the topic keeps them a week (topic table).
MAX_PAYLOAD_CHARS = 4_000


async def dead_letter(
    broker: KafkaBroker,
    *,
    dlq_topic: str,
    record: Any,
    error: InvalidMessage,
    service: str,
    clock: Clock,
) -> DeadLetter:
    """Publish `record` (an aiokafka ConsumerRecord) to `dlq_topic` and wait for the ack."""
    key = record.key.decode(errors="replace") if isinstance(record.key, bytes) else None
    value = record.value if isinstance(record.value, bytes) else b""
    letter = DeadLetter(
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        key=key,
        failed_at=clock.now(),
        service=service,
        reason=error.reason,
        errors=error.errors,
        payload=value.decode(errors="replace")[:MAX_PAYLOAD_CHARS],
    )
    await broker.publish(
        letter.model_dump_json().encode(),
        topic=dlq_topic,
        key=record.key if isinstance(record.key, bytes) else None,
        headers={"event_type": "dead_letter", "reason": error.reason},
    )
    log.warning(
        "dead_lettered",
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        reason=error.reason,
        fields=[e.field for e in error.errors],
    )
    return letter
