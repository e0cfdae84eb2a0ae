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
from attune_runtime.replay import replay_topic
from attune_schemas import ConversationEvent, InvalidMessage, JsonLimits, load_json

log = structlog.get_logger(__name__)

_LIMITS = JsonLimits()


def dedup_key(event: ConversationEvent) -> int:
    """What the dedup memory holds per event: the id as an int (hashes far faster than a UUID)."""
    return event.event_id.int


def event_id_of(record: ConsumerRecord[bytes, bytes]) -> UUID | None:
    try:
        for name, value in record.headers or ():
            if name == "event_id":
                return UUID(value.decode())
        if record.value is not None:
            parsed: Any = load_json(record.value, _LIMITS)
            if isinstance(parsed, dict) and isinstance(parsed.get("event_id"), str):
                return UUID(parsed["event_id"])
    except (InvalidMessage, ValueError):
        pass
    return None


async def remember_published(
    seen: SeenIds, *, bootstrap_servers: str, topic: str, window: timedelta, clock: Clock
) -> int:
    """Add the ids published to `topic` within `window` to `seen`; returns how many."""
    found: list[tuple[datetime, UUID]] = []

    def collect(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            event_id = event_id_of(record)
            if event_id is not None:
                found.append((datetime.fromtimestamp(record.timestamp / 1000, UTC), event_id))

    started = clock.now()
    records = await replay_topic(
        bootstrap_servers=bootstrap_servers, topic=topic, since=started - window, apply=collect
    )
    # Oldest first across partitions, so the window and size cap forget the right ones.
    for at, event_id in sorted(found, key=lambda f: f[0]):
        seen.add(event_id.int, at=at)
    log.info("dedup_rebuilt_from_topic", topic=topic, records=records, ids=len(found))
    return len(found)
