"""Which alert times escalation believes: not too far ahead of its clock, not before the epoch.

An alert dated in the future (a producer's clock, a bad replay) or before the product existed
is dead-lettered with the reason instead of opening an incident. Escalation keeps no event
clock of its own: incidents and delivery timers run on the service clock, so an alert's time
only ever touches its own record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from attune_schemas import FieldError, InvalidMessage


@dataclass(frozen=True)
class EventTimeBounds:
    max_future_skew: timedelta
    epoch: datetime

    def check(self, occurred_at: datetime, *, now: datetime) -> InvalidMessage | None:
        """None if `occurred_at` is believable at `now`, else the error to dead-letter with."""
        if occurred_at > now + self.max_future_skew:
            seconds = int(self.max_future_skew.total_seconds())
            return _rejected(
                "occurred_in_future", f"more than {seconds} s ahead of the service clock"
            )
        if occurred_at < self.epoch:
            return _rejected("occurred_before_epoch", f"before {self.epoch.isoformat()}")
        return None


def _rejected(reason: str, why: str) -> InvalidMessage:
    return InvalidMessage(reason, (FieldError(field="occurred_at", reason=why),))
