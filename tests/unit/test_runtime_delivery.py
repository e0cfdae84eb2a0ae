"""Delivery helpers: publish each id once after the ack, send with one outcome per record,
and a record that keeps failing counted as poison."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotEnoughReplicasError,
)

from attune_runtime.clock import ManualClock
from attune_runtime.dedup import PublishOnce, SeenIds
from attune_runtime.kafka import OutRecord, send_records
from attune_runtime.poison import RetryLimit
from tests.kafka_fakes import FakeProducer


def seen_ids(clock: ManualClock) -> SeenIds:
    return SeenIds(window=timedelta(seconds=60), max_size=100, clock=clock)


class Broker:
    """A `send` for PublishOnce: each call waits on a gate the test opens or fails."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gates: list[asyncio.Future[list[BaseException | None]]] = []

    async def send(self, items: list[str]) -> Sequence[BaseException | None]:
        self.calls.append(items)
        gate: asyncio.Future[list[BaseException | None]] = asyncio.Future()
        self.gates.append(gate)
        return await gate

    def ack(self, call: int) -> None:
        self.gates[call].set_result([None] * len(self.calls[call]))

    def fail(self, call: int, *, acked: int = 0) -> None:
        n = len(self.calls[call])
        self.gates[call].set_result([None] * acked + [TimeoutError()] * (n - acked))


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def once(clock: ManualClock) -> PublishOnce[str]:
    return PublishOnce(seen_ids(clock), key=lambda item: item)


async def test_an_id_is_seen_only_after_the_ack(clock: ManualClock) -> None:
    publisher, broker = once(clock), Broker()
    call = asyncio.create_task(publisher.publish(["a"], broker.send))
    await until(lambda: len(broker.calls) == 1)

    assert "a" not in publisher.seen
    broker.ack(0)
    result = await call

    assert result.fresh == ["a"] and result.duplicates == []
    assert "a" in publisher.seen


async def test_a_call_meeting_a_pending_id_gets_the_outcome_of_that_publish(
    clock: ManualClock,
) -> None:
    publisher, broker = once(clock), Broker()
    first = asyncio.create_task(publisher.publish(["a"], broker.send))
    await until(lambda: len(broker.calls) == 1)
    second = asyncio.create_task(publisher.publish(["a"], broker.send))
    await until(lambda: publisher.waiting == 1)

    broker.ack(0)

    assert (await first).fresh == ["a"]
    later = await second
    assert later.duplicates == ["a"] and later.fresh == [] and later.waited == 1
    assert broker.calls == [["a"]]


async def test_a_failed_publish_frees_the_id_for_the_call_that_waited(
    clock: ManualClock,
) -> None:
    publisher, broker = once(clock), Broker()
    first = asyncio.create_task(publisher.publish(["a"], broker.send))
    await until(lambda: len(broker.calls) == 1)
    second = asyncio.create_task(publisher.publish(["a"], broker.send))
    await until(lambda: publisher.waiting == 1)

    broker.fail(0)
    with pytest.raises(TimeoutError):
        await first
    await until(lambda: len(broker.calls) == 2)
    broker.ack(1)

    assert (await second).fresh == ["a"]
    assert broker.calls == [["a"], ["a"]]
    assert publisher.pending() == 0


async def test_acked_items_of_a_partly_failed_send_are_remembered(clock: ManualClock) -> None:
    publisher, broker = once(clock), Broker()
    call = asyncio.create_task(publisher.publish(["a", "b", "c"], broker.send))
    await until(lambda: len(broker.calls) == 1)

    broker.fail(0, acked=1)

    with pytest.raises(TimeoutError):
        await call
    assert "a" in publisher.seen
    assert "b" not in publisher.seen and "c" not in publisher.seen


async def test_a_send_that_raises_frees_every_id(clock: ManualClock) -> None:
    publisher = once(clock)

    async def broken(items: list[str]) -> Sequence[BaseException | None]:
        raise KafkaConnectionError()

    with pytest.raises(KafkaConnectionError):
        await publisher.publish(["a", "b"], broken)
    assert publisher.pending() == 0
    assert "a" not in publisher.seen


async def test_repeats_inside_one_call_are_sent_once(clock: ManualClock) -> None:
    publisher, broker = once(clock), Broker()
    call = asyncio.create_task(publisher.publish(["a", "b", "a"], broker.send))
    await until(lambda: len(broker.calls) == 1)
    broker.ack(0)

    result = await call

    assert broker.calls == [["a", "b"]]
    assert result.fresh == ["a", "b"] and result.duplicates == ["a"]


def test_seen_ids_can_be_added_with_the_time_they_were_seen(clock: ManualClock) -> None:
    seen = seen_ids(clock)
    seen.add("old", at=clock.now() - timedelta(seconds=61))
    seen.add("recent", at=clock.now() - timedelta(seconds=59))

    assert "old" not in seen
    assert "recent" in seen
    clock.advance(2)
    assert "recent" not in seen


# --- send_records -----------------------------------------------------------------------------


def records(n: int) -> list[OutRecord]:
    return [OutRecord("t", b"k", f"v{i}".encode(), (("h", b"1"),)) for i in range(n)]


async def test_send_records_reports_one_outcome_per_record() -> None:
    producer = FakeProducer()

    assert await send_records(producer, records(2)) == [None, None]
    assert [s.value for s in producer.acked] == [b"v0", b"v1"]
    assert producer.acked[0].headers == {"h": b"1"}

    producer.mode = "fail"
    outcomes = await send_records(producer, records(2))
    assert [type(o) for o in outcomes] == [KafkaTimeoutError, KafkaTimeoutError]


async def test_a_record_that_cannot_be_enqueued_stops_the_rest() -> None:
    producer = FakeProducer()
    producer.mode = "down"

    outcomes = await send_records(producer, records(3))

    assert [type(o) for o in outcomes] == [KafkaConnectionError] * 3
    assert producer.acked == []


# --- RetryLimit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    topic: str = "conversation.raw"
    partition: int = 0
    offset: int = 7


def test_a_record_is_poison_after_max_failures() -> None:
    limit, record = RetryLimit(max_failures=3), Record()
    for _ in range(2):
        limit.failed(record, RuntimeError("boom: client text"))
    assert limit.exhausted(record) is None

    limit.failed(record, ValueError())
    verdict = limit.exhausted(record)

    assert verdict is not None and verdict.reason == "poison_after_retries"
    assert [(e.field, e.reason) for e in verdict.errors] == [
        ("(record)", "failed 3 times: RuntimeError, ValueError")
    ]


def test_success_forgets_the_failures() -> None:
    limit, record = RetryLimit(max_failures=1), Record()
    limit.failed(record, RuntimeError())
    limit.done(record)

    assert limit.exhausted(record) is None


def test_failures_are_counted_per_record() -> None:
    limit = RetryLimit(max_failures=1)
    limit.failed(Record(offset=1), RuntimeError())

    assert limit.exhausted(Record(offset=2)) is None
    assert limit.exhausted(Record(offset=1)) is not None


@pytest.mark.parametrize(
    "error", [KafkaConnectionError(), KafkaTimeoutError(), NotEnoughReplicasError()]
)
def test_broker_unavailability_never_counts_against_a_record(error: BaseException) -> None:
    limit, record = RetryLimit(max_failures=1), Record()
    for _ in range(5):
        limit.failed(record, error)

    assert limit.exhausted(record) is None


def test_a_record_the_broker_refuses_does_count() -> None:
    limit, record = RetryLimit(max_failures=1), Record()
    limit.failed(record, MessageSizeTooLargeError())

    assert limit.exhausted(record) is not None
