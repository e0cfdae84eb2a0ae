"""Failed logins are rate-limited per username and per client address (injected clock)."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from attune_runtime.clock import Clock


class FailedLogins:
    def __init__(self, *, clock: Clock, max_failures: int, window: timedelta) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str) -> deque[datetime]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        cutoff = self.clock.now() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until another attempt is allowed, or None if one is allowed now."""
        waits = []
        for key in keys:
            times = self._recent(key)
            if len(times) >= self.max_failures:
                waits.append((times[0] + self.window - self.clock.now()).total_seconds())
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock.now()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username_key: str) -> None:
        self._failures.pop(username_key, None)
