"""The broker freezes (SIGSTOP) for longer than ingest's producer timeout while integrators keep
sending and retrying as the README advises: every event ingest answered 202, as accepted or as a
duplicate, is on conversation.events exactly once (issue 7: a "202 duplicate" hid lost events).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, run_id, running_stack, wait_until
from tests.factories import event_json
from tests.faults.integrators import Event, Integrators, conversations, on_partition
from tests.faults.private_kafka import PrivateKafka
from tests.integration.conftest import TopicReader, topic_prefix

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]

# Lowered from aiokafka's 40 s so that a freeze past it stays short.
PRODUCER_TIMEOUT_MS = 2_000
FREEZE_SECONDS = 3 * PRODUCER_TIMEOUT_MS / 1000
# Shorter than the producer's timeout: retries arrive while the first publish is still pending.
CLIENT_TIMEOUT_SECONDS = 1.0
# Bulk senders wait longer than the producer, so they hear its 503s. Three batches of 320 kB to
# one partition during the freeze fill more than the producer's batches hold (256 kB each, one
# in flight and one filling): the rest waits for room, past the timeout, and fails.
BULK_TIMEOUT_SECONDS = 10.0
BULK_SENDERS, BULK_EVENTS, BULK_TEXT = 3, 40, 8_000


def bulk_conversations(run: str, start: datetime) -> list[list[Event]]:
    """Long messages, every conversation on the same partition."""
    return [
        [
            event_json(
                conversation_id=cid,
                at=start + timedelta(seconds=n),
                text=f"{n} " + "I keep going over it all at night. " * (BULK_TEXT // 35),
            )
            for n in range(BULK_EVENTS)
        ]
        for cid in on_partition(f"bulk-{run}", partition=0, count=BULK_SENDERS)
    ]


@pytest.fixture
async def ingest(private_kafka: PrivateKafka, tmp_path: Path) -> AsyncIterator[Stack]:
    """Ingest as a process on the private broker."""
    settings = {"ATTUNE_INGEST_PRODUCER_REQUEST_TIMEOUT_MS": str(PRODUCER_TIMEOUT_MS)}
    async with (
        topic_prefix(private_kafka.bootstrap) as prefix,
        running_stack(
            private_kafka.bootstrap, prefix, tmp_path, services=("ingest",), settings=settings
        ) as stack,
    ):
        yield stack


async def test_every_event_answered_202_is_on_the_topic_exactly_once(
    ingest: Stack, private_kafka: PrivateKafka
) -> None:
    run, start = run_id(), datetime.now(UTC) - timedelta(minutes=20)
    convs = conversations(run, start, crisis=6, ordinary=6)
    streams = [events for group in convs.values() for events in group]
    bulk_streams = bulk_conversations(run, start)
    sent = {e["event_id"] for events in streams + bulk_streams for e in events}
    url = ingest.url("ingest")
    integrators = Integrators(url, ingest.auth(), timeout=CLIENT_TIMEOUT_SECONDS)
    bulk = Integrators(url, ingest.auth(), timeout=BULK_TIMEOUT_SECONDS)
    # One client per conversation; some send batches, whose retries must come back whole.
    tasks = [
        asyncio.create_task(integrators.conversation(events, pause=0.05, batch=1 + n % 3))
        for n, events in enumerate(streams)
    ]
    try:
        await wait_until(lambda: len(integrators.answered) >= len(sent) // 4)
        private_kafka.freeze()
        try:
            tasks += [
                asyncio.create_task(bulk.conversation(events, pause=0, batch=BULK_EVENTS))
                for events in bulk_streams
            ]
            await asyncio.sleep(FREEZE_SECONDS)
        finally:
            private_kafka.thaw()
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()

    topic = TopicReader(private_kafka.bootstrap, f"{ingest.prefix}conversation.events")
    await topic.start()
    answered = integrators.answered | bulk.answered
    try:
        await topic.wait_for(lambda v: {e["event_id"] for e in v} >= answered)
        published = Counter(e["event_id"] for e in await topic.settle(2.0))
    finally:
        await topic.stop()

    # The faults happened: clients waited out the freeze and sent the same events again, and
    # publishes that found no room failed (503) and were sent again.
    assert integrators.retries["timeout"] > 0, integrators.retries
    assert bulk.retries["503"] > 0, bulk.retries
    assert answered == sent
    twice = {event_id: n for event_id, n in published.items() if n > 1}
    assert not twice, f"published more than once: {twice}"
    assert set(published) == sent
