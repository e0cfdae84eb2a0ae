"""Liveness and readiness. Ready means consuming: partitions assigned and offsets moving."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faststream import BaseMiddleware
from faststream._internal.context.repository import ContextRepo
from faststream.message import StreamMessage

from attune_runtime.clock import Clock

TopicPartitionKey = tuple[str, int]


class ConsumerProgress:
    """Remembers when each partition last moved forward; fed by a broker middleware."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.started_at = clock.now()
        self.handled: dict[TopicPartitionKey, tuple[int, datetime]] = {}

    def record(self, records: Iterable[Any]) -> None:
        now = self.clock.now()
        for r in records:
            if hasattr(r, "topic") and hasattr(r, "partition") and hasattr(r, "offset"):
                self.handled[(r.topic, r.partition)] = (r.offset, now)

    def last_progress(self, key: TopicPartitionKey) -> datetime:
        entry = self.handled.get(key)
        return entry[1] if entry else self.started_at

    def middleware(self, msg: Any, /, *, context: ContextRepo) -> BaseMiddleware:
        return _ProgressMiddleware(msg, context=context, progress=self)


class _ProgressMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: ContextRepo, progress: ConsumerProgress) -> None:
        super().__init__(msg, context=context)
        self.progress = progress

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        result = await call_next(msg)
        raw = msg.raw_message
        self.progress.record(raw if isinstance(raw, tuple | list) else (raw,))
        return result


@dataclass
class Check:
    name: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Readiness:
    """Evaluates every subscriber of a service; one call is one `/health/ready` answer."""

    subscribers: Sequence[Any]
    progress: ConsumerProgress
    stall_after_seconds: float
    extra_checks: Sequence[Callable[[], Awaitable[Check]]] = ()
    # A partition the consumer has heard nothing about from the broker for this long (no fetch
    # response, empty ones included) is not being consumed: broker unreachable or frozen, or
    # the handler holding it. None: not checked.
    silent_after_seconds: float | None = None

    async def evaluate(self) -> tuple[bool, dict[str, Any]]:
        checks = [await self._consumer_check(s) for s in self.subscribers]
        for extra in self.extra_checks:
            try:
                checks.append(await extra())
            except Exception as exc:  # a failing dependency check is "not ready", not a 500
                checks.append(Check(extra.__name__, False, {"error": type(exc).__name__}))
        ok = all(c.ok for c in checks)
        return ok, {
            "status": "ready" if ok else "not_ready",
            "checks": [{"name": c.name, "ok": c.ok, **c.detail} for c in checks],
        }

    async def _consumer_check(self, sub: Any) -> Check:
        name = f"consumer:{','.join(getattr(sub, 'topic_names', []) or ['?'])}"
        consumer = getattr(sub, "consumer", None)
        detail: dict[str, Any] = {"group_id": getattr(sub, "group_id", None)}
        if consumer is None or not getattr(sub, "running", False):
            return Check(name, False, {**detail, "state": "stopped"})
        tasks = getattr(sub, "tasks", [])
        if tasks and all(t.done() for t in tasks):
            return Check(name, False, {**detail, "state": "consume_loop_exited"})
        assignment = sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
        if not assignment:
            return Check(name, False, {**detail, "state": "no_partitions_assigned"})
        now = self.progress.clock.now()
        partitions, stalled, silent = [], False, False
        for tp in assignment:
            highwater = consumer.highwater(tp)
            try:
                async with asyncio.timeout(1.0):
                    position = await consumer.position(tp)
            except Exception:  # TimeoutError included
                position = None
            lag = None if highwater is None or position is None else max(0, highwater - position)
            idle = (now - self.progress.last_progress((tp.topic, tp.partition))).total_seconds()
            is_stalled = bool(lag) and idle > self.stall_after_seconds
            stalled |= is_stalled
            entry: dict[str, Any] = {
                "topic": tp.topic,
                "partition": tp.partition,
                "lag": lag,
                "seconds_since_progress": round(idle, 1),
                "stalled": is_stalled,
            }
            heard = self._seconds_since_fetch(consumer, tp, now)
            if heard is not None:
                entry["seconds_since_fetch"] = round(heard, 1)
                entry["silent"] = self.silent_after_seconds is not None and (
                    heard > self.silent_after_seconds
                )
                silent |= entry["silent"]
            partitions.append(entry)
        state = "stalled" if stalled else "broker_silent" if silent else "consuming"
        ok = not (stalled or silent)
        return Check(name, ok, {**detail, "state": state, "partitions": partitions})

    def _seconds_since_fetch(self, consumer: Any, tp: Any, now: datetime) -> float | None:
        """Seconds since the broker last answered a fetch for `tp`; None if not known.

        Lag alone cannot tell a frozen broker from an idle topic: with nothing new, lag stays 0
        either way. Fetch responses keep coming from a live broker (every fetch wait, even
        empty), so their absence is the signal. Before the first one the clock starts at the
        service's start.
        """
        last_poll = getattr(consumer, "last_poll_timestamp", None)
        if last_poll is None:
            return None
        polled_ms = last_poll(tp)
        since = (
            self.progress.started_at
            if polled_ms is None
            else datetime.fromtimestamp(polled_ms / 1000, tz=now.tzinfo)
        )
        return max(0.0, (now - since).total_seconds())
