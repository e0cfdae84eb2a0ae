"""Notification channels: one signature, and every failure says whether it is retryable.

Delivery is at least once: a notification whose attempt was cut short (a timeout, a crash or a
kill mid-request) is sent again. Every attempt of one notification carries the same
idempotency key, in the body and in the `Idempotency-Key` header, so a receiver can drop the
repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from attune_runtime.ids import derived_id

IDEMPOTENCY_HEADER = "Idempotency-Key"


def notification_key(*, incident_id: str, channel: str, reason: str) -> str:
    """The idempotency key of one notification: one incident, one channel, one reason to notify.

    Derived, not random, so it is the same on every attempt and after any restart; it is also
    the notification row's id.
    """
    return str(derived_id("notification", incident_id, channel, reason))


class NotifyError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Notifier(Protocol):
    @property
    def channel(self) -> str: ...

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        """Deliver or raise NotifyError."""


def signals(payload: Mapping[str, Any]) -> list[str]:
    """Signal names a notification may show: crisis categories, else marker names."""
    return list(payload.get("crisis_categories") or payload.get("markers") or [])
