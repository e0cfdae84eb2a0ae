"""Follows the compacted `silences` topic into the router's `SilenceBook`.

Its records come through a subscriber without a consumer group (`handlers.register_silences`):
every router instance reads every partition from the beginning (silences are not shared out like
assessments) and commits nothing. The feed is ready once it has read up to the ends the topic had
at start (`load_ends`, before the broker starts), and keeps following. A record it cannot read is
skipped and counted: a silence only ever mutes, so a lost one pages rather than hides an alert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from attune_router.metrics import RouterMetrics
from attune_router.stages.silences import SilenceBook
from attune_runtime.kafka_client import KafkaClientSettings, kafka_client_options
from attune_schemas import InvalidMessage, Silence, decode
from attune_schemas.topics import SILENCES
from attune_schemas.topics import topic as topic_spec

SILENCE = topic_spec(SILENCES).value

log = structlog.get_logger(__name__)


class SilenceFeed:
    def __init__(
        self,
        *,
        kafka: KafkaClientSettings,
        topic: str,
        book: SilenceBook,
        metrics: RouterMetrics,
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.book = book
        self.metrics = metrics
        self.ready = asyncio.Event()
        # Partition -> its end offset at start, for the partitions not read up to it yet.
        self._unread: dict[int, int] | None = None

    async def load_ends(self) -> None:
        """Note where each partition ends now: the feed is ready once it has read that far."""
        partitions = await self._partitions()
        consumer = AIOKafkaConsumer(
            **kafka_client_options(self.kafka), group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        try:
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        self._unread = {tp.partition: end for tp, end in ends.items() if end > starts[tp]}
        self._settle()

    def apply(self, records: Iterable[Any]) -> None:
        """Records of the topic (aiokafka ConsumerRecords), in offset order per partition."""
        for record in records:
            self._put(record)
            if self._unread is not None and record.offset + 1 >= self._unread.get(
                record.partition, 0
            ):
                self._unread.pop(record.partition, None)
        self._settle()

    def _put(self, record: Any) -> None:
        try:
            silence: Silence = decode(SILENCE, record.value)
        except InvalidMessage as exc:
            log.warning("silence_unreadable", offset=record.offset, reason=exc.reason)
            self.metrics.silences_unreadable.inc()
            return
        self.book.put(silence)
        log.info(
            "silence_applied",
            silence_id=str(silence.silence_id),
            tenant_id=silence.tenant_id,
            ends_at=silence.ends_at.isoformat(),
        )

    def _settle(self) -> None:
        if self._unread == {} and not self.ready.is_set():
            self.ready.set()
            log.info("silences_loaded", silences=len(self.book.silences))

    async def _partitions(self) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(**kafka_client_options(self.kafka))
        await admin.start()
        try:
            [described] = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        if described["error_code"] or not described["partitions"]:
            raise LookupError(f"topic {self.topic} is missing (`attune topics apply`)")
        return [TopicPartition(self.topic, p["partition"]) for p in described["partitions"]]
