"""When an event may claim to have happened: after the product's epoch, not far ahead of now.

One future-dated event would move event clocks downstream, so every service checks the bound
on what it consumes (ingest at intake, classifier, router and escalation again), always with the
caller's injected `now`, never the wall clock. The reason names the bound crossed, never the
value: a dead letter already carries the payload and an HTTP answer never echoes input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from attune_schemas.codec import InvalidMessage
from attune_schemas.dead_letter import FieldError

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)  # nothing the product handles happened before this
MAX_FUTURE = timedelta(minutes=5)
IN_FUTURE = "occurred_in_future"
BEFORE_EPOCH = "occurred_before_epoch"


def check_event_time(
    occurred_at: datetime, *, now: datetime, max_future: timedelta, epoch: datetime = EPOCH
) -> str | None:
    """The reason `occurred_at` is not believable at `now`, or None when it is."""
    if occurred_at > now + max_future:
        return IN_FUTURE
    if occurred_at < epoch:
        return BEFORE_EPOCH
    return None


@dataclass(frozen=True)
class EventTimeBounds:
    max_future: timedelta = MAX_FUTURE
    epoch: datetime = EPOCH

    def rejection(self, occurred_at: datetime, *, now: datetime) -> InvalidMessage | None:
        """The error to answer or dead-letter with, or None when `occurred_at` is in bounds."""
        reason = check_event_time(
            occurred_at, now=now, max_future=self.max_future, epoch=self.epoch
        )
        if reason is None:
            return None
        why = (
            f"more than {int(self.max_future.total_seconds())} s ahead of the receiver's clock"
            if reason == IN_FUTURE
            else f"before {self.epoch.isoformat()}, the earliest time accepted"
        )
        return InvalidMessage(reason, (FieldError(field="occurred_at", reason=why),))

    def check(self, occurred_at: datetime, *, now: datetime) -> None:
        """Raise the rejection when `occurred_at` is out of bounds."""
        rejection = self.rejection(occurred_at, now=now)
        if rejection is not None:
            raise rejection
