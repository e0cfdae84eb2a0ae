"""Delivers queued notifications: one worker per channel, critical first, retries with back-off.

Channels never wait for each other: a webhook that takes seconds to answer delays only its own
queue. Within an attempt, a retryable failure is retried a few times at once (tenacity); after
that the row is rescheduled with exponential back-off, so retries survive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from attune_escalation.db import Incident, Notification
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.notify import Notifier, NotifyError
from attune_escalation.timeline import record_event
from attune_runtime import tracing
from attune_runtime.clock import Clock
from attune_schemas import EscalationAction

log = structlog.get_logger(__name__)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, NotifyError) and exc.retryable


class Delivery:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        metrics: EscalationMetrics,
        max_attempts: int,
        backoff_seconds: float,
        backoff_max_seconds: float,
        poll_seconds: float,
        quick_attempts: int = 1,
        quick_wait_seconds: float = 0.2,
        concurrency: int = 10,
    ) -> None:
        self.sessions = sessions
        self.notifiers = notifiers
        self.clock = clock
        self.metrics = metrics
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.poll_seconds = poll_seconds
        self.quick_attempts = quick_attempts
        self.quick_wait_seconds = quick_wait_seconds
        self.concurrency = concurrency  # sends in flight at once on one channel
        self.wakeup = asyncio.Event()
        self.on_recorded: asyncio.Event | None = None  # the outbox relay's wake-up

    async def deliver_due(self, channel: str | None = None) -> int:
        """Attempt every due notification (of one channel, or of every channel concurrently)."""
        if channel is None:
            channels = await self._pending_channels()
            done = await asyncio.gather(*(self.deliver_due(c) for c in channels))
            return sum(done)
        now = self.clock.now()
        async with self.sessions() as session:
            due = (
                await session.scalars(
                    select(Notification.id)
                    .where(
                        Notification.channel == channel,
                        Notification.status == "pending",
                        Notification.next_attempt_at <= now,
                    )
                    # Critical first: a backlog of warnings never holds up a crisis page.
                    .order_by(Notification.priority.desc(), Notification.created_at)
                    .limit(50)
                )
            ).all()
        for start in range(0, len(due), self.concurrency):
            await self._attempt(list(due[start : start + self.concurrency]))
        if due and self.on_recorded is not None:
            self.on_recorded.set()
        return len(due)

    async def _pending_channels(self) -> list[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Notification.channel).where(Notification.status == "pending").distinct()
            )
            return sorted(rows.all())

    async def _send(self, notifier: Notifier, n: Notification) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self.quick_attempts),
            wait=wait_exponential(multiplier=self.quick_wait_seconds, max=5),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                # The row's id is the notification's idempotency key (notification_key).
                await notifier.send(dict(n.payload), idempotency_key=n.id)

    async def _attempt(self, ids: list[str]) -> None:
        """Send these notifications concurrently; record every outcome in one transaction.

        Nothing is committed before the sends: a process killed mid-send leaves the rows
        pending, and they are sent again (same keys) after the restart.
        """
        async with self.sessions() as session, session.begin():
            rows = (
                await session.scalars(
                    select(Notification)
                    .where(Notification.id.in_(ids), Notification.status == "pending")
                    .order_by(Notification.priority.desc(), Notification.created_at)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            errors = await asyncio.gather(*(self._try(n) for n in rows))
            now = self.clock.now()
            for n, error in zip(rows, errors, strict=True):
                incident = await session.get(Incident, n.incident_id)
                assert incident is not None
                n.attempts += 1
                # Its log line and escalation event carry on the trace that queued it.
                with tracing.resumed(n.traceparent, "notification recorded"):
                    self._record(session, n, incident, error, now)

    async def _try(self, n: Notification) -> NotifyError | None:
        notifier = self.notifiers.get(n.channel)
        if notifier is None:
            return NotifyError("channel_not_configured", retryable=False)
        try:
            # HTTP channels send the trace on as their request's `traceparent` header.
            with tracing.resumed(n.traceparent, f"notify {n.channel}", tracing.CLIENT):
                await self._send(notifier, n)
        except NotifyError as exc:
            return exc
        return None

    def _record(
        self,
        session: AsyncSession,
        n: Notification,
        incident: Incident,
        error: NotifyError | None,
        now: datetime,
    ) -> None:
        if error is None:
            n.status, n.sent_at, n.last_error = "sent", now, None
            self.metrics.notifications.labels(n.channel, "sent").inc()
            record_event(
                session,
                incident,
                EscalationAction.NOTIFIED,
                "system",
                now,
                {"channel": n.channel, "notification_id": n.id, "attempts": n.attempts},
            )
            log.info(
                "notification_sent",
                incident_id=incident.id,
                channel=n.channel,
                idempotency_key=n.id,
                attempts=n.attempts,
            )
            return
        n.last_error = error.reason[:300]
        if error.retryable and n.attempts < self.max_attempts:
            delay = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** (n.attempts - 1))
            n.next_attempt_at = now + timedelta(seconds=delay)
            self.metrics.notifications.labels(n.channel, "retrying").inc()
            log.warning(
                "notification_retry_scheduled",
                incident_id=incident.id,
                channel=n.channel,
                idempotency_key=n.id,
                reason=error.reason,
                attempts=n.attempts,
                delay_seconds=delay,
            )
            return
        n.status = "failed"
        self.metrics.notifications.labels(n.channel, "failed").inc()
        record_event(
            session,
            incident,
            EscalationAction.NOTIFICATION_FAILED,
            "system",
            now,
            {
                "channel": n.channel,
                "notification_id": n.id,
                "reason": error.reason,
                "attempts": n.attempts,
            },
        )
        log.error(
            "notification_failed",
            incident_id=incident.id,
            channel=n.channel,
            idempotency_key=n.id,
            reason=error.reason,
            attempts=n.attempts,
        )

    async def run_channel(self, channel: str, wakeup: asyncio.Event) -> None:
        while True:
            try:
                await self.deliver_due(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("notification_worker_error", channel=channel, error=type(exc).__name__)
            wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await wakeup.wait()

    async def run(self) -> None:
        """One worker per configured channel, each woken whenever work may have been queued."""
        wakeups = {channel: asyncio.Event() for channel in self.notifiers}

        async def fan_out() -> None:
            while True:
                await self.wakeup.wait()
                self.wakeup.clear()
                for event in wakeups.values():
                    event.set()

        async with asyncio.TaskGroup() as group:
            group.create_task(fan_out())
            for channel, event in wakeups.items():
                group.create_task(self.run_channel(channel, event), name=f"deliver:{channel}")
