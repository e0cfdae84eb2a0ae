"""Kafka intake for integrators who publish to `conversation.raw` directly."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker, KafkaMessage

from attune_ingest.intake import Intake, IntakeResult
from attune_ingest.metrics import IngestMetrics
from attune_ingest.settings import IngestSettings
from attune_runtime.clock import Clock
from attune_runtime.dead_letter import dead_letter
from attune_runtime.kafka import ACK_POLICY, AUTO_OFFSET_RESET, raw_body
from attune_runtime.poison import RetryLimit
from attune_schemas import InvalidMessage
from attune_schemas.topics import CONVERSATION_EVENTS_DLQ, CONVERSATION_RAW


def register(
    broker: KafkaBroker,
    *,
    settings: IngestSettings,
    intake: Intake,
    metrics: IngestMetrics,
    clock: Clock,
) -> None:
    limits = settings.record_limits()
    retries = RetryLimit(max_failures=settings.retry_max_failures)

    async def reject(record: Any, error: InvalidMessage) -> None:
        metrics.rejected.labels("kafka", error.reason).inc()
        metrics.dead_letters.labels(error.reason).inc()
        await dead_letter(
            broker,
            dlq_topic=settings.topic(CONVERSATION_EVENTS_DLQ),
            record=record,
            error=error,
            service="ingest",
            clock=clock,
        )

    @broker.subscriber(
        settings.topic(CONVERSATION_RAW),
        group_id=settings.group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
        decoder=raw_body,
    )
    async def on_raw(msg: KafkaMessage) -> None:
        record: Any = msg.raw_message  # one aiokafka ConsumerRecord (not a batch subscriber)
        try:
            poison = retries.exhausted(record)
            if poison is not None:
                await reject(record, poison)
            else:
                try:
                    event = intake.decode_record(record.value, limits)
                except InvalidMessage as exc:
                    await reject(record, exc)
                else:
                    await intake.publish([event], channel="kafka", result=IntakeResult())
        except Exception as exc:
            # Re-raised: the consumer seeks back and retries, until the record counts as poison.
            retries.failed(record, exc)
            raise
        retries.done(record)
