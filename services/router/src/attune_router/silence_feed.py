"""Follows the compacted `silences` topic into the router's `SilenceBook`.

Every router instance reads every partition from the beginning (no consumer group: silences
are not shared out like assessments), is ready once it has read up to the ends it saw at start,
and keeps following. A record it cannot read is skipped and counted: a silence only ever mutes,
so a lost one pages rather than hides an alert.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
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

    def apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            try:
                silence: Silence = decode(SILENCE, record.value)
            except InvalidMessage as exc:
                log.warning("silence_unreadable", offset=record.offset, reason=exc.reason)
                self.metrics.silences_unreadable.inc()
                continue
            self.book.put(silence)
            log.info(
                "silence_applied",
                silence_id=str(silence.silence_id),
                tenant_id=silence.tenant_id,
                ends_at=silence.ends_at.isoformat(),
            )

    async def run(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker away: read it all again once it is back
                log.warning("silence_feed_failed", error=type(exc).__name__)
                await asyncio.sleep(2.0)

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(
            **kafka_client_options(self.kafka),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        partitions = await self._partitions()
        await consumer.start()
        try:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                self.apply([r for records in batch.values() for r in records])
                if not self.ready.is_set() and await _caught_up(consumer, ends):
                    self.ready.set()
                    log.info("silences_loaded", silences=len(self.book.silences))
        finally:
            await consumer.stop()

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


async def _caught_up(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True
