"""Kafka delivery rules in one place: producer acks, consumer ack policy, topics, publishing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError, for_code
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from attune_runtime.health import ConsumerProgress
from attune_runtime.retry import RetryBackoff
from attune_runtime.settings import ServiceSettings
from attune_schemas import EventEnvelope, encode
from attune_schemas.topics import TOPICS

log = structlog.get_logger(__name__)

# At-least-once: commit after the handler (and everything it produced) succeeded; on an
# unexpected error seek back and retry. Poison messages never raise: handlers send them to
# the dead-letter topic and return, so the partition keeps moving.
ACK_POLICY = AckPolicy.NACK_ON_ERROR

# New consumer groups start from the beginning of the topic: nothing published is skipped.
AUTO_OFFSET_RESET: Literal["earliest"] = "earliest"


def make_broker(
    settings: ServiceSettings,
    *,
    service: str,
    registry: CollectorRegistry,
    progress: ConsumerProgress,
) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas and never duplicates on retry."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"attune-{service}",
        acks="all",
        enable_idempotence=True,
        ack_policy=ACK_POLICY,
        middlewares=(
            KafkaPrometheusMiddleware(registry=registry, app_name=f"attune-{service}"),
            progress.middleware,
            RetryBackoff(
                initial=settings.retry_backoff_seconds,
                maximum=settings.retry_backoff_max_seconds,
            ),
        ),
        logger=logging.getLogger(f"attune.{service}.broker"),
        graceful_timeout=15.0,
    )


async def ensure_topics(
    bootstrap_servers: str,
    *,
    partitions: int,
    prefix: str = "",
    names: Iterable[str] | None = None,
    wait_seconds: float = 60.0,
) -> None:
    """Create the topics of the topic table that do not exist yet; wait for the broker."""
    wanted = {prefix + n for n in ([t.name for t in TOPICS] if names is None else names)}
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
        try:
            await admin.start()
            try:
                existing = set(await admin.list_topics())
                missing = sorted(wanted - existing)
                if missing:
                    await _create(admin, missing, partitions)
                    log.info("topics_created", topics=missing, partitions=partitions)
                return
            finally:
                await admin.close()
        except KafkaConnectionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("kafka_unavailable_retrying", bootstrap_servers=bootstrap_servers)
            await asyncio.sleep(1.0)


async def _create(admin: AIOKafkaAdminClient, names: Sequence[str], partitions: int) -> None:
    topics = [NewTopic(name=n, num_partitions=partitions, replication_factor=1) for n in names]
    try:
        response = await admin.create_topics(topics)
    except TopicAlreadyExistsError:
        return
    for topic_error in response.to_object()["topic_errors"]:
        code = topic_error["error_code"]
        # Another service may have created it between our list and create.
        if code and code != TopicAlreadyExistsError.errno:
            raise for_code(code)(f"creating topic {topic_error['topic']}")


async def publish(broker: KafkaBroker, topic: str, event: EventEnvelope) -> None:
    """Publish one contract event keyed by conversation and wait for the broker's ack."""
    await broker.publish(
        encode(event),
        topic=topic,
        key=event.conversation_id.encode(),
        headers={"event_type": str(getattr(event, "type", type(event).__name__))},
    )


async def publish_all(broker: KafkaBroker, items: Sequence[tuple[str, EventEnvelope]]) -> None:
    """Enqueue several events in order, then wait until the broker acked all of them."""
    pending: list[asyncio.Future[Any]] = []
    for topic, event in items:
        result = await broker.publish(
            encode(event),
            topic=topic,
            key=event.conversation_id.encode(),
            headers={"event_type": str(getattr(event, "type", type(event).__name__))},
            no_confirm=True,
        )
        if isinstance(result, asyncio.Future):
            pending.append(result)
    if pending:
        await asyncio.gather(*pending)
