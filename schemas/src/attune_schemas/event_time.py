"""When an event may claim to have happened: after the product's epoch, not far ahead of now.

One future-dated event would move every event clock downstream, so the bound is checked at
intake (and can be by any consumer) with the caller's `now`, never the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from attune_schemas.codec import InvalidMessage
from attune_schemas.dead_letter import FieldError

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
MAX_FUTURE = timedelta(minutes=5)
OUT_OF_BOUNDS = "event_time_out_of_bounds"


@dataclass(frozen=True)
class EventTimeBounds:
    epoch: datetime = EPOCH
    max_future: timedelta = MAX_FUTURE

    def error(self, occurred_at: datetime, *, now: datetime) -> FieldError | None:
        """Why `occurred_at` is out of bounds, or None; the reason never quotes the value."""
        if occurred_at < self.epoch:
            return FieldError(
                field="occurred_at",
                reason=f"before {self.epoch.isoformat()}, the earliest time accepted",
            )
        if occurred_at > now + self.max_future:
            seconds = int(self.max_future.total_seconds())
            return FieldError(
                field="occurred_at", reason=f"more than {seconds} s ahead of the receiver's clock"
            )
        return None

    def check(self, occurred_at: datetime, *, now: datetime) -> None:
        """Raise InvalidMessage(OUT_OF_BOUNDS) when `occurred_at` is out of bounds."""
        error = self.error(occurred_at, now=now)
        if error is not None:
            raise InvalidMessage(OUT_OF_BOUNDS, (error,))
