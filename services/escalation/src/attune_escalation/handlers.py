"""Thin subscriber: an alert opens or joins an incident in one transaction, then commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_escalation import incidents
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.routing import Routing
from attune_escalation.settings import EscalationSettings
from attune_runtime.clock import Clock
from attune_runtime.dead_letter import dead_letter
from attune_runtime.kafka import ACK_POLICY, AUTO_OFFSET_RESET
from attune_schemas import Alert, InvalidMessage, decode
from attune_schemas.topics import ALERTS, ALERTS_DLQ, topic

log = structlog.get_logger(__name__)
ALERT = topic(ALERTS).value


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

    async def reject(record: Any, error: InvalidMessage) -> None:
        metrics.dead_letters.labels(error.reason).inc()
        metrics.alerts.labels("dead_lettered").inc()
        await dead_letter(
            broker,
            dlq_topic=settings.topic(ALERTS_DLQ),
            record=record,
            error=error,
            service="escalation",
            clock=clock,
        )

    @broker.subscriber(
        settings.topic(ALERTS),
        group_id=settings.group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
    )
    async def on_alert(msg: KafkaMessage) -> None:
        record = msg.raw_message
        try:
            alert: Alert = decode(ALERT, msg.body)
        except InvalidMessage as exc:
            await reject(record, exc)
            return
        now = clock.now()
        untimely = bounds.rejection(alert.occurred_at, now=now)
        if untimely is not None:
            await reject(record, untimely)
            return
        async with sessions() as session, session.begin():
            result = await incidents.apply_alert(
                session,
                alert=alert,
                now=now,
                routing=routing,
            )
        outcome = "duplicate" if result.duplicate else "opened" if result.opened else "grouped"
        metrics.alerts.labels(outcome).inc()
        if result.opened:
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
