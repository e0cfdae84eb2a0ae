"""Rebuild in-memory state from the topic itself when partitions are assigned.

A service that keeps per-conversation state in memory (the classifier's windows, the router's
open alerts) loses it on restart or rebalance. Rather than a second store, the topic is the
store: on assignment we re-read each partition from `now - lookback` up to the group's committed
offset and apply those records silently (no output). Consumption then resumes at the committed
offset as usual, so every record is applied exactly once to the rebuilt state.

aiokafka may hand out records of a newly assigned partition while the listener is still
running, so handlers call `wait_ready` first: a partition is live only once it is rebuilt.

`replay_topic` does the same for state a service keeps about what it produced (ingest's
published event ids): the whole topic from `since` up to its end when the service starts.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from attune_runtime.clock import Clock
from attune_runtime.kafka_client import KafkaClientSettings, kafka_client_options

log = structlog.get_logger(__name__)

Apply = Callable[[list[ConsumerRecord[bytes, bytes]]], Awaitable[None] | None]
Forget = Callable[[Collection[TopicPartition]], None]


class WarmUp(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self,
        *,
        kafka: KafkaClientSettings,
        group_id: str,
        lookback: timedelta,
        clock: Clock,
        apply: Apply,
        forget: Forget,
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """`before`, when given, is awaited ahead of every rebuild: other state the decisions
        depend on (the router's silences) loaded first, so the rebuild decides as live did."""
        self.kafka = kafka
        self.group_id = group_id
        self.lookback = lookback
        self.clock = clock
        self.apply = apply
        self.forget = forget
        self.before = before
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
            if self.before is not None:
                await self.before()
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
        admin = AIOKafkaAdminClient(**kafka_client_options(self.kafka))
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(
                self.group_id, partitions=list(assigned)
            )
        finally:
            await admin.close()
        return {tp: (offsets[tp].offset if tp in offsets else None) for tp in assigned}

    async def _replay(self, ends: dict[TopicPartition, int]) -> int:
        reader = _reader(self.kafka)
        await reader.start()
        try:
            return await _read(reader, ends, self.clock.now() - self.lookback, self.apply)
        finally:
            await reader.stop()


async def replay_topic(
    *, kafka: KafkaClientSettings, topic: str, since: datetime, apply: Apply
) -> int:
    """Apply every record of `topic` written since `since`, up to its end as of now.

    For state a producer keeps about what it wrote (ingest's published ids): there is no
    committed offset to stop at, so the end is the topic's end when this starts.
    """
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka))
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    if not partitions:
        return 0
    reader = _reader(kafka)
    await reader.start()
    try:
        ends = await reader.end_offsets(partitions)
        return await _read(reader, {tp: e for tp, e in ends.items() if e > 0}, since, apply)
    finally:
        await reader.stop()


def _reader(kafka: KafkaClientSettings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **kafka_client_options(kafka),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def _read(
    reader: AIOKafkaConsumer, ends: dict[TopicPartition, int], since: datetime, apply: Apply
) -> int:
    """Apply the records of each partition from the first at or after `since` up to its end."""
    if not ends:
        return 0
    count = 0
    reader.assign(list(ends))
    since_ms = int(since.timestamp() * 1000)
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
            result = apply(chunk)
            if inspect.isawaitable(result):
                await result
            count += len(chunk)
        for tp in list(remaining):
            if await reader.position(tp) >= remaining[tp]:
                del remaining[tp]
    return count
