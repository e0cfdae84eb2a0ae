"""Validate, deduplicate and publish conversation events; shared by HTTP and Kafka intake."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import structlog
from faststream.kafka import KafkaBroker

from attune_ingest.metrics import IngestMetrics
from attune_runtime.dedup import SeenIds
from attune_runtime.kafka import publish_all
from attune_schemas import (
    ConversationEvent,
    FieldError,
    InvalidMessage,
    conversation_event_adapter,
    decode,
)

log = structlog.get_logger(__name__)

Channel = Literal["http", "kafka"]


@dataclass(frozen=True)
class Rejection:
    index: int
    event_id: str | None
    reason: str
    errors: tuple[FieldError, ...]


@dataclass
class IntakeResult:
    accepted: list[UUID] = field(default_factory=list)
    duplicates: list[UUID] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def _claimed_event_id(item: Any) -> str | None:
    """The event_id the sender meant, if any, so a rejection can name it."""
    if isinstance(item, dict):
        value = item.get("event_id")
        if isinstance(value, str) and len(value) <= 64:
            return value
    return None


class Intake:
    def __init__(
        self, *, broker: KafkaBroker, seen: SeenIds, metrics: IngestMetrics, topic: str
    ) -> None:
        self.broker = broker
        self.topic = topic
        self.seen = seen
        self.metrics = metrics

    def validate(
        self, items: list[Any]
    ) -> tuple[list[tuple[int, ConversationEvent]], list[Rejection]]:
        valid: list[tuple[int, ConversationEvent]] = []
        rejected: list[Rejection] = []
        for index, item in enumerate(items):
            try:
                valid.append((index, decode(conversation_event_adapter, item)))
            except InvalidMessage as exc:
                rejected.append(Rejection(index, _claimed_event_id(item), exc.reason, exc.errors))
        return valid, rejected

    async def submit(self, items: list[Any], *, channel: Channel) -> IntakeResult:
        valid, rejected = self.validate(items)
        result = IntakeResult(rejected=rejected)
        for r in rejected:
            self.metrics.rejected.labels(channel, r.reason).inc()
        await self.publish([e for _, e in valid], channel=channel, result=result)
        return result

    async def publish(
        self, events: list[ConversationEvent], *, channel: Channel, result: IntakeResult
    ) -> None:
        """Publish events not seen inside the dedup window; raise if the broker does not ack."""
        fresh: list[ConversationEvent] = []
        for event in events:
            if event.event_id in self.seen or any(e.event_id == event.event_id for e in fresh):
                result.duplicates.append(event.event_id)
                self.metrics.duplicates.labels(channel).inc()
            else:
                fresh.append(event)
        # Reserve first, so a concurrent request with the same ids counts as a duplicate.
        for event in fresh:
            self.seen.add(event.event_id)
        started = time.perf_counter()
        try:
            await publish_all(self.broker, [(self.topic, e) for e in fresh])
        except BaseException:
            for event in fresh:
                self.seen.discard(event.event_id)
            raise
        self.metrics.publish_seconds.observe(time.perf_counter() - started)
        for event in fresh:
            result.accepted.append(event.event_id)
            self.metrics.accepted.labels(channel, event.type).inc()
            log.info(
                "event_accepted",
                channel=channel,
                event_id=str(event.event_id),
                conversation_id=event.conversation_id,
                event_type=event.type,
            )
