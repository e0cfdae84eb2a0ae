"""Thin subscriber: a batch of assessments in, its alerts out, one commit once all are acked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import structlog
from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from attune_router.metrics import RouterMetrics
from attune_router.policy import AlertPolicy, BatchOutcome
from attune_router.settings import RouterSettings
from attune_router.silence_feed import SilenceFeed
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
from attune_schemas import Alert, RuptureAssessment, decode
from attune_schemas.topics import (
    ALERTS,
    RUPTURE_ASSESSMENTS,
    RUPTURE_ASSESSMENTS_DLQ,
    SILENCES,
    topic,
)

log = structlog.get_logger(__name__)
ASSESSMENT = topic(RUPTURE_ASSESSMENTS).value
AssessmentRecord = Annotated[bytes, payload(RUPTURE_ASSESSMENTS)]
SilenceRecord = Annotated[bytes, payload(SILENCES)]


def decode_assessment(record: Any, *, bounds: EventTimeBounds, now: datetime) -> RuptureAssessment:
    """The assessment, or InvalidMessage: malformed, or dated too far ahead or before the epoch.

    The rebuild on assignment decodes through here too, so it never brings back an
    assessment that was dead-lettered when live.
    """
    value: RuptureAssessment = decode(ASSESSMENT, record.value)
    rejection = bounds.rejection(value.occurred_at, now=now)
    if rejection is not None:
        raise rejection
    return value


def register(
    broker: KafkaBroker,
    *,
    settings: RouterSettings,
    policy: AlertPolicy,
    metrics: RouterMetrics,
    clock: Clock,
    warm_up: WarmUp | None,
    silences: SilenceFeed | None = None,
) -> None:
    bounds = settings.event_time_bounds()
    alerts_out = publisher(broker, settings, ALERTS)
    dead_letters = DeadLetters.to(
        broker,
        settings,
        RUPTURE_ASSESSMENTS_DLQ,
        service="router",
        clock=clock,
        on_reject=lambda exc: metrics.dead_letters.labels(exc.reason).inc(),
    )

    @broker.subscriber(
        settings.topic(RUPTURE_ASSESSMENTS),
        group_id=settings.group_id,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        listener=warm_up,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
        decoder=raw_batch,
        **subscriber_docs(RUPTURE_ASSESSMENTS),
    )
    async def on_assessments(body: list[AssessmentRecord], msg: KafkaMessage) -> None:
        records = batch_records(msg)
        if warm_up is not None:
            await warm_up.wait_ready({TopicPartition(r.topic, r.partition) for r in records})
        if silences is not None:  # every silence read before the first decision
            await silences.ready.wait()
        metrics.batch_size.observe(len(records))
        now = clock.now()
        decoded = await decode_batch_or_dead_letter(
            records,
            lambda r: (decode_assessment(r, bounds=bounds, now=now), tracing.carried(r)),
            dead_letters,
        )
        assessments = [(a, partition) for (a, _), partition in decoded]
        traces = {a.event_id: trace for (a, trace), _ in decoded}  # each assessment's trace
        # The batch applies atomically: if its alerts are not all acknowledged, the policy state
        # is put back, so the redelivered batch is decided again rather than seen as duplicates.
        # Records come per partition in offset order, so each conversation's stay in order.
        snapshot = policy.snapshot({(a.tenant_id, a.conversation_id) for a, _ in assessments})
        try:
            outcome = policy.decide_batch(assessments, snapshot=snapshot, now=now)
            # Commit (on return) only after every alert is acknowledged by the broker.
            # An alert continues the trace of the assessment that decided it; the sweep's (of
            # conversations gone quiet) are no record's and carry none.
            alert_traces = {a.event_id: _trace(outcome, traces, a) for a in outcome.alerts}
            await publish_all(
                [(alerts_out, a) for a in outcome.alerts], broker=broker, traces=alert_traces
            )
        except BaseException:
            policy.restore(snapshot)
            raise
        metrics.duplicates.inc(outcome.duplicates)
        for kind in outcome.inhibited:
            metrics.inhibited.labels(kind.value).inc()
        for alert in outcome.alerts:
            record_alert(metrics, alert, trace_id=tracing.trace_id(alert_traces[alert.event_id]))
            if alert.silenced_by is not None:
                metrics.silenced.labels(alert.kind.value).inc()


def register_silences(broker: KafkaBroker, *, settings: RouterSettings, feed: SilenceFeed) -> None:
    """The `silences` topic into the feed: no consumer group, so every instance reads every
    partition from the beginning, and nothing to commit (a restart reads it all again)."""

    @broker.subscriber(
        feed.topic,
        group_id=None,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset=AUTO_OFFSET_RESET,
        decoder=raw_batch,
        **subscriber_docs(SILENCES),
    )
    async def on_silences(body: list[SilenceRecord], msg: KafkaMessage) -> None:
        feed.apply(batch_records(msg))


def _trace(outcome: BatchOutcome, traces: Mapping[UUID, str], alert: Alert) -> str | None:
    cause = outcome.causes.get(alert.event_id)
    return traces.get(cause) if cause is not None else None


def record_alert(metrics: RouterMetrics, alert: Alert, *, trace_id: str | None = None) -> None:
    metrics.alerts.labels(alert.kind.value, alert.severity.value, alert.status.value).inc()
    log.info(
        "alert_fired" if alert.status.value == "firing" else "alert_resolved",
        alert_id=str(alert.alert_id),
        trace_id=trace_id,
        conversation_id=alert.conversation_id,
        kind=alert.kind.value,
        severity=alert.severity.value,
        risk=alert.risk,
        markers=sorted({e.marker for e in alert.evidence}),
        silenced_by=str(alert.silenced_by) if alert.silenced_by else None,
    )
