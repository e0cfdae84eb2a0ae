"""Shared runtime: dedup memory, retry back-off, log redaction, readiness, deterministic ids."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import pytest
from faststream._internal.context.repository import ContextRepo
from faststream.message import StreamMessage

from attune_runtime.clock import ManualClock
from attune_runtime.dedup import SeenIds
from attune_runtime.health import Check, ConsumerProgress, Readiness
from attune_runtime.ids import _NAMESPACE, derived_id
from attune_runtime.logging import TEXT_FIELDS, redact_text
from attune_runtime.retry import RetryBackoff
from attune_schemas import InvalidMessage
from tests.factories import T0

# --- SeenIds ----------------------------------------------------------------------------------


def seen_ids(clock: ManualClock, *, window: float = 60, max_size: int = 100) -> SeenIds:
    return SeenIds(window=timedelta(seconds=window), max_size=max_size, clock=clock)


def test_seen_id_is_remembered_for_the_window(clock: ManualClock) -> None:
    seen = seen_ids(clock, window=60)
    seen.add("e1")

    clock.advance(60)
    assert "e1" in seen  # the window is inclusive

    clock.advance(0.001)
    assert "e1" not in seen
    assert len(seen) == 0


def test_unknown_id_is_not_seen(clock: ManualClock) -> None:
    seen = seen_ids(clock)
    seen.add("e1")

    assert "e2" not in seen


def test_oldest_ids_are_evicted_beyond_max_size(clock: ManualClock) -> None:
    seen = seen_ids(clock, max_size=2)
    for key in ("e1", "e2", "e3"):
        seen.add(key)
        clock.advance(1)

    assert "e1" not in seen
    assert "e2" in seen
    assert "e3" in seen
    assert len(seen) == 2


def test_adding_again_refreshes_an_id(clock: ManualClock) -> None:
    seen = seen_ids(clock, window=60, max_size=2)
    seen.add("e1")
    clock.advance(50)
    seen.add("e2")
    seen.add("e1")  # seen again: newest now, and its window restarts

    seen.add("e3")
    assert "e2" not in seen  # the oldest was e2, not e1
    clock.advance(50)
    assert "e1" in seen


def test_discard_forgets_an_id(clock: ManualClock) -> None:
    seen = seen_ids(clock)
    seen.add("e1")

    seen.discard("e1")
    seen.discard("never-added")  # harmless

    assert "e1" not in seen
    assert len(seen) == 0


# --- RetryBackoff -----------------------------------------------------------------------------


def test_retry_delay_doubles_up_to_the_cap() -> None:
    backoff = RetryBackoff(initial=0.5, maximum=3.0)

    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.failures == 5


def middleware(backoff: RetryBackoff) -> Any:
    return backoff(None, context=ContextRepo())


MSG = cast("StreamMessage[Any]", object())


async def test_success_resets_the_back_off() -> None:
    backoff = RetryBackoff(initial=0.0, maximum=0.0)
    backoff.failures = 4

    async def ok(_: Any) -> str:
        return "done"

    assert await middleware(backoff).consume_scope(ok, MSG) == "done"
    assert backoff.failures == 0


async def test_transient_failure_backs_off_and_is_re_raised() -> None:
    backoff = RetryBackoff(initial=0.0, maximum=0.0)

    async def broken(_: Any) -> None:
        raise ConnectionError("db down")

    with pytest.raises(ConnectionError):
        await middleware(backoff).consume_scope(broken, MSG)
    assert backoff.failures == 1


async def test_poison_message_is_not_backed_off() -> None:
    # InvalidMessage can never succeed: no delay, it goes on to the dead-letter path.
    backoff = RetryBackoff(initial=10.0, maximum=10.0)

    async def poison(_: Any) -> None:
        raise InvalidMessage("invalid_event")

    with pytest.raises(InvalidMessage):
        await middleware(backoff).consume_scope(poison, MSG)
    assert backoff.failures == 0


# --- log redaction ----------------------------------------------------------------------------


def test_redact_text_replaces_text_fields_and_keeps_ids() -> None:
    event = {
        "event": "event_accepted",
        "conversation_id": "conv-1",
        "text": "I don't want to live like this",
        "excerpt": "that's not helpful",
        "color_message": "\x1b[32mI don't want to live like this\x1b[0m",
    }

    out = redact_text(None, "info", event)

    assert out == {
        "event": "event_accepted",
        "conversation_id": "conv-1",
        "text": "[redacted]",
        "excerpt": "[redacted]",
    }


@pytest.mark.parametrize("name", sorted(TEXT_FIELDS))
def test_every_text_like_field_is_redacted(name: str) -> None:
    assert redact_text(None, "warning", {"event": "x", name: "client words"})[name] == "[redacted]"


# --- ConsumerProgress -------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int


def test_progress_records_the_last_offset_and_time_per_partition(clock: ManualClock) -> None:
    progress = ConsumerProgress(clock)
    clock.advance(5)
    progress.record([Record("t", 0, 10), Record("t", 1, 3)])
    clock.advance(5)
    progress.record([Record("t", 0, 11), object()])  # things that are not records are ignored

    assert progress.handled == {
        ("t", 0): (11, T0 + timedelta(seconds=10)),
        ("t", 1): (3, T0 + timedelta(seconds=5)),
    }
    assert progress.last_progress(("t", 1)) == T0 + timedelta(seconds=5)
    assert progress.last_progress(("t", 2)) == T0  # never moved: counts from start


async def test_progress_middleware_records_after_the_handler(clock: ManualClock) -> None:
    progress = ConsumerProgress(clock)
    msg = cast("StreamMessage[Any]", type("Msg", (), {"raw_message": Record("t", 2, 7)})())

    async def handler(_: Any) -> None:
        assert progress.handled == {}  # not yet: progress means handled, not received

    await progress.middleware(None, context=ContextRepo()).consume_scope(handler, msg)

    assert progress.handled == {("t", 2): (7, T0)}


# --- Readiness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


class FakeConsumer:
    """assignment/highwater/position like aiokafka's consumer."""

    def __init__(self, offsets: dict[TP, tuple[int | None, int]]) -> None:
        self.offsets = offsets  # partition -> (highwater, position)

    def assignment(self) -> set[TP]:
        return set(self.offsets)

    def highwater(self, tp: TP) -> int | None:
        return self.offsets[tp][0]

    async def position(self, tp: TP) -> int:
        return self.offsets[tp][1]


class FakeTask:
    def __init__(self, done: bool) -> None:
        self._done = done

    def done(self) -> bool:
        return self._done


@dataclass
class FakeSubscriber:
    consumer: FakeConsumer | None
    running: bool = True
    tasks: list[FakeTask] = field(default_factory=lambda: [FakeTask(False)])
    topic_names: list[str] = field(default_factory=lambda: ["conversation.raw"])
    group_id: str = "attune-ingest"


RAW0 = TP("conversation.raw", 0)


def readiness(
    clock: ManualClock,
    *subscribers: FakeSubscriber,
    extra: tuple[Callable[[], Awaitable[Check]], ...] = (),
) -> Readiness:
    return Readiness(
        subscribers=subscribers,
        progress=ConsumerProgress(clock),
        stall_after_seconds=60,
        extra_checks=extra,
    )


async def only_check(r: Readiness) -> tuple[bool, dict[str, Any]]:
    ok, report = await r.evaluate()
    assert report["status"] == ("ready" if ok else "not_ready")
    check: dict[str, Any] = report["checks"][0]
    return ok, check


@pytest.mark.parametrize(
    "sub",
    [
        FakeSubscriber(FakeConsumer({RAW0: (0, 0)}), running=False),
        FakeSubscriber(None),
    ],
    ids=["not-running", "no-consumer"],
)
async def test_stopped_consumer_is_not_ready(clock: ManualClock, sub: FakeSubscriber) -> None:
    ok, check = await only_check(readiness(clock, sub))

    assert not ok
    assert check == {
        "name": "consumer:conversation.raw",
        "ok": False,
        "group_id": "attune-ingest",
        "state": "stopped",
    }


async def test_exited_consume_loop_is_not_ready(clock: ManualClock) -> None:
    sub = FakeSubscriber(FakeConsumer({RAW0: (0, 0)}), tasks=[FakeTask(True)])

    ok, check = await only_check(readiness(clock, sub))

    assert not ok
    assert check["state"] == "consume_loop_exited"


async def test_consumer_without_partitions_is_not_ready(clock: ManualClock) -> None:
    ok, check = await only_check(readiness(clock, FakeSubscriber(FakeConsumer({}))))

    assert not ok
    assert check["state"] == "no_partitions_assigned"


async def test_consumer_with_lag_and_recent_progress_is_ready(clock: ManualClock) -> None:
    r = readiness(clock, FakeSubscriber(FakeConsumer({RAW0: (10, 5)})))
    clock.advance(120)
    r.progress.record([Record("conversation.raw", 0, 4)])
    clock.advance(30)

    ok, check = await only_check(r)

    assert ok
    assert check["state"] == "consuming"
    assert check["partitions"] == [
        {
            "topic": "conversation.raw",
            "partition": 0,
            "lag": 5,
            "seconds_since_progress": 30.0,
            "stalled": False,
        }
    ]


async def test_consumer_with_lag_and_no_progress_is_stalled(clock: ManualClock) -> None:
    r = readiness(
        clock,
        FakeSubscriber(FakeConsumer({RAW0: (10, 5), TP("conversation.raw", 1): (3, 3)})),
    )
    clock.advance(61)

    ok, check = await only_check(r)

    assert not ok
    assert check["state"] == "stalled"
    assert [(p["partition"], p["lag"], p["stalled"]) for p in check["partitions"]] == [
        (0, 5, True),
        (1, 0, False),
    ]


async def test_idle_consumer_without_lag_is_ready(clock: ManualClock) -> None:
    # A quiet topic is not a stalled consumer.
    r = readiness(clock, FakeSubscriber(FakeConsumer({RAW0: (7, 7)})))
    clock.advance(3600)

    ok, check = await only_check(r)

    assert ok
    assert check["partitions"][0]["lag"] == 0


async def test_one_unready_subscriber_makes_the_service_unready(clock: ManualClock) -> None:
    good = FakeSubscriber(FakeConsumer({RAW0: (1, 1)}))
    bad = FakeSubscriber(FakeConsumer({}), topic_names=["alerts"], group_id="g2")

    ok, report = await readiness(clock, good, bad).evaluate()

    assert not ok
    assert [(c["name"], c["ok"]) for c in report["checks"]] == [
        ("consumer:conversation.raw", True),
        ("consumer:alerts", False),
    ]


async def test_extra_check_that_raises_is_not_ready_and_named(clock: ManualClock) -> None:
    async def database_check() -> Check:
        raise ConnectionRefusedError("postgres://user:secret@db")

    async def kafka_producer() -> Check:
        return Check("kafka_producer", True)

    r = readiness(
        clock, FakeSubscriber(FakeConsumer({RAW0: (1, 1)})), extra=(kafka_producer, database_check)
    )

    ok, report = await r.evaluate()

    assert not ok
    assert report["status"] == "not_ready"
    assert report["checks"][1:] == [
        {"name": "kafka_producer", "ok": True},
        {"name": "database_check", "ok": False, "error": "ConnectionRefusedError"},
    ]
    assert "secret" not in repr(report)  # the exception text (maybe credentials) is not shown


# --- derived ids ------------------------------------------------------------------------------


def test_derived_id_is_deterministic() -> None:
    source = uuid.UUID("00000000-0000-4000-8000-000000000001")

    first = derived_id("alert", "conv-1", "rupture", source)

    assert first == derived_id("alert", "conv-1", "rupture", source)
    assert first.version == 5
    # Pinned: ids must not change between releases, or a replay after an upgrade duplicates.
    assert first == uuid.UUID("fc6633ed-8ab7-59ee-bf21-f8a3417fbc10")


def test_derived_id_differs_by_kind_and_parts() -> None:
    ids = {
        derived_id("alert", "conv-1", "rupture"),
        derived_id("alert", "conv-1", "disengagement"),
        derived_id("alert", "conv-2", "rupture"),
        derived_id("incident", "conv-1", "rupture"),
        derived_id("alert", "conv-1"),
    }

    assert len(ids) == 5


def test_derived_id_is_uuid5_in_the_namespace() -> None:
    rng = random.Random(5)
    for n in range(2000):
        parts = (f"tenant-{n}", uuid.UUID(int=rng.getrandbits(128)), "é\u2019" * (n % 3), n)
        name = "|".join(["assessment", *(str(p) for p in parts)])
        assert derived_id("assessment", *parts) == uuid.uuid5(_NAMESPACE, name)
