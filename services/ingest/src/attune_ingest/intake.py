"""Validate, deduplicate and publish conversation events; shared by HTTP and Kafka intake."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from attune_ingest.metrics import IngestMetrics
from attune_runtime.clock import Clock
from attune_runtime.dedup import PublishOnce
from attune_runtime.kafka import Producer, out_record, send_records
from attune_schemas import (
    ConversationEvent,
    EventTimeBounds,
    FieldError,
    InvalidMessage,
    JsonLimits,
    conversation_event_adapter,
    decode,
    load_json,
)

Channel = Literal["http", "kafka"]

_batch_adapter: TypeAdapter[list[ConversationEvent]] = TypeAdapter(list[ConversationEvent])


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


def tombstone() -> InvalidMessage:
    return InvalidMessage(
        "tombstone", (FieldError(field="(value)", reason="record has no value (a tombstone)"),)
    )


class Intake:
    def __init__(
        self,
        *,
        producer: Producer,
        once: PublishOnce[ConversationEvent],
        metrics: IngestMetrics,
        topic: str,
        clock: Clock,
        bounds: EventTimeBounds,
    ) -> None:
        self.producer = producer
        self.once = once
        self.metrics = metrics
        self.topic = topic
        self.clock = clock
        self.bounds = bounds

    def check(self, item: Any) -> ConversationEvent:
        """One parsed item as a contract event within event-time bounds, or InvalidMessage."""
        event = decode(conversation_event_adapter, item)
        self.bounds.check(event.occurred_at, now=self.clock.now())
        return event

    @staticmethod
    def parse_valid(raw: bytes) -> list[ConversationEvent] | None:
        """The events of a body that is valid as a whole, parsed and validated in one pass.

        None when anything in it is wrong: the caller then parses it within limits and checks
        item by item, to say what is wrong where. A body that validates as events is within
        every JSON limit (flat objects, small integers, no floats), so this is only a faster
        way to the same answer for the usual request.
        """
        try:
            if raw[:64].lstrip()[:1] == b"[":
                return _batch_adapter.validate_json(raw)
            return [conversation_event_adapter.validate_json(raw)]
        except ValidationError:
            return None

    def within_bounds(
        self, events: list[ConversationEvent]
    ) -> tuple[list[tuple[int, ConversationEvent]], list[Rejection]]:
        """Valid events split by the event-time rule, with their index in the request."""
        now = self.clock.now()
        valid: list[tuple[int, ConversationEvent]] = []
        rejected: list[Rejection] = []
        for index, event in enumerate(events):
            rejection = self.bounds.rejection(event.occurred_at, now=now)
            if rejection is None:
                valid.append((index, event))
            else:
                rejected.append(
                    Rejection(index, str(event.event_id), rejection.reason, rejection.errors)
                )
        return valid, rejected

    def decode_record(self, value: bytes | None, limits: JsonLimits) -> ConversationEvent:
        """A record value from conversation.raw, decoded within `limits`, or InvalidMessage."""
        if value is None:
            raise tombstone()
        return self.check(load_json(value, limits))

    def validate(
        self, items: list[Any]
    ) -> tuple[list[tuple[int, ConversationEvent]], list[Rejection]]:
        valid: list[tuple[int, ConversationEvent]] = []
        rejected: list[Rejection] = []
        for index, item in enumerate(items):
            try:
                valid.append((index, self.check(item)))
            except InvalidMessage as exc:
                rejected.append(Rejection(index, _claimed_event_id(item), exc.reason, exc.errors))
        return valid, rejected

    async def submit(
        self,
        items: list[Any],
        *,
        channel: Channel,
        events: list[ConversationEvent] | None = None,
    ) -> IntakeResult:
        """Validate parsed `items` (or take `events` already validated) and publish the valid."""
        valid, rejected = self.validate(items) if events is None else self.within_bounds(events)
        result = IntakeResult(rejected=rejected)
        for r in rejected:
            self.metrics.rejected.labels(channel, r.reason).inc()
        if valid:
            await self.publish([e for _, e in valid], channel=channel, result=result)
        return result

    async def publish(
        self, events: list[ConversationEvent], *, channel: Channel, result: IntakeResult
    ) -> None:
        """Publish the events not yet acknowledged in the dedup window; raise if one fails.

        An id is a duplicate only once the broker acknowledged it; a request that meets an id
        still being published waits for that outcome (see PublishOnce).
        """

        async def send(fresh: list[ConversationEvent]) -> list[BaseException | None]:
            started = time.perf_counter()
            outcomes = await send_records(self.producer, [out_record(self.topic, e) for e in fresh])
            self.metrics.publish_seconds.observe(time.perf_counter() - started)
            for event, outcome in zip(fresh, outcomes, strict=True):
                if outcome is None:
                    self.metrics.accepted_events(channel, event.type).inc()
            return outcomes

        # No log line per accepted event: at thousands a second it would cost more than the
        # event; the topic itself records them, the metrics count them.
        published = await self.once.publish(events, send)
        if published.waited:
            self.metrics.pending_waits.labels(channel).inc(published.waited)
        if published.duplicates:
            self.metrics.duplicates.labels(channel).inc(len(published.duplicates))
        result.accepted.extend(e.event_id for e in published.fresh)
        result.duplicates.extend(e.event_id for e in published.duplicates)
