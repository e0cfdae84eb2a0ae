"""Thin subscriber: decode a batch, assess it, publish assessments, then commit."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import structlog
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker, KafkaMessage

from attune_classifier.assess import EXCHANGE_MARKER, Assessor
from attune_classifier.metrics import ClassifierMetrics
from attune_classifier.settings import ClassifierSettings
from attune_classifier.window import Windows
from attune_runtime import tracing
from attune_runtime.channels import payload, publisher, subscriber_docs
from attune_runtime.clock import Clock
from attune_runtime.dead_letter import DeadLetters, decode_batch_or_dead_letter
from attune_runtime.event_time import EventTimeBounds
from attune_runtime.kafka import (
    ACK_POLICY,
    AUTO_OFFSET_RESET,
    batch_records,
    publish_all,
    raw_batch,
)
from attune_runtime.replay import WarmUp
from attune_schemas import (
    ConversationEvent,
    InvalidMessage,
    MessageSent,
    RuptureAssessment,
    Sender,
    conversation_event_adapter,
    decode,
)
from attune_schemas.topics import CONVERSATION_EVENTS, CONVERSATION_EVENTS_DLQ, RUPTURE_ASSESSMENTS

log = structlog.get_logger(__name__)
NOTABLE = 0.5  # assessments at or above this are logged at INFO; routine ones at DEBUG
EventRecord = Annotated[bytes, payload(CONVERSATION_EVENTS)]


def notable(a: RuptureAssessment) -> bool:
    """Logged at INFO: crisis, a high score, or a withdrawn exchange (at its own threshold,
    which its evidence says it passed)."""
    return (
        a.crisis
        or max(a.scores.rupture, a.scores.disengagement) >= NOTABLE
        or any(e.marker == EXCHANGE_MARKER for e in a.evidence)
    )


def decode_event(record: Any, *, bounds: EventTimeBounds, now: datetime) -> ConversationEvent:
    """The event, or InvalidMessage: malformed, or dated too far ahead or before the epoch."""
    event = decode(conversation_event_adapter, record.value)
    rejection = bounds.rejection(event.occurred_at, now=now)
    if rejection is not None:
        raise rejection
    return event


def decode_records(
    records: Sequence[Any], *, bounds: EventTimeBounds, now: datetime
) -> tuple[list[tuple[ConversationEvent, int]], list[tuple[Any, InvalidMessage]]]:
    """Valid events with their partition, and the records to dead-letter with the reason.

    An event dated too far ahead or before the epoch is as unusable as a malformed one: applied,
    it would stand in its conversation's window and move its partition's event time. The
    rebuild on assignment decodes through here too, so it never brings such an event back.
    """
    good: list[tuple[ConversationEvent, int]] = []
    bad: list[tuple[Any, InvalidMessage]] = []
    for record in records:
        try:
            good.append((decode_event(record, bounds=bounds, now=now), record.partition))
        except InvalidMessage as exc:
            bad.append((record, exc))
    return good, bad


def register(
    broker: KafkaBroker,
    *,
    settings: ClassifierSettings,
    assessor: Assessor,
    windows: Windows,
    metrics: ClassifierMetrics,
    clock: Clock,
    warm_up: WarmUp | None,
) -> None:
    bounds = settings.event_time_bounds()
    assessments_out = publisher(broker, settings, RUPTURE_ASSESSMENTS)

    def count_rejected(exc: InvalidMessage) -> None:
        metrics.dead_letters.labels(exc.reason).inc()
        metrics.events.labels("dead_lettered").inc()

    dead_letters = DeadLetters.to(
        broker,
        settings,
        CONVERSATION_EVENTS_DLQ,
        service="classifier",
        clock=clock,
        on_reject=count_rejected,
    )

    @broker.subscriber(
        settings.topic(CONVERSATION_EVENTS),
        group_id=settings.group_id,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        listener=warm_up,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
        decoder=raw_batch,
        **subscriber_docs(CONVERSATION_EVENTS),
    )
    async def on_events(body: list[EventRecord], msg: KafkaMessage) -> None:
        records = batch_records(msg)
        if warm_up is not None:
            await warm_up.wait_ready({TopicPartition(r.topic, r.partition) for r in records})
        metrics.batch_size.observe(len(records))
        now = clock.now()
        decoded = await decode_batch_or_dead_letter(
            records,
            lambda r: (
                decode_event(r, bounds=bounds, now=now),
                tracing.from_headers(getattr(r, "headers", None)),
            ),
            dead_letters,
        )
        events = [(event, partition) for (event, _), partition in decoded]
        # The trace each record carries; one without starts its own (`tracing.carried`), but
        # only once it has an assessment to continue it: most events (AI turns) have none.
        carried = {event.event_id: trace for (event, trace), _ in decoded}
        # The batch applies atomically: if its output is not acknowledged, the windows are put
        # back as they were, so the redelivered batch is assessed again rather than skipped.
        snapshot = windows.snapshot({(e.tenant_id, e.conversation_id) for e, _ in events})
        try:
            started = time.perf_counter()
            assessments = assessor.process(events)
            metrics.scoring_seconds.observe(time.perf_counter() - started)
            # Each assessment continues its event's trace.
            traces = {
                a.source_event_id: carried.get(a.source_event_id) or tracing.start()
                for a in assessments
            }
            # Commit (on return) only after every assessment is acknowledged by the broker.
            await publish_all(
                [(assessments_out, a) for a in assessments],
                broker=broker,
                traces={a.event_id: traces.get(a.source_event_id) for a in assessments},
            )
        except BaseException:
            windows.restore(snapshot)
            raise
        metrics.events.labels("processed").inc(len(events))
        metrics.client_turns.inc(
            sum(isinstance(e, MessageSent) and e.sender is Sender.CLIENT for e, _ in events)
        )
        # Routine assessments log at DEBUG, notable ones at INFO: their fields (the trace id,
        # parsed from its header, among them) are only worked out when that level is on.
        routine_logged = log.is_enabled_for(logging.DEBUG)
        notable_logged = log.is_enabled_for(logging.INFO)
        kinds = Counter((a.rupture_type.value, str(a.crisis).lower()) for a in assessments)
        for labels, count in kinds.items():
            metrics.assessments.labels(*labels).inc(count)
        for a in assessments if routine_logged or notable_logged else ():
            worth_info = notable(a)
            if not (notable_logged if worth_info else routine_logged):
                continue
            (log.info if worth_info else log.debug)(
                "assessment_published",
                assessment_id=str(a.event_id),
                trace_id=tracing.trace_id(traces.get(a.source_event_id)),
                conversation_id=a.conversation_id,
                message_id=a.message_id,
                rupture=a.scores.rupture,
                rupture_type=a.rupture_type.value,
                disengagement=a.scores.disengagement,
                exchange=a.scores.exchange,
                crisis=a.crisis,
                markers=sorted({e.marker for e in a.evidence}),
            )
        windows.expire(now=clock.now())
        metrics.conversations.set(len(windows))
