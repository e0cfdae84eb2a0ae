"""A bounded, time-limited memory of ids already handled."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime, timedelta

from attune_runtime.clock import Clock


class SeenIds:
    """Remembers ids for `window`, at most `max_size` of them (oldest forgotten first)."""

    def __init__(self, *, window: timedelta, max_size: int, clock: Clock) -> None:
        self._window = window
        self._max_size = max_size
        self._clock = clock
        self._seen: OrderedDict[Hashable, datetime] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        self._expire()
        return key in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, key: Hashable) -> None:
        self._seen[key] = self._clock.now()
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
