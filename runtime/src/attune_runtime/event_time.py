"""Event time: which `occurred_at` a service believes, and how far each partition's time has got.

Services keep state per (tenant, conversation) and judge idleness in event time, so a backfill
behaves like live traffic. Two rules keep one bad timestamp from touching anyone else's time:
an event dated too far ahead of the service's clock, or before the product existed, is rejected
with the reason (`check_event_time`); and idle expiry reads a per-partition watermark that lags
the newest event by an allowed lateness and never runs ahead of the service's clock
(`Watermarks`). Both take `now` from the caller's injected clock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from attune_schemas.event_time import (
    BEFORE_EPOCH,
    EPOCH,
    IN_FUTURE,
    EventTimeBounds,
    check_event_time,
)

Partition = int | None  # None: records that came from no partition (offline scoring, tests)

__all__ = [
    "BEFORE_EPOCH",
    "EPOCH",
    "IN_FUTURE",
    "EventTimeBounds",
    "Partition",
    "Watermarks",
    "check_event_time",
]


class Watermarks:
    """Event time per partition: the newest event seen there, less the allowed lateness.

    Read with the service's `now` as a ceiling, so even an event that slipped past the bound
    cannot make a partition's conversations look idle before their time. One partition's
    events never move another partition's time.
    """

    def __init__(self, lateness: timedelta) -> None:
        self.lateness = lateness
        self._newest: dict[Partition, datetime] = {}

    def observe(self, partition: Partition, at: datetime) -> None:
        newest = self._newest.get(partition)
        if newest is None or at > newest:
            self._newest[partition] = at

    def time(self, partition: Partition, *, now: datetime) -> datetime | None:
        """How far event time has got on `partition`; None before its first event."""
        newest = self._newest.get(partition)
        return None if newest is None else min(newest - self.lateness, now)

    def partitions(self) -> list[Partition]:
        return list(self._newest)

    def forget(self, partitions: Collection[Partition]) -> None:
        for p in partitions:
            self._newest.pop(p, None)

    def copy(self) -> Watermarks:
        other = Watermarks(self.lateness)
        other._newest = dict(self._newest)
        return other
