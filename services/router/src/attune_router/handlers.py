"""Thin subscriber: assessment in, alerts out, commit after they are acknowledged."""

from __future__ import annotations

from collections import Counter as Tally
from typing import Any

import structlog
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker, KafkaMessage

from attune_router.metrics import RouterMetrics
from attune_router.policy import AlertPolicy
from attune_router.settings import RouterSettings
from attune_runtime.clock import Clock
from attune_runtime.dead_letter import dead_letter
from attune_runtime.kafka import ACK_POLICY, AUTO_OFFSET_RESET, publish_all
from attune_runtime.replay import WarmUp
from attune_schemas import Alert, AlertKind, InvalidMessage, RuptureAssessment, decode
from attune_schemas.topics import ALERTS, RUPTURE_ASSESSMENTS, RUPTURE_ASSESSMENTS_DLQ, topic

log = structlog.get_logger(__name__)
ASSESSMENT = topic(RUPTURE_ASSESSMENTS).value


def decode_assessment(record: Any) -> RuptureAssessment:
    value: RuptureAssessment = decode(ASSESSMENT, record.value)
    return value


def register(
    broker: KafkaBroker,
    *,
    settings: RouterSettings,
    policy: AlertPolicy,
    metrics: RouterMetrics,
    clock: Clock,
    warm_up: WarmUp | None,
) -> None:
    @broker.subscriber(
        settings.topic(RUPTURE_ASSESSMENTS),
        group_id=settings.group_id,
        listener=warm_up,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
    )
    async def on_assessment(msg: KafkaMessage) -> None:
        record: Any = msg.raw_message
        if warm_up is not None:
            await warm_up.wait_ready({TopicPartition(record.topic, record.partition)})
        try:
            assessment = decode_assessment(record)
        except InvalidMessage as exc:
            metrics.dead_letters.labels(exc.reason).inc()
            await dead_letter(
                broker,
                dlq_topic=settings.topic(RUPTURE_ASSESSMENTS_DLQ),
                record=record,
                error=exc,
                service="router",
                clock=clock,
            )
            return
        # Decide and publish atomically: if the alerts are not acknowledged, the policy state is
        # put back, so the redelivered assessment is decided again rather than seen as duplicate.
        # The assessment moves stream time forward: the sweep (when due) runs at that time.
        now = max(policy.watermark or assessment.occurred_at, assessment.occurred_at)
        sweeping = policy.sweep_due(now)
        quiet = policy.quiet(now) if sweeping else []
        snapshot = policy.snapshot({assessment.conversation_id, *quiet})
        try:
            decision = policy.decide(assessment, getattr(record, "partition", None))
            if decision.duplicate:
                metrics.duplicates.inc()
                return
            alerts = decision.alerts + (policy.sweep(now) if sweeping else [])
            await publish_all(broker, [(settings.topic(ALERTS), a) for a in alerts])
        except BaseException:
            policy.restore(snapshot)
            raise
        for kind in decision.inhibited:
            metrics.inhibited.labels(kind.value).inc()
        for alert in alerts:
            record_alert(metrics, alert)
        open_by_kind = Tally(k for s in policy.states.values() for k in s.open)
        for kind in (AlertKind.RUPTURE, AlertKind.DISENGAGEMENT):
            metrics.open_alerts.labels(kind.value).set(open_by_kind.get(kind, 0))


def record_alert(metrics: RouterMetrics, alert: Alert) -> None:
    metrics.alerts.labels(alert.kind.value, alert.severity.value, alert.status.value).inc()
    log.info(
        "alert_fired" if alert.status.value == "firing" else "alert_resolved",
        alert_id=str(alert.alert_id),
        conversation_id=alert.conversation_id,
        kind=alert.kind.value,
        severity=alert.severity.value,
        risk=alert.risk,
        markers=sorted({e.marker for e in alert.evidence}),
    )
