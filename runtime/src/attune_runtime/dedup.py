"""A bounded, time-limited memory of ids already handled, and publishing each id once."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from attune_runtime.clock import Clock

T = TypeVar("T")


class SeenIds:
    """Remembers ids for `window`, at most `max_size` of them (oldest forgotten first)."""

    def __init__(self, *, window: timedelta, max_size: int, clock: Clock) -> None:
        self._window = window
        self._max_size = max_size
        self._clock = clock
        self._seen: OrderedDict[Hashable, datetime] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        at = self._seen.get(key)  # an unknown id, the usual case, needs no clock
        return at is not None and at >= self._clock.now() - self._window

    def __len__(self) -> int:
        self._expire()
        return len(self._seen)

    def add(self, key: Hashable, *, at: datetime | None = None) -> None:
        """Remember `key` as seen now, or at `at` (rebuilding: add in time order)."""
        self._seen[key] = at or self._clock.now()
        self._seen.move_to_end(key)
        self._expire()

    def add_many(self, keys: Iterable[Hashable]) -> None:
        """Remember several keys as seen now (one clock reading)."""
        now = self._clock.now()
        for key in keys:
            self._seen[key] = now
            self._seen.move_to_end(key)
        self._expire()

    def discard(self, key: Hashable) -> None:
        self._seen.pop(key, None)

    def _expire(self) -> None:
        horizon = self._clock.now() - self._window
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if at >= horizon and len(self._seen) <= self._max_size:
                break
            del self._seen[key]


Send = Callable[[list[T]], Awaitable[Sequence[BaseException | None]]]


@dataclass
class Published(Generic[T]):
    fresh: list[T] = field(default_factory=list)  # sent by this call and acknowledged
    duplicates: list[T] = field(default_factory=list)  # already acknowledged, by anyone
    waited: int = 0  # pending publishes of other calls this call waited for


class PublishOnce(Generic[T]):
    """Publish each id at most once per window, and never promise one the broker did not ack.

    An id counts as seen only once its publish was acknowledged. A call that meets an id whose
    publish is still pending waits for that outcome: acknowledged makes it a duplicate, failed
    frees the id and this call publishes it. A call never holds a claim while it waits, so two
    calls with crossing ids cannot wait for each other.
    """

    def __init__(self, seen: SeenIds, *, key: Callable[[T], Hashable]) -> None:
        self.seen = seen
        self._key = key
        self._pending: dict[Hashable, asyncio.Future[None]] = {}
        self.waiting = 0  # calls waiting for another call's publish right now

    def pending(self) -> int:
        return len(self._pending)

    async def publish(self, items: Sequence[T], send: Send[T]) -> Published[T]:
        """Send the items not yet acknowledged; raise the first failure after marking the rest.

        `send` gets the new items in order and returns one outcome per item (None = acked).
        """
        result: Published[T] = Published()
        while True:
            waits = {self._pending[k] for k in map(self._key, items) if k in self._pending}
            if not waits:
                break
            result.waited += len(waits)
            self.waiting += 1
            try:
                await asyncio.wait(waits)
            finally:
                self.waiting -= 1
        # From here to the send no await: checking and claiming the ids is one step.
        claimed: set[Hashable] = set()
        for item in items:
            k = self._key(item)
            if k in claimed or k in self.seen:
                result.duplicates.append(item)
            else:
                claimed.add(k)
                result.fresh.append(item)
        if not claimed:
            return result
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.update(dict.fromkeys(claimed, done))
        failure: BaseException | None = None
        try:
            outcomes = await send(result.fresh)
            acked = []
            for item, outcome in zip(result.fresh, outcomes, strict=True):
                if outcome is None:
                    acked.append(self._key(item))
                elif failure is None:
                    failure = outcome
            self.seen.add_many(acked)
        finally:
            for k in claimed:
                del self._pending[k]
            done.set_result(None)
        if failure is not None:
            raise failure
        return result
