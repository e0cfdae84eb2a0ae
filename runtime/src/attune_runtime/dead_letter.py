"""Poison records go to the dead-letter topic with the reason; the partition keeps moving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher

from attune_runtime import tracing
from attune_runtime.channels import publisher
from attune_runtime.clock import Clock
from attune_runtime.settings import ServiceSettings
from attune_schemas import DeadLetter, InvalidMessage

log = structlog.get_logger(__name__)

# Enough of the record to see what was wrong with it, not a copy of a conversation: dead
# letters are read by operators, and their topic expires them.
MAX_PAYLOAD_CHARS = 4_000
T = TypeVar("T")


def _ignore(error: InvalidMessage) -> None:
    pass


@dataclass
class DeadLetters:
    """One service's dead-letter topic: where its poison records go, and what it counts."""

    publisher: DefaultPublisher
    service: str
    clock: Clock
    # Called before each record is dead-lettered: the service's own counters by reason.
    on_reject: Callable[[InvalidMessage], None] = _ignore

    @classmethod
    def to(
        cls,
        broker: KafkaBroker,
        settings: ServiceSettings,
        dlq: str,
        *,
        service: str,
        clock: Clock,
        on_reject: Callable[[InvalidMessage], None] = _ignore,
    ) -> DeadLetters:
        """Dead letters on topic `dlq` of the topic table (prefixed), documented in AsyncAPI."""
        return cls(publisher(broker, settings, dlq), service, clock, on_reject)

    async def send(self, record: Any, error: InvalidMessage) -> DeadLetter:
        self.on_reject(error)
        return await dead_letter(
            self.publisher, record=record, error=error, service=self.service, clock=self.clock
        )


async def decode_or_dead_letter(
    record: Any, decode: Callable[[Any], T], dead_letters: DeadLetters
) -> T | None:
    """`decode(record)`, or None once the record is dead-lettered with the reason it raised.

    `decode` raises InvalidMessage for a record that can never succeed (malformed, out of
    bounds); anything else it raises propagates, so the record is retried.
    """
    try:
        return decode(record)
    except InvalidMessage as exc:
        await dead_letters.send(record, exc)
        return None


async def dead_letter(
    publisher: DefaultPublisher,
    *,
    record: Any,
    error: InvalidMessage,
    service: str,
    clock: Clock,
) -> DeadLetter:
    """Publish `record` (an aiokafka ConsumerRecord) to the dead-letter topic; wait for the ack."""
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
    # The dead letter continues the trace of the record it holds (each record of a batch its own).
    traceparent = tracing.next_hop(tracing.from_headers(getattr(record, "headers", None)))
    headers = {"event_type": "dead_letter", "reason": error.reason}
    if traceparent is not None:
        headers[tracing.TRACEPARENT] = traceparent
    await publisher.publish(
        letter.model_dump_json().encode(),
        key=record.key if isinstance(record.key, bytes) else None,
        headers=headers,
    )
    log.warning(
        "dead_lettered",
        trace_id=tracing.trace_id(traceparent),
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        reason=error.reason,
        fields=[e.field for e in error.errors],
    )
    return letter
