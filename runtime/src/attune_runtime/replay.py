"""Rebuild in-memory state from the topic itself when partitions are assigned.

A service that keeps per-conversation state in memory (the classifier's windows, the router's
open alerts) loses it on restart or rebalance. Rather than a second store, the topic is the
store: on assignment we re-read each partition from `now - lookback` up to the group's committed
offset and apply those records silently (no output). Consumption then resumes at the committed
offset as usual, so every record is applied exactly once to the rebuilt state.

aiokafka may hand out records of a newly assigned partition while the listener is still
running, so handlers call `wait_ready` first: a partition is live only once it is rebuilt.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from attune_runtime.clock import Clock

log = structlog.get_logger(__name__)

Apply = Callable[[list[ConsumerRecord[bytes, bytes]]], Awaitable[None] | None]
Forget = Callable[[Collection[TopicPartition]], None]


class WarmUp(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        lookback: timedelta,
        clock: Clock,
        apply: Apply,
        forget: Forget,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        self.lookback = lookback
        self.clock = clock
        self.apply = apply
        self.forget = forget
        self.replayed = 0
        self._ready: set[TopicPartition] = set()
        self._changed = asyncio.Condition()

    async def wait_ready(self, partitions: Collection[TopicPartition]) -> None:
        """Block until every partition given has been rebuilt after its assignment."""
        wanted = {TopicPartition(tp.topic, tp.partition) for tp in partitions}
        async with self._changed:
            await self._changed.wait_for(lambda: wanted <= self._ready)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._changed:
            self._ready -= revoked
        if revoked:
            self.forget(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            await self._rebuild(assigned)
        except Exception as exc:  # degrade to a cold start rather than stall the partitions
            log.error("state_rebuild_failed", group_id=self.group_id, error=type(exc).__name__)
        finally:
            async with self._changed:
                self._ready |= assigned
                self._changed.notify_all()

    async def _rebuild(self, assigned: set[TopicPartition]) -> None:
        if not assigned:
            return
        committed = await self._committed(assigned)
        ends = {tp: off for tp, off in committed.items() if off is not None and off > 0}
        if not ends:
            return
        count = await self._replay(ends)
        self.replayed += count
        log.info(
            "state_rebuilt_from_topic",
            group_id=self.group_id,
            partitions=sorted(f"{tp.topic}-{tp.partition}" for tp in ends),
            records=count,
            lookback_seconds=self.lookback.total_seconds(),
        )

    async def _committed(
        self, assigned: Collection[TopicPartition]
    ) -> dict[TopicPartition, int | None]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(
                self.group_id, partitions=list(assigned)
            )
        finally:
            await admin.close()
        return {tp: (offsets[tp].offset if tp in offsets else None) for tp in assigned}

    async def _replay(self, ends: dict[TopicPartition, int]) -> int:
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await reader.start()
        count = 0
        try:
            reader.assign(list(ends))
            since_ms = int((self.clock.now() - self.lookback).timestamp() * 1000)
            starts = await reader.offsets_for_times(dict.fromkeys(ends, since_ms))
            remaining = {}
            for tp, end in ends.items():
                start = starts.get(tp)
                begin = start.offset if start is not None else end
                if begin < end:
                    reader.seek(tp, begin)
                    remaining[tp] = end
            while remaining:
                batch = await reader.getmany(*remaining, timeout_ms=1000)
                chunk = [
                    record
                    for tp, records in batch.items()
                    for record in records
                    if record.offset < remaining.get(tp, -1)
                ]
                if chunk:
                    result = self.apply(chunk)
                    if inspect.isawaitable(result):
                        await result
                    count += len(chunk)
                for tp in list(remaining):
                    if await reader.position(tp) >= remaining[tp]:
                        del remaining[tp]
        finally:
            await reader.stop()
        return count
