"""Kafka intake for integrators who publish to `conversation.raw` directly."""

from __future__ import annotations

from typing import Annotated, Any

from faststream.kafka import KafkaBroker, KafkaMessage

from attune_ingest.intake import Intake, IntakeResult
from attune_ingest.metrics import IngestMetrics
from attune_ingest.settings import IngestSettings
from attune_runtime.channels import payload, publisher, subscriber_docs
from attune_runtime.clock import Clock
from attune_runtime.dead_letter import DeadLetters, decode_or_dead_letter
from attune_runtime.kafka import ACK_POLICY, AUTO_OFFSET_RESET, raw_body
from attune_runtime.poison import RetryLimit
from attune_schemas import ConversationEvent, InvalidMessage
from attune_schemas.topics import CONVERSATION_EVENTS, CONVERSATION_EVENTS_DLQ, CONVERSATION_RAW

RawRecord = Annotated[bytes, payload(CONVERSATION_RAW)]


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
    # Accepted events go out through the intake's own producer (the HTTP hot path); the
    # declaration names the channel in the AsyncAPI document with its payload.
    publisher(broker, settings, CONVERSATION_EVENTS)

    def count_rejected(error: InvalidMessage) -> None:
        metrics.rejected.labels("kafka", error.reason).inc()
        metrics.dead_letters.labels(error.reason).inc()

    dead_letters = DeadLetters.to(
        broker,
        settings,
        CONVERSATION_EVENTS_DLQ,
        service="ingest",
        clock=clock,
        on_reject=count_rejected,
    )

    def decode(record: Any) -> ConversationEvent:
        poison = retries.exhausted(record)
        if poison is not None:  # failed too often already: dead-lettered, not retried again
            raise poison
        return intake.decode_record(record.value, limits)

    @broker.subscriber(
        settings.topic(CONVERSATION_RAW),
        group_id=settings.group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset=AUTO_OFFSET_RESET,
        decoder=raw_body,
        **subscriber_docs(CONVERSATION_RAW),
    )
    async def on_raw(body: RawRecord, msg: KafkaMessage) -> None:
        record: Any = msg.raw_message  # one aiokafka ConsumerRecord (not a batch subscriber)
        try:
            event = await decode_or_dead_letter(record, decode, dead_letters)
            if event is not None:
                await intake.publish([event], channel="kafka", result=IntakeResult())
        except Exception as exc:
            # Re-raised: the consumer seeks back and retries, until the record counts as poison.
            retries.failed(record, exc)
            raise
        retries.done(record)
