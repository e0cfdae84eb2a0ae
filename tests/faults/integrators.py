"""Integrators as the README tells them to behave, and the conversations they send.

An integrator posts each event until it is answered 202: it sends the same request again on a
503, on a timeout and when ingest cannot be reached (retries are safe). What every answer said
is recorded, so a test can hold ingest to its promises.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from aiokafka.partitioner import murmur2

from demo import build_events  # deploy/demo/demo.py

Event = dict[str, Any]


@dataclass
class Integrators:
    """Every client of one test: what ingest answered them and why they had to retry."""

    url: str
    auth: httpx.Auth  # the integrator keys (Stack.auth())
    timeout: float = 5.0
    # Shorter than the Retry-After ingest sends (5 s), to keep the tests short.
    backoff: float = 0.2
    answered: set[str] = field(default_factory=set)  # every event_id answered 202
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)  # why a request was sent again

    async def send(self, client: httpx.AsyncClient, body: Event | list[Event]) -> None:
        """POST one event or a batch until ingest answers 202 for all of it."""
        ids = {e["event_id"] for e in (body if isinstance(body, list) else [body])}
        while True:
            try:
                r = await client.post(f"{self.url}/v1/events", json=body, timeout=self.timeout)
            except httpx.TimeoutException:
                self.retries["timeout"] += 1
            except httpx.TransportError:  # refused, reset: ingest is down or was killed
                self.retries["unreachable"] += 1
            else:
                if r.status_code == 202:
                    answer = r.json()
                    assert set(answer["accepted"]) | set(answer["duplicates"]) == ids, r.text
                    self.accepted.update(answer["accepted"])
                    self.duplicates.update(answer["duplicates"])
                    self.answered |= ids
                    return
                assert r.status_code == 503, f"{r.status_code}: {r.text}"
                self.retries["503"] += 1
            await asyncio.sleep(self.backoff)

    async def conversation(
        self,
        events: Sequence[Event],
        *,
        pause: float,
        batch: int = 1,
        after_each: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """Send a conversation in order, `batch` events per request, `pause` seconds apart.

        `after_each(index)` runs once the events up to `index` are answered 202."""
        async with httpx.AsyncClient(auth=self.auth) as client:
            for start in range(0, len(events), batch):
                chunk = list(events[start : start + batch])
                await self.send(client, chunk if batch > 1 else chunk[0])
                if after_each is not None:
                    await after_each(start + len(chunk) - 1)
                await asyncio.sleep(pause)


def conversations(run: str, start: datetime, **counts: int) -> dict[str, list[list[Event]]]:
    """`counts` conversations of each demo script, e.g. crisis=3, ordinary=2 (distinct ids)."""
    return {
        script: [build_events(script, f"{run}-{n}", start) for n in range(count)]
        for script, count in counts.items()
    }


def conversation_id(events: Sequence[Event]) -> str:
    return str(events[0]["conversation_id"])


# The demo's crisis script: the client's first message with crisis language.
CRISIS_MESSAGE = 4


def partition_of(conversation_id: str, partitions: int = 3) -> int:
    """The partition a conversation's records go to (the producers' default partitioner)."""
    return int((murmur2(conversation_id.encode()) & 0x7FFFFFFF) % partitions)


def on_partition(stem: str, partition: int, count: int) -> list[str]:
    """`count` conversation ids starting with `stem` whose records share `partition`."""
    found = (f"{stem}-{n}" for n in range(10_000))
    return [cid for cid in found if partition_of(cid) == partition][:count]


def demo_on_partition(script: str, run: str, start: datetime, partition: int) -> list[Event]:
    """One conversation of a demo script whose records go to `partition`."""
    for n in range(10_000):
        events = build_events(script, f"{run}-{n}", start)
        if partition_of(conversation_id(events)) == partition:
            return events
    raise AssertionError(f"no {script} conversation on partition {partition}")
