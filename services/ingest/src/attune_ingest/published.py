"""What ingest already published, read back from conversation.events when it starts.

Without it a restart forgets the dedup window and republishes an integrator's retries. The
topic is the store: each record carries its event_id in a header (older records in the
value) and its broker timestamp says when it was published.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from aiokafka import ConsumerRecord

from attune_runtime.clock import Clock
from attune_runtime.dedup import SeenIds
from attune_runtime.kafka_client import KafkaClientSettings
from attune_runtime.replay import replay_topic
from attune_schemas import ConversationEvent, InvalidMessage, JsonLimits, load_json

log = structlog.get_logger(__name__)

_LIMITS = JsonLimits()


DedupKey = tuple[str, int]


def dedup_key(event: ConversationEvent) -> DedupKey:
    """What the dedup memory holds per event: its tenant and its id as an int (hashes far
    faster than a UUID). Per tenant: another tenant's id is never this tenant's duplicate."""
    return event.tenant_id, event.event_id.int


def key_of(record: ConsumerRecord[bytes, bytes]) -> DedupKey | None:
    try:
        headers = dict(record.headers or ())
        if "event_id" in headers and "tenant_id" in headers:
            return headers["tenant_id"].decode(), UUID(headers["event_id"].decode()).int
        if record.value is not None:
            parsed: Any = load_json(record.value, _LIMITS)
            if isinstance(parsed, dict):
                event_id, tenant_id = parsed.get("event_id"), parsed.get("tenant_id")
                if isinstance(event_id, str) and isinstance(tenant_id, str):
                    return tenant_id, UUID(event_id).int
    except (InvalidMessage, ValueError, UnicodeDecodeError):
        pass
    return None


async def remember_published(
    seen: SeenIds,
    *,
    kafka: KafkaClientSettings,
    topic: str,
    window: timedelta,
    clock: Clock,
) -> int:
    """Add the ids published to `topic` within `window` to `seen`; returns how many."""
    found: list[tuple[datetime, DedupKey]] = []

    def collect(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            key = key_of(record)
            if key is not None:
                found.append((datetime.fromtimestamp(record.timestamp / 1000, UTC), key))

    started = clock.now()
    records = await replay_topic(kafka=kafka, topic=topic, since=started - window, apply=collect)
    # Oldest first across partitions, so the window and size cap forget the right ones.
    for at, key in sorted(found, key=lambda f: f[0]):
        seen.add(key, at=at)
    log.info("dedup_rebuilt_from_topic", topic=topic, records=records, ids=len(found))
    return len(found)
