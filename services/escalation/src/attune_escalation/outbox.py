"""Transactional outbox: stage Kafka messages with the state change, relay them at least once.

Rows hold the topic-table name; the relay publishes each through that topic's publisher, which
knows the deployment's topic prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_escalation.db import Lease, OutboxMessage
from attune_escalation.metrics import EscalationMetrics
from attune_runtime import tracing
from attune_runtime.clock import Clock
from attune_schemas import EventEnvelope, Silence
from attune_schemas.topics import CONVERSATION_CONTROL, ESCALATION_EVENTS, SILENCES

log = structlog.get_logger(__name__)

# Every topic a row may name: the relay has a publisher for each (and AsyncAPI documents them).
OUTBOX_TOPICS = (ESCALATION_EVENTS, CONVERSATION_CONTROL, SILENCES)


class Publisher(Protocol):
    """The part of a FastStream publisher the relay uses: publish and wait for the ack."""

    async def publish(self, message: Any, *, key: bytes, headers: dict[str, str]) -> Any: ...


def stage(
    session: AsyncSession, *, topic: str, event: EventEnvelope | Silence, now: datetime
) -> None:
    """Stage `event` for `topic`, keyed as the topic table says (conversation, or silence)."""
    key = str(event.silence_id) if isinstance(event, Silence) else event.conversation_id
    session.add(
        OutboxMessage(
            topic=topic,
            key=key,
            event_id=str(event.event_id),
            payload=event.model_dump_json(),
            created_at=now,
            traceparent=tracing.current(),
        )
    )


class OutboxRelay:
    """Publishes unpublished outbox rows in insertion order; marks each after the broker acks."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        publishers: Mapping[str, Publisher],
        clock: Clock,
        metrics: EscalationMetrics,
        poll_seconds: float,
        batch: int = 100,
    ) -> None:
        self.sessions = sessions
        self.publishers = publishers
        self.clock = clock
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.wakeup = asyncio.Event()

    async def relay_once(self) -> int:
        """Relay one batch; returns how many rows were published.

        One relay at a time holds the lease: two relays taking disjoint batches would publish
        them concurrently and could put one conversation's `resume_ai` before its `pause_ai`.
        """
        async with self.sessions() as session, session.begin():
            lease = await session.scalar(
                select(Lease).where(Lease.name == "outbox").with_for_update(skip_locked=True)
            )
            if lease is None:  # another replica is relaying; it publishes in order
                return 0
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.published_at.is_(None))
                    .order_by(OutboxMessage.id)
                    .limit(self.batch)
                )
            ).all()
            for row in rows:
                row.attempts += 1
                # A crash after this publish but before commit republishes the row: at least
                # once. Consumers deduplicate on the event_id inside the payload.
                headers = {"event_type": row.topic}
                if row.traceparent is not None:
                    headers[tracing.TRACEPARENT] = row.traceparent
                await self.publishers[row.topic].publish(
                    row.payload.encode(), key=row.key.encode(), headers=headers
                )
                row.published_at = self.clock.now()
                self.metrics.outbox_published.labels(row.topic).inc()
        return len(rows)

    async def pending(self) -> int:
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
            )
            return int(count or 0)

    async def run(self) -> None:
        backoff = self.poll_seconds
        while True:
            try:
                while await self.relay_once():
                    pass
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: keep the rows, try again later
                log.warning("outbox_relay_failed", error=type(exc).__name__, retry_in=backoff)
                self.metrics.outbox_failures.inc()
                backoff = min(backoff * 2, 30.0)
            self.metrics.outbox_pending.set(await self._safe_pending())
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await self.wakeup.wait()

    async def _safe_pending(self) -> int:
        try:
            return await self.pending()
        except Exception:
            return -1
