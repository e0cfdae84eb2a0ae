"""Readiness that means progress: a silent broker is not ready; lag and readiness as metrics;
the intake producer's deliveries count for ingest's readiness."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from attune_runtime.clock import ManualClock
from attune_runtime.consumers import ConsumerMetrics
from attune_runtime.health import ConsumerProgress, Readiness
from attune_runtime.kafka import ManagedProducer
from attune_runtime.settings import ServiceSettings


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass
class Consumer:
    """What readiness and the lag loop read of aiokafka's consumer."""

    end: dict[TP, int]
    position_: dict[TP, int]
    committed_: dict[TP, int]
    polled_ms: dict[TP, int | None]

    def assignment(self) -> set[TP]:
        return set(self.end)

    def highwater(self, tp: TP) -> int:
        return self.end[tp]

    async def position(self, tp: TP) -> int:
        return self.position_[tp]

    async def committed(self, tp: TP) -> int:
        return self.committed_[tp]

    def last_poll_timestamp(self, tp: TP) -> int | None:
        return self.polled_ms[tp]


@dataclass
class Subscriber:
    consumer: Consumer
    running: bool = True
    tasks: list[Any] = field(default_factory=list)
    topic_names: list[str] = field(default_factory=lambda: ["alerts"])
    group_id: str = "attune-escalation"


A0, A1 = TP("alerts", 0), TP("alerts", 1)


def ms(clock: ManualClock, seconds_ago: float) -> int:
    return round((clock.now().timestamp() - seconds_ago) * 1000)


def readiness(clock: ManualClock, consumer: Consumer) -> Readiness:
    return Readiness(
        subscribers=[Subscriber(consumer)],
        progress=ConsumerProgress(clock),
        stall_after_seconds=60,
        silent_after_seconds=15,
    )


async def test_an_idle_partition_the_broker_keeps_answering_is_ready(clock: ManualClock) -> None:
    clock.advance(3600)
    consumer = Consumer({A0: 5}, {A0: 5}, {A0: 5}, {A0: ms(clock, 0.5)})

    ok, report = await readiness(clock, consumer).evaluate()

    assert ok
    assert report["checks"][0]["partitions"][0]["seconds_since_fetch"] == 0.5


async def test_a_partition_the_broker_stopped_answering_is_not_ready(clock: ManualClock) -> None:
    # A frozen broker: no lag (nothing new was seen), but no fetch answered for 20 s either.
    clock.advance(3600)
    consumer = Consumer({A0: 5, A1: 2}, {A0: 5, A1: 2}, {}, {A0: ms(clock, 20), A1: ms(clock, 1)})

    ok, report = await readiness(clock, consumer).evaluate()

    check = report["checks"][0]
    assert not ok
    assert check["state"] == "broker_silent"
    assert [(p["partition"], p["silent"]) for p in check["partitions"]] == [(0, True), (1, False)]


async def test_a_partition_never_fetched_counts_from_the_start(clock: ManualClock) -> None:
    r = readiness(clock, Consumer({A0: 0}, {A0: 0}, {}, {A0: None}))
    ok_at_start, _ = await r.evaluate()
    clock.advance(16)

    ok_later, _ = await r.evaluate()

    assert ok_at_start and not ok_later


async def test_lag_is_the_log_end_less_the_committed_offset_per_partition(
    clock: ManualClock,
) -> None:
    consumer = Consumer(
        {A0: 10, A1: 4}, {A0: 10, A1: 4}, {A0: 7, A1: 4}, {A0: ms(clock, 0), A1: ms(clock, 0)}
    )
    registry = CollectorRegistry()
    metrics = ConsumerMetrics(registry)

    await metrics.measure([Subscriber(consumer)], readiness(clock, consumer))

    lag = {s.labels["partition"]: s.value for m in metrics.lag.collect() for s in m.samples}
    assert lag == {"0": 3.0, "1": 0.0}
    assert registry.get_sample_value("attune_ready") == 1.0


async def test_a_revoked_partition_stops_reporting_lag(clock: ManualClock) -> None:
    consumer = Consumer(
        {A0: 10, A1: 4}, {A0: 10, A1: 4}, {A0: 7, A1: 4}, {A0: ms(clock, 0), A1: ms(clock, 0)}
    )
    registry = CollectorRegistry()
    metrics = ConsumerMetrics(registry)
    sub = Subscriber(consumer)
    await metrics.measure([sub], readiness(clock, consumer))

    del consumer.end[A1]  # rebalanced away
    await metrics.measure([sub], readiness(clock, consumer))

    assert (
        registry.get_sample_value("attune_consumer_lag", {"topic": "alerts", "partition": "1"})
        is None
    )
    assert (
        registry.get_sample_value("attune_consumer_lag", {"topic": "alerts", "partition": "0"}) == 3
    )


class FakeAioProducer:
    """Sends fail while `down`; otherwise they are acknowledged."""

    def __init__(self) -> None:
        self.down = False

    async def send(
        self, topic: str, value: bytes, key: bytes, *, headers: Any
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.down:
            future.set_exception(TimeoutError())
        else:
            future.set_result(None)
        return future


async def test_the_intake_producer_is_not_ready_while_its_deliveries_fail() -> None:
    producer = ManagedProducer(ServiceSettings(), service="ingest")
    assert producer.check().ok is False  # not started

    aio = FakeAioProducer()
    producer._producer = aio
    await _settle(await producer.send("t", b"v", b"k", headers=[]))
    ready_before = producer.check().ok
    aio.down = True
    await _settle(await producer.send("t", b"v", b"k", headers=[]))
    failing = producer.check()
    aio.down = False
    await _settle(await producer.send("t", b"v", b"k", headers=[]))

    assert ready_before
    assert not failing.ok and failing.detail == {"state": "failing"}
    assert producer.check().ok  # the next acknowledged delivery clears it
    assert producer.check(failure_window_seconds=0).ok is not False


async def _settle(future: asyncio.Future[Any]) -> None:
    with contextlib.suppress(TimeoutError):
        await future
    await asyncio.sleep(0)  # done callbacks run on the next loop turn
