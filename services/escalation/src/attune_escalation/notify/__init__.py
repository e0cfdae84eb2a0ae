"""Notification channels: one signature, and every failure says whether it is retryable."""

from __future__ import annotations

from typing import Any, Protocol


class NotifyError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Notifier(Protocol):
    @property
    def channel(self) -> str: ...

    async def send(self, payload: dict[str, Any]) -> None:
        """Deliver or raise NotifyError."""
