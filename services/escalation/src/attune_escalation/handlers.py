"""Thin subscribers: an alert opens or joins an incident in one transaction, then commit; an
assessment's engagement numbers are kept for the console's chart; a conversation's new message
joins the timeline of its open incident (other conversations' messages are dropped)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import structlog
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_escalation import engagement, incidents, turns
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.routing import Routing
from attune_escalation.settings import EscalationSettings
from attune_runtime.channels import payload, subscriber_docs
from attune_runtime.clock import Clock
from attune_runtime.dead_letter import DeadLetters, decode_or_dead_letter
from attune_runtime.event_time import EventTimeBounds
from attune_runtime.kafka import ACK_POLICY, AUTO_OFFSET_RESET, raw_body
from attune_schemas import Alert, InvalidMessage, MessageSent, RuptureAssessment, decode
from attune_schemas.topics import (
    ALERTS,
    ALERTS_DLQ,
    CONVERSATION_EVENTS,
    RUPTURE_ASSESSMENTS,
    topic,
)

log = structlog.get_logger(__name__)
ALERT = topic(ALERTS).value
AlertRecord = Annotated[bytes, payload(ALERTS)]
ASSESSMENT = topic(RUPTURE_ASSESSMENTS).value
AssessmentRecord = Annotated[bytes, payload(RUPTURE_ASSESSMENTS)]
EVENT = topic(CONVERSATION_EVENTS).value
Handler = Callable[[Any, KafkaMessage], Awaitable[None]]
EventRecord = Annotated[bytes, payload(CONVERSATION_EVENTS)]


def decode_alert(record: Any, *, bounds: EventTimeBounds, now: datetime) -> Alert:
    """The alert, or InvalidMessage: malformed, or dated too far ahead or before the epoch."""
    alert: Alert = decode(ALERT, record.value)
    untimely = bounds.rejection(alert.occurred_at, now=now)
    if untimely is not None:
        raise untimely
    return alert


def register(
    broker: KafkaBroker,
    *,
    settings: EscalationSettings,
    sessions: async_sessionmaker[AsyncSession],
    routing: Routing,
    metrics: EscalationMetrics,
    clock: Clock,
    on_commit: Callable[[], None],
) -> None:
    bounds = settings.event_time_bounds()

    def count_rejected(error: InvalidMessage) -> None:
        metrics.dead_letters.labels(error.reason).inc()
        metrics.alerts.labels("dead_lettered").inc()

    dead_letters = DeadLetters.to(
        broker, settings, ALERTS_DLQ, service="escalation", clock=clock, on_reject=count_rejected
    )

    @broker.subscriber(
        settings.topic(ALERTS),
        group_id=settings.group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
        decoder=raw_body,
        **subscriber_docs(ALERTS),
    )
    async def on_alert(body: AlertRecord, msg: KafkaMessage) -> None:
        now = clock.now()
        alert = await decode_or_dead_letter(
            msg.raw_message, lambda r: decode_alert(r, bounds=bounds, now=now), dead_letters
        )
        if alert is None:
            return
        async with sessions() as session, session.begin():
            result = await incidents.apply_alert(
                session,
                alert=alert,
                now=now,
                routing=routing,
            )
        outcome = (
            "duplicate"
            if result.duplicate
            else "silenced"
            if result.silenced
            else "opened"
            if result.opened
            else "grouped"
        )
        metrics.alerts.labels(outcome).inc()
        if result.opened and not result.silenced:
            metrics.incidents.labels(alert.severity.value).inc()
        if result.paged_tier is not None:
            metrics.escalations.labels(str(result.paged_tier)).inc()
        log.info(
            "alert_applied",
            alert_id=str(alert.alert_id),
            incident_id=result.incident_id,
            conversation_id=alert.conversation_id,
            kind=alert.kind.value,
            severity=alert.severity.value,
            outcome=outcome,
            controls=[c.value for c in result.controls],
        )
        on_commit()

    def own_group(name: str, purpose: str) -> Callable[[Handler], object]:
        """A subscriber in a consumer group of its own: it never holds up or rebalances alerts."""
        return broker.subscriber(
            settings.topic(name),
            group_id=f"{settings.group_id}-{purpose}",
            ack_policy=ACK_POLICY,
            auto_offset_reset=AUTO_OFFSET_RESET,
            decoder=raw_body,
            **subscriber_docs(name),
        )

    def readable(record: Any, adapter: Any, skipped: str) -> Any:
        """The record's value, or None: what cannot be read here is another service's to
        dead-letter (the router's for assessments, ingest's and the classifier's for events)."""
        try:
            return decode(adapter, record.value)
        except InvalidMessage as exc:
            log.warning(skipped, reason=exc.reason, offset=record.offset)
            return None

    @own_group(RUPTURE_ASSESSMENTS, "engagement")
    async def on_assessment(body: AssessmentRecord, msg: KafkaMessage) -> None:
        assessment: RuptureAssessment | None = readable(
            msg.raw_message, ASSESSMENT, "engagement_skipped"
        )
        if assessment is None:
            return
        async with sessions() as session, session.begin():
            await engagement.record(session, assessment)

    # The conversation of an open incident, as it goes on: kept for its timeline.
    @own_group(CONVERSATION_EVENTS, "turns")
    async def on_conversation_event(body: EventRecord, msg: KafkaMessage) -> None:
        event = readable(msg.raw_message, EVENT, "turn_skipped")
        if not isinstance(event, MessageSent):
            return
        async with sessions() as session, session.begin():
            added = await turns.follow(session, event)
        if added:
            log.info(
                "turn_added",
                conversation_id=event.conversation_id,
                message_id=event.message_id,
                sender=event.sender.value,
            )
