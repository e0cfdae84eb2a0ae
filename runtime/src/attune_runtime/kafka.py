"""Kafka delivery rules in one place: producer acks, consumer ack policy, topics, publishing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, ProducerClosed
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.publisher import DefaultPublisher
from faststream.kafka.publisher.producer import AioKafkaFastProducerImpl
from faststream.message import StreamMessage
from prometheus_client import CollectorRegistry

from attune_runtime import tracing
from attune_runtime.health import Check, ConsumerProgress
from attune_runtime.kafka_client import broker_security, kafka_client_options
from attune_runtime.retry import RetryBackoff
from attune_runtime.settings import ServiceSettings
from attune_runtime.topics import TopicSettings, apply_topics
from attune_schemas import EventEnvelope, encode

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
        security=broker_security(settings),
        client_id=f"attune-{service}",
        acks="all",
        enable_idempotence=True,
        # A batch handler's output leaves in few round trips (see MAX_BATCH_BYTES).
        max_batch_size=MAX_BATCH_BYTES,
        ack_policy=ACK_POLICY,
        middlewares=(
            KafkaPrometheusMiddleware(registry=registry, app_name=f"attune-{service}"),
            progress.middleware,
            tracing.TraceMiddleware,  # outside the back-off: its retry log line has the trace
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
    """`attune topics apply` for tools and tests: the topic table (or `names`) under `prefix`,
    with the durability settings of the environment (ATTUNE_TOPICS_*)."""
    settings = TopicSettings(
        kafka_bootstrap_servers=bootstrap_servers, topic_prefix=prefix, partitions=partitions
    )
    await apply_topics(settings, names=names, wait_seconds=wait_seconds)


async def publish_all(
    items: Sequence[tuple[DefaultPublisher, EventEnvelope]],
    *,
    broker: KafkaBroker,
    traces: Mapping[UUID, str | None] | None = None,
) -> None:
    """Enqueue several events in order, then wait until the broker acked all of them; raise the
    first failure (the caller's batch is then not committed and comes again).

    Each record continues the trace being handled or, when `traces` has its event id, the one
    named there (a batch handler's events each have their own; None: no trace).

    The records go straight to the broker's own aiokafka producer (acks=all, idempotent), with
    the headers FastStream's publish would write: FastStream's per-record publish (a command,
    the middleware chain and a codec per record) cost more than scoring the message. Under
    FastStream's in-memory TestKafkaBroker there is no aiokafka producer: its publish is used.
    """
    producer = broker_producer(broker)
    if producer is None:
        await _publish_through_framework(items, traces=traces)
        return
    records = [
        OutRecord(publisher.topic, event.conversation_id.encode(), encode(event),
                  _framework_headers(event, _traceparent(event, traces)))
        for publisher, event in items
    ]  # fmt: skip
    for outcome in await send_records(producer, records):
        if outcome is not None:
            raise outcome


def broker_producer(broker: KafkaBroker) -> Producer | None:
    """The started aiokafka producer FastStream publishes with, or None (not connected, or the
    in-memory test broker's fake). FastStream does not expose it publicly: read it from the
    producer state its own publish path uses, and only when the types are the expected ones."""
    fast = broker.config.producer
    if not isinstance(fast, AioKafkaFastProducerImpl) or not fast:
        return None
    state = getattr(fast, "_producer", None)
    aiokafka_producer = getattr(state, "producer", None)
    return aiokafka_producer if isinstance(aiokafka_producer, AIOKafkaProducer) else None


def _traceparent(event: EventEnvelope, traces: Mapping[UUID, str | None] | None) -> str | None:
    if traces is not None and event.event_id in traces:
        parent = traces[event.event_id]
        return tracing.start(parent) if parent else None
    return tracing.current()


def _event_type(event: EventEnvelope) -> str:
    return str(getattr(event, "type", type(event).__name__))


def _framework_headers(
    event: EventEnvelope, traceparent: str | None
) -> tuple[tuple[str, bytes], ...]:
    """The headers, in order, of FastStream's publish of encoded bytes: an empty content type
    (raw bytes), a correlation id, then ours (event type, trace)."""
    headers = [
        ("content-type", b""),
        ("correlation_id", str(uuid4()).encode()),
        ("event_type", _event_type(event).encode()),
    ]
    if traceparent is not None:
        headers.append((tracing.TRACEPARENT, traceparent.encode()))
    return tuple(headers)


async def _publish_through_framework(
    items: Sequence[tuple[DefaultPublisher, EventEnvelope]],
    *,
    traces: Mapping[UUID, str | None] | None,
) -> None:
    pending: list[asyncio.Future[Any]] = []
    for publisher, event in items:
        headers = {"event_type": _event_type(event)}
        traceparent = _traceparent(event, traces)
        if traceparent is not None:
            headers[tracing.TRACEPARENT] = traceparent
        result = await publisher.publish(
            encode(event), key=event.conversation_id.encode(), headers=headers, no_confirm=True
        )
        if isinstance(result, asyncio.Future):
            pending.append(result)
    if pending:
        await asyncio.gather(*pending)


def raw_body(msg: StreamMessage[Any]) -> bytes:
    """Subscriber decoder that leaves the bytes alone: the handler decodes them within limits.

    FastStream's default decoder runs json.loads before the handler; on hostile input that raises
    (RecursionError, ValueError) outside the handler's reach and the record is retried for ever.
    """
    body: bytes = msg.body
    return body


def raw_batch(msg: StreamMessage[Any]) -> list[bytes]:
    """`raw_body` for a batch subscriber: each record's bytes, in order."""
    return [r.value if isinstance(r.value, bytes) else b"" for r in batch_records(msg)]


def batch_records(msg: StreamMessage[Any]) -> Sequence[Any]:
    """The aiokafka ConsumerRecords a batch subscriber was handed, in order (per partition,
    in offset order)."""
    raw = msg.raw_message
    return raw if isinstance(raw, tuple | list) else (raw,)


@dataclass(frozen=True)
class OutRecord:
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def out_record(topic: str, event: EventEnvelope) -> OutRecord:
    """A contract event keyed by conversation, with its type, id and trace in headers.

    The event_id and tenant_id headers let a reader (ingest's dedup rebuild) skip decoding
    the value. The trace continues the one being handled, or starts here (ingest: per event).
    """
    kind = str(getattr(event, "type", type(event).__name__))
    return OutRecord(
        topic,
        event.conversation_id.encode(),
        encode(event),
        (
            ("event_type", kind.encode()),
            ("event_id", str(event.event_id).encode()),
            ("tenant_id", event.tenant_id.encode()),
            (tracing.TRACEPARENT, (tracing.current() or tracing.start()).encode()),
        ),
    )


class Producer(Protocol):
    """The part of AIOKafkaProducer that `send_records` uses (tests wrap or fake it)."""

    async def send(
        self, topic: str, value: bytes, key: bytes, *, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]: ...


# aiokafka sends one request at a time per broker with at most one batch per partition, so
# the batch size caps what one round trip carries: 16 kB (the default) is ~35 events. Kept
# well under the broker's 1 MB message limit.
MAX_BATCH_BYTES = 256 * 1024


class ManagedProducer:
    """A producer of our own for hot paths (no per-message framework overhead), same rules:
    acks=all, idempotence on. Created in `start`, since aiokafka needs the running loop."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        service: str,
        linger_ms: int = 0,
        request_timeout_ms: int = 40_000,
    ) -> None:
        self.settings = settings
        self.client_id = f"attune-{service}"
        self.linger_ms = linger_ms
        self.request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None
        # Monotonic times of the newest acknowledged and the newest failed delivery.
        self._acked_at: float | None = None
        self._failed_at: float | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **kafka_client_options(self.settings),
            client_id=self.client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=self.linger_ms,
            max_batch_size=MAX_BATCH_BYTES,
            request_timeout_ms=self.request_timeout_ms,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise KafkaConnectionError("producer not started")
        return self._producer

    async def send(
        self, topic: str, value: bytes, key: bytes, *, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        try:
            future: asyncio.Future[Any] = await self._started().send(
                topic, value, key, headers=headers
            )
        except Exception:
            self._failed_at = time.monotonic()
            raise
        future.add_done_callback(self._settled)
        return future

    def _settled(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            self._failed_at = time.monotonic()
        else:
            self._acked_at = time.monotonic()

    def check(self, *, failure_window_seconds: float = 10.0) -> Check:
        """Ready unless stopped, or its newest delivery failed within the window.

        The window keeps a producer that failed from holding readiness down once traffic stops
        reaching it (a not-ready instance gets no requests to prove itself again); the
        broker itself is checked on its own.
        """
        if self._producer is None:
            return Check("intake_producer", False, {"state": "stopped"})
        failed, acked = self._failed_at, self._acked_at
        failing = (
            failed is not None
            and (acked is None or failed > acked)
            and time.monotonic() - failed < failure_window_seconds
        )
        return Check("intake_producer", not failing, {"state": "failing" if failing else "ok"})


async def send_records(
    producer: Producer, records: Sequence[OutRecord]
) -> list[BaseException | None]:
    """Enqueue the records in order, then wait for every ack; one outcome per record.

    Records are not awaited one by one: concurrent callers' records share the producer's batches,
    so many requests cost one round trip to the broker.
    """
    futures: list[asyncio.Future[Any]] = []
    outcomes: list[BaseException | None] = []
    for record in records:
        try:
            futures.append(
                await producer.send(
                    record.topic, record.value, record.key, headers=list(record.headers)
                )
            )
        except Exception as exc:
            # Not enqueued: neither is anything after it, so the order per key holds.
            outcomes = [exc] * (len(records) - len(futures))
            break
    for future in futures:  # acks come in order of enqueueing: awaiting each costs little
        await _settled(future)
    return [_outcome(f) for f in futures] + outcomes


async def _settled(future: asyncio.Future[Any]) -> None:
    """Wait for `future` whatever its outcome; a cancellation of this task still propagates."""
    try:
        await future
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
    except Exception:
        pass  # read by _outcome


def _outcome(future: asyncio.Future[Any]) -> BaseException | None:
    if future.cancelled():  # aiokafka cancels what it could not send when it stops
        closed: BaseException = ProducerClosed()
        return closed
    return future.exception()
