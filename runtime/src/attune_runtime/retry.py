"""Back off before a transiently failed message is retried, so an outage is not a hot loop."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream._internal.context.repository import ContextRepo
from faststream.message import StreamMessage

from attune_schemas import InvalidMessage

log = structlog.get_logger(__name__)


class RetryBackoff:
    """Middleware factory; the delay doubles per consecutive failure and resets on success."""

    def __init__(self, *, initial: float, maximum: float) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def __call__(self, msg: Any, /, *, context: ContextRepo) -> _RetryBackoff:
        return _RetryBackoff(msg, context=context, state=self)

    def next_delay(self) -> float:
        self.failures += 1
        return float(min(self.maximum, self.initial * 2 ** (self.failures - 1)))


class _RetryBackoff(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: ContextRepo, state: RetryBackoff) -> None:
        super().__init__(msg, context=context)
        self.state = state

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        try:
            result = await call_next(msg)
        except (InvalidMessage, asyncio.CancelledError):
            raise
        except Exception as exc:
            delay = self.state.next_delay()
            log.warning(
                "message_retry_scheduled",
                error=type(exc).__name__,
                attempt=self.state.failures,
                delay_seconds=delay,
            )
            await asyncio.sleep(delay)
            raise
        self.state.failures = 0
        return result
