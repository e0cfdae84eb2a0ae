"""A producer that stands in for Kafka in unit tests: it acknowledges, fails or stalls on cue;
and a broker publisher made to fail on cue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher

Mode = Literal["ack", "down", "fail", "stall"]


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes
    value: bytes
    headers: dict[str, bytes]

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.value)
        return parsed


class FakeProducer:
    """`acked` is what the broker acknowledged, in order: what reached the topic.

    Modes: ack (at once), down (send raises, nothing enqueued), fail (enqueued, then the
    delivery fails as after a producer timeout), stall (enqueued; `release` decides later).
    """

    def __init__(self) -> None:
        self.mode: Mode = "ack"
        self.acked: list[Sent] = []
        self.stalled: list[tuple[asyncio.Future[Any], Sent]] = []
        self.error: type[BaseException] = KafkaTimeoutError

    async def send(
        self, topic: str, value: bytes, key: bytes, *, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        if self.mode == "down":
            raise KafkaConnectionError()
        record = Sent(topic, key, value, dict(headers))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.mode == "stall":
            self.stalled.append((future, record))
        elif self.mode == "fail":
            future.set_exception(self.error())
        else:
            self.acked.append(record)
            future.set_result(None)
        return future

    def release(self, *, ok: bool) -> None:
        """Settle every stalled send: acknowledged, or failed as after a timeout."""
        for future, record in self.stalled:
            if ok:
                self.acked.append(record)
                future.set_result(None)
            else:
                future.set_exception(KafkaTimeoutError())
        self.stalled.clear()

    def ids(self) -> list[str]:
        return [s.json["event_id"] for s in self.acked]


def fail_publishes(broker: KafkaBroker, topic: str, *, when: Callable[[], bool]) -> None:
    """The broker's publisher to `topic` raises KafkaConnectionError while `when()` holds."""
    [out] = [p for p in broker.publishers if isinstance(p, DefaultPublisher) and p.topic == topic]
    real_publish = out.publish

    async def publish(*args: Any, **kwargs: Any) -> Any:
        if when():
            raise KafkaConnectionError()
        return await real_publish(*args, **kwargs)

    out.publish = publish  # type: ignore[method-assign]
