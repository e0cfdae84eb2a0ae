"""Kafka intake for integrators who publish to `conversation.raw` directly."""

from __future__ import annotations

from faststream.kafka import KafkaBroker, KafkaMessage

from attune_ingest.intake import Intake, IntakeResult
from attune_ingest.metrics import IngestMetrics
from attune_ingest.settings import IngestSettings
from attune_runtime.clock import Clock
from attune_runtime.dead_letter import dead_letter
from attune_runtime.kafka import ACK_POLICY, AUTO_OFFSET_RESET
from attune_schemas import InvalidMessage, conversation_event_adapter, decode
from attune_schemas.topics import CONVERSATION_EVENTS_DLQ, CONVERSATION_RAW


def register(
    broker: KafkaBroker,
    *,
    settings: IngestSettings,
    intake: Intake,
    metrics: IngestMetrics,
    clock: Clock,
) -> None:
    @broker.subscriber(
        settings.topic(CONVERSATION_RAW),
        group_id=settings.group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
    )
    async def on_raw(msg: KafkaMessage) -> None:
        record = msg.raw_message
        try:
            event = decode(conversation_event_adapter, msg.body)
        except InvalidMessage as exc:
            metrics.rejected.labels("kafka", exc.reason).inc()
            metrics.dead_letters.labels(exc.reason).inc()
            await dead_letter(
                broker,
                dlq_topic=settings.topic(CONVERSATION_EVENTS_DLQ),
                record=record,
                error=exc,
                service="ingest",
                clock=clock,
            )
            return
        await intake.publish([event], channel="kafka", result=IntakeResult())
