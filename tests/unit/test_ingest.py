"""Ingest: HTTP and Kafka intake on the in-memory broker and a fake producer.

What reaches conversation.events is what the fake producer acknowledged; the fake can fail or
stall, to show that nothing is promised before the broker acknowledged it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaTimeoutError
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from pydantic import SecretStr

from attune_ingest.app import build
from attune_ingest.settings import IngestSettings
from attune_runtime import tracing
from attune_runtime.clock import ManualClock
from attune_schemas import DeadLetter, MessageSent, conversation_event_adapter, decode
from tests.factories import T0, event_json
from tests.identity import METRICS_TOKEN, Identity
from tests.kafka_fakes import FakeProducer
from tests.logs import captured_logs

MAX_BATCH = 5
DEDUP_WINDOW = 600
MAX_FUTURE = 300


@dataclass
class Ingest:
    app: FastAPI
    broker: KafkaBroker
    http: httpx.AsyncClient
    clock: ManualClock
    producer: FakeProducer  # .acked: what reached conversation.events
    dead: list[KafkaMessage]  # what reached conversation.events.dlq

    def published_ids(self) -> list[str]:
        return self.producer.ids()

    def letters(self) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(m.body) for m in self.dead]


@pytest.fixture
async def ingest(clock: ManualClock, identity: Identity) -> AsyncIterator[Ingest]:
    settings = IngestSettings(
        auth=identity.settings(),
        metrics_token=SecretStr(METRICS_TOKEN),
        max_batch_events=MAX_BATCH,
        max_body_bytes=20_000,
        dedup_window_seconds=DEDUP_WINDOW,
        dedup_rebuild=False,
        event_time_max_future_seconds=MAX_FUTURE,
        retry_max_failures=3,
        retry_backoff_seconds=0,
    )
    producer = FakeProducer()
    service = build(settings, clock=clock, check_topics=False, producer=producer)
    app, broker = service.app, service.broker
    dead: list[KafkaMessage] = []

    @broker.subscriber("conversation.events.dlq")
    async def dlq_sink(msg: KafkaMessage) -> None:
        dead.append(msg)

    # The key is looked up once here, so requests in flight do no database work.
    assert await app.state.guard.keys.verify(identity.keys["tenant-a"]) is not None
    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://ingest",
            headers=identity.bearer("tenant-a", None, clock),  # an integrator of tenant-a
        ) as http:
            yield Ingest(app, broker, http, clock, producer, dead)


def key_of(msg: KafkaMessage) -> bytes | None:
    record = msg.raw_message
    assert not isinstance(record, tuple)  # one record, not a batch
    key: bytes | None = record.key
    return key


async def until(condition: Callable[[], bool]) -> None:
    """Let other tasks run until `condition` holds (bounded; no clock involved)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


# --- HTTP intake ------------------------------------------------------------------------------


async def test_single_event_is_accepted_and_published_keyed_by_conversation(
    ingest: Ingest,
) -> None:
    event = event_json(conversation_id="conv-42", text="I'm not sure this is helping")

    response = await ingest.http.post("/v1/events", json=event)

    assert response.status_code == 202
    assert response.json() == {
        "detail": "1 accepted, 0 duplicate, 0 rejected of 1",
        "accepted": [event["event_id"]],
        "duplicates": [],
        "rejected": [],
    }
    [sent] = ingest.producer.acked
    assert sent.topic == "conversation.events"
    assert sent.key == b"conv-42"
    traceparent = sent.headers.pop("traceparent")  # a trace of its own, started here
    assert tracing.trace_id(traceparent.decode()) is not None
    assert sent.headers == {
        "event_type": b"message_sent",
        "event_id": event["event_id"].encode(),
        "tenant_id": b"tenant-a",
    }
    published = decode(conversation_event_adapter, sent.value)
    assert published == decode(conversation_event_adapter, event)


def traces(ingest: Ingest) -> list[str | None]:
    return [tracing.trace_id(r.headers["traceparent"].decode()) for r in ingest.producer.acked]


async def test_each_event_of_a_request_starts_a_trace_of_its_own(ingest: Ingest) -> None:
    response = await ingest.http.post("/v1/events", json=[event_json(), event_json()])

    assert response.status_code == 202
    first, second = traces(ingest)
    assert first is not None and second is not None and first != second


async def test_the_integrators_traceparent_is_continued_by_every_event_it_sent(
    ingest: Ingest,
) -> None:
    theirs = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    response = await ingest.http.post(
        "/v1/events", json=[event_json(), event_json()], headers={"traceparent": theirs}
    )

    assert response.status_code == 202
    assert traces(ingest) == ["4bf92f3577b34da6a3ce929d0e0e4736"] * 2
    spans = {r.headers["traceparent"] for r in ingest.producer.acked}
    assert len(spans) == 2 and theirs.encode() not in spans  # a span id per record


async def test_a_malformed_traceparent_is_ignored_and_a_trace_started(ingest: Ingest) -> None:
    response = await ingest.http.post(
        "/v1/events", json=event_json(), headers={"traceparent": "00-not-a-trace-01"}
    )

    assert response.status_code == 202
    assert traces(ingest)[0] is not None


async def test_batch_with_one_bad_event_names_it_and_publishes_the_good_ones(
    ingest: Ingest,
) -> None:
    good1, good2 = event_json(), event_json(type="session_started")
    bad = event_json(sender="robot")

    response = await ingest.http.post("/v1/events", json=[good1, bad, good2])

    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == [good1["event_id"], good2["event_id"]]
    assert body["rejected"] == [
        {
            "index": 1,
            "event_id": bad["event_id"],
            "reason": "invalid_event",
            "errors": [
                {"field": "sender", "reason": "Input should be 'client', 'ai' or 'clinician'"}
            ],
        }
    ]
    assert ingest.published_ids() == [good1["event_id"], good2["event_id"]]


async def test_rejection_does_not_echo_the_message_text(ingest: Ingest) -> None:
    bad = event_json(text="my private words", occurred_at="2026-03-02T09:00:00")

    response = await ingest.http.post("/v1/events", json=[bad])

    assert response.status_code == 422
    assert "my private words" not in response.text
    assert response.json()["rejected"][0]["errors"][0]["field"] == "occurred_at"


async def test_duplicate_event_is_listed_and_not_published_twice(ingest: Ingest) -> None:
    event, other = event_json(), event_json()
    first = await ingest.http.post("/v1/events", json=event)
    ingest.clock.advance(DEDUP_WINDOW - 1)

    again = await ingest.http.post("/v1/events", json=[event, other])

    assert first.status_code == 202
    assert again.status_code == 202
    assert again.json()["accepted"] == [other["event_id"]]
    assert again.json()["duplicates"] == [event["event_id"]]
    assert ingest.published_ids() == [event["event_id"], other["event_id"]]


async def test_duplicate_inside_one_batch_is_published_once(ingest: Ingest) -> None:
    event = event_json()

    response = await ingest.http.post("/v1/events", json=[event, event])

    assert response.status_code == 202
    assert response.json()["accepted"] == [event["event_id"]]
    assert response.json()["duplicates"] == [event["event_id"]]
    assert len(ingest.producer.acked) == 1


async def test_event_is_published_again_after_the_dedup_window(ingest: Ingest) -> None:
    event = event_json()
    await ingest.http.post("/v1/events", json=event)
    ingest.clock.advance(DEDUP_WINDOW + 1)

    response = await ingest.http.post("/v1/events", json=event)

    assert response.json()["accepted"] == [event["event_id"]]
    assert len(ingest.producer.acked) == 2


async def test_body_that_is_not_json_is_rejected(ingest: Ingest) -> None:
    response = await ingest.http.post(
        "/v1/events", content=b"event_id=1&text=hi", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    [rejection] = response.json()["rejected"]
    assert rejection == {
        "index": None,
        "event_id": None,
        "reason": "invalid_json",
        "errors": [{"field": "(body)", "reason": "not valid JSON"}],
    }
    assert ingest.producer.acked == []


async def test_empty_batch_is_accepted_and_publishes_nothing(ingest: Ingest) -> None:
    response = await ingest.http.post("/v1/events", json=[])

    assert response.status_code == 202
    assert response.json() == {
        "detail": "0 accepted, 0 duplicate, 0 rejected of 0",
        "accepted": [],
        "duplicates": [],
        "rejected": [],
    }
    assert ingest.producer.acked == []


async def test_batch_larger_than_the_limit_is_rejected_whole(ingest: Ingest) -> None:
    response = await ingest.http.post(
        "/v1/events", json=[event_json() for _ in range(MAX_BATCH + 1)]
    )

    assert response.status_code == 413
    assert response.json()["rejected"][0]["errors"] == [
        {"field": "(body)", "reason": f"batch exceeds {MAX_BATCH} events"}
    ]
    assert ingest.producer.acked == []


async def test_body_larger_than_the_limit_is_rejected(ingest: Ingest) -> None:
    # Three valid events, but together over max_body_bytes (20 kB here).
    response = await ingest.http.post(
        "/v1/events", json=[event_json(text="x" * 9_000) for _ in range(3)]
    )

    assert response.status_code == 413
    assert response.json()["detail"] == "body exceeds 20000 bytes"
    assert ingest.producer.acked == []


async def test_broker_failure_is_503_and_a_retry_is_published(ingest: Ingest) -> None:
    events = [event_json(), event_json()]
    ingest.producer.mode = "down"

    failed = await ingest.http.post("/v1/events", json=events)

    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "5"
    assert failed.json()["accepted"] == []
    assert ingest.producer.acked == []

    # The ids were not remembered as seen: the client's retry is published, not a "duplicate".
    ingest.producer.mode = "ack"
    retried = await ingest.http.post("/v1/events", json=events)

    assert retried.status_code == 202
    assert retried.json()["duplicates"] == []
    assert ingest.published_ids() == [e["event_id"] for e in events]


async def test_a_publish_that_times_out_frees_the_id(ingest: Ingest) -> None:
    event = event_json()
    ingest.producer.mode = "fail"  # enqueued, then the delivery fails

    failed = await ingest.http.post("/v1/events", json=event)
    ingest.producer.mode = "ack"
    retried = await ingest.http.post("/v1/events", json=event)

    assert failed.status_code == 503
    assert retried.status_code == 202
    assert retried.json()["accepted"] == [event["event_id"]]
    assert ingest.published_ids() == [event["event_id"]]


# --- publish before promise: a retry racing a pending publish ----------------------------------


async def test_a_retry_during_a_pending_publish_waits_and_is_a_duplicate_once_acked(
    ingest: Ingest,
) -> None:
    event = event_json()
    ingest.producer.mode = "stall"
    first = asyncio.create_task(ingest.http.post("/v1/events", json=event))
    await until(lambda: len(ingest.producer.stalled) == 1)

    retry = asyncio.create_task(ingest.http.post("/v1/events", json=event))
    await until(lambda: waits(ingest) == 1)
    assert not retry.done()  # no answer while the first publish is pending
    ingest.producer.release(ok=True)

    assert (await first).json()["accepted"] == [event["event_id"]]
    assert (await retry).json()["duplicates"] == [event["event_id"]]
    assert ingest.published_ids() == [event["event_id"]]


async def test_a_retry_during_a_publish_that_then_fails_publishes_the_event_itself(
    ingest: Ingest,
) -> None:
    event = event_json()
    ingest.producer.mode = "stall"
    first = asyncio.create_task(ingest.http.post("/v1/events", json=event))
    await until(lambda: len(ingest.producer.stalled) == 1)
    retry = asyncio.create_task(ingest.http.post("/v1/events", json=event))
    await until(lambda: waits(ingest) == 1)

    ingest.producer.mode = "ack"  # the broker is back for the retry's own publish
    ingest.producer.release(ok=False)  # the first publish times out

    assert (await first).status_code == 503
    answer = await retry
    assert answer.status_code == 202
    assert answer.json()["accepted"] == [event["event_id"]]  # not a "duplicate" of a lost event
    assert ingest.published_ids() == [event["event_id"]]


async def test_batches_with_crossing_ids_do_not_wait_for_each_other(ingest: Ingest) -> None:
    a, b = event_json(), event_json()
    ingest.producer.mode = "stall"
    first = asyncio.create_task(ingest.http.post("/v1/events", json=[a]))
    await until(lambda: len(ingest.producer.stalled) == 1)
    second = asyncio.create_task(ingest.http.post("/v1/events", json=[b, a]))
    await until(lambda: waits(ingest) == 1)
    assert len(ingest.producer.stalled) == 1  # b is not claimed while the second waits

    ingest.producer.mode = "ack"
    ingest.producer.release(ok=True)

    assert (await first).json()["accepted"] == [a["event_id"]]
    assert (await second).json() | {"detail": ""} == {
        "detail": "",
        "accepted": [b["event_id"]],
        "duplicates": [a["event_id"]],
        "rejected": [],
    }
    assert ingest.published_ids() == [a["event_id"], b["event_id"]]


async def test_events_acknowledged_before_a_failure_are_duplicates_on_retry(
    ingest: Ingest,
) -> None:
    acked, lost = event_json(), event_json()
    ingest.producer.mode = "stall"
    first = asyncio.create_task(ingest.http.post("/v1/events", json=[acked, lost]))
    await until(lambda: len(ingest.producer.stalled) == 2)
    (f1, s1), (f2, _) = ingest.producer.stalled
    ingest.producer.acked.append(s1)
    f1.set_result(None)
    f2.set_exception(KafkaTimeoutError())
    ingest.producer.stalled.clear()
    assert (await first).status_code == 503

    ingest.producer.mode = "ack"
    retried = await ingest.http.post("/v1/events", json=[acked, lost])

    assert retried.json()["accepted"] == [lost["event_id"]]
    assert retried.json()["duplicates"] == [acked["event_id"]]
    assert ingest.published_ids() == [acked["event_id"], lost["event_id"]]


def waits(ingest: Ingest) -> int:
    """Requests waiting right now for another request's pending publish."""
    waiting: int = ingest.app.state.service.parts.intake.once.waiting
    return waiting


# --- event time -------------------------------------------------------------------------------


async def test_an_event_dated_beyond_the_allowed_skew_is_rejected_naming_the_field(
    ingest: Ingest,
) -> None:
    ahead = event_json(at=T0 + timedelta(seconds=MAX_FUTURE + 1), text="private words")

    response = await ingest.http.post("/v1/events", json=ahead)

    assert response.status_code == 422
    assert response.json()["rejected"] == [
        {
            "index": 0,
            "event_id": ahead["event_id"],
            "reason": "occurred_in_future",
            "errors": [
                {"field": "occurred_at", "reason": "more than 300 s ahead of the receiver's clock"}
            ],
        }
    ]
    assert "private words" not in response.text
    assert ingest.producer.acked == []


async def test_an_event_within_the_skew_is_accepted(ingest: Ingest) -> None:
    response = await ingest.http.post(
        "/v1/events", json=event_json(at=T0 + timedelta(seconds=MAX_FUTURE))
    )

    assert response.status_code == 202


@pytest.mark.parametrize("occurred_at", [0, "1970-01-01T00:00:00Z", "2019-12-31T23:59:59Z"])
async def test_an_event_before_the_epoch_is_rejected(ingest: Ingest, occurred_at: Any) -> None:
    response = await ingest.http.post("/v1/events", json=event_json(occurred_at=occurred_at))

    assert response.status_code == 422
    [error] = response.json()["rejected"][0]["errors"]
    assert error == {
        "field": "occurred_at",
        "reason": "before 2020-01-01T00:00:00+00:00, the earliest time accepted",
    }


# --- hostile bodies ---------------------------------------------------------------------------

SECRET = "my-secret-words"


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (b"[" * 5000 + b"]" * 5000, "too_deep", "nested deeper than 16 levels"),
        (b'{"x":' * 17 + b"1" + b"}" * 17, "too_deep", "nested deeper than 16 levels"),
        (
            b'{"rating": ' + b"9" * 5000 + b"}",
            "invalid_number",
            "an integer has more than 20 digits",
        ),
        (
            b'{"rating": 1' + b"0" * 25 + b"}",
            "invalid_number",
            "an integer has more than 20 digits",
        ),
        (b'{"rating": NaN}', "invalid_number", "NaN and Infinity are not allowed"),
        (b'{"rating": -Infinity}', "invalid_number", "NaN and Infinity are not allowed"),
        (b'{"rating": 1e400}', "invalid_number", "NaN and Infinity are not allowed"),
        (b'{"text": "\\ud800 secret"}', "invalid_json", "a string holds an invalid unicode escape"),
        (b'{"text": "\xff secret"}', "invalid_utf8", "not valid UTF-8"),
        (b'{"text": "my-secret-words"', "invalid_json", "not valid JSON"),
    ],
)
async def test_hostile_body_is_a_422_that_names_the_limit_and_never_echoes_input(
    ingest: Ingest, body: bytes, reason: str, detail: str
) -> None:
    response = await ingest.http.post(
        "/v1/events", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["rejected"] == [
        {
            "index": None,
            "event_id": None,
            "reason": reason,
            "errors": [{"field": "(body)", "reason": detail}],
        }
    ]
    assert "secret" not in response.text
    assert ingest.producer.acked == []


async def test_an_event_with_a_huge_number_in_a_field_is_rejected(ingest: Ingest) -> None:
    response = await ingest.http.post(
        "/v1/events", json=event_json(type="feedback_submitted", rating=10**30)
    )

    assert response.status_code == 422
    assert response.json()["rejected"][0]["reason"] == "invalid_number"


async def test_liveness(ingest: Ingest) -> None:
    response = await ingest.http.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_metrics_count_accepted_events(ingest: Ingest) -> None:
    await ingest.http.post("/v1/events", json=[event_json(), event_json(), event_json(rating=9)])

    response = await ingest.http.get(
        "/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}
    )

    assert response.status_code == 200
    lines = response.text.splitlines()
    accepted = 'attune_ingest_events_accepted_total{channel="http",event_type="message_sent"}'
    rejected = 'attune_ingest_events_rejected_total{channel="http",reason="invalid_event"}'
    assert f"{accepted} 2.0" in lines
    assert f"{rejected} 1.0" in lines


# --- Kafka intake (conversation.raw) ----------------------------------------------------------


async def test_bad_raw_record_goes_to_the_dead_letter_topic(ingest: Ingest) -> None:
    raw = json.dumps(event_json(conversation_id="conv-9", type="nope")).encode()

    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")

    assert ingest.producer.acked == []
    [msg] = ingest.dead
    letter = DeadLetter.model_validate_json(msg.body)
    assert key_of(msg) == b"conv-9"
    assert msg.headers["reason"] == "invalid_event"
    assert letter.source_topic == "conversation.raw"
    assert letter.key == "conv-9"
    assert letter.service == "ingest"
    assert letter.failed_at == T0
    assert letter.reason == "invalid_event"
    assert [e.field for e in letter.errors] == ["type"]
    assert letter.payload == raw.decode()


async def test_a_raw_records_trace_is_carried_on_to_its_event_and_its_dead_letter(
    ingest: Ingest,
) -> None:
    theirs = tracing.start()
    good = json.dumps(event_json(conversation_id="conv-9")).encode()
    for raw in (good, b"{not json"):
        await ingest.broker.publish(
            raw, topic="conversation.raw", key=b"conv-9", headers={"traceparent": theirs}
        )

    [sent] = ingest.producer.acked
    [letter] = ingest.dead
    for header in (sent.headers["traceparent"].decode(), letter.headers["traceparent"]):
        assert tracing.trace_id(header) == tracing.trace_id(theirs) and header != theirs


async def test_raw_record_that_is_not_utf8_is_dead_lettered(ingest: Ingest) -> None:
    await ingest.broker.publish(b"\xff{not json", topic="conversation.raw", key=b"conv-9")

    [msg] = ingest.dead
    letter = DeadLetter.model_validate_json(msg.body)
    assert letter.reason == "invalid_utf8"
    assert letter.payload == "\ufffd{not json"
    assert ingest.producer.acked == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"[" * 5000 + b"]" * 5000, "too_deep"),
        (b'{"rating": ' + b"9" * 5000 + b"}", "invalid_number"),
        (b'{"rating": NaN}', "invalid_number"),
        (b"x" * 200_001, "too_large"),
    ],
)
async def test_raw_record_that_cannot_be_decoded_is_dead_lettered_and_the_next_passes(
    ingest: Ingest, raw: bytes, reason: str
) -> None:
    good = event_json(conversation_id="conv-9")

    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")
    await ingest.broker.publish(json.dumps(good).encode(), topic="conversation.raw", key=b"conv-9")

    assert [letter.reason for letter in ingest.letters()] == [reason]
    assert ingest.published_ids() == [good["event_id"]]


async def test_tombstone_is_dead_lettered_with_a_reason(ingest: Ingest) -> None:
    await ingest.broker.publish(None, topic="conversation.raw", key=b"conv-9")

    [letter] = ingest.letters()
    assert letter.reason == "tombstone"
    assert [(e.field, e.reason) for e in letter.errors] == [
        ("(value)", "record has no value (a tombstone)")
    ]


async def test_future_dated_raw_record_is_dead_lettered(ingest: Ingest) -> None:
    ahead = event_json(conversation_id="conv-9", at=T0 + timedelta(days=7))

    await ingest.broker.publish(json.dumps(ahead).encode(), topic="conversation.raw", key=b"c")

    [letter] = ingest.letters()
    assert letter.reason == "occurred_in_future"
    assert [e.field for e in letter.errors] == ["occurred_at"]
    assert ingest.producer.acked == []


async def test_a_record_that_keeps_failing_is_dead_lettered_as_poison_after_retries(
    ingest: Ingest,
) -> None:
    # The in-memory broker hands the handler's error back to the publisher; each publish of
    # the same record here stands for one redelivery after the consumer sought back.
    raw = json.dumps(event_json(conversation_id="conv-9")).encode()
    ingest.producer.mode, ingest.producer.error = "fail", RuntimeError
    for _ in range(3):  # retry_max_failures
        with pytest.raises(RuntimeError):
            await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")

    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")

    [letter] = ingest.letters()
    assert letter.reason == "poison_after_retries"
    assert [(e.field, e.reason) for e in letter.errors] == [
        ("(record)", "failed 3 times: RuntimeError")
    ]
    assert ingest.producer.acked == []


async def test_broker_outages_do_not_make_a_record_poison(ingest: Ingest) -> None:
    raw = json.dumps(event_json(conversation_id="conv-9")).encode()
    ingest.producer.mode = "fail"  # KafkaTimeoutError: the broker, not the record
    for _ in range(5):
        with pytest.raises(Exception, match="KafkaTimeoutError"):
            await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")

    ingest.producer.mode = "ack"
    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")

    assert ingest.letters() == []
    assert len(ingest.producer.acked) == 1


async def test_good_raw_record_is_published_to_conversation_events(ingest: Ingest) -> None:
    event = event_json(conversation_id="conv-9")
    raw = json.dumps(event).encode()

    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")
    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")  # redelivered

    assert ingest.dead == []
    [sent] = ingest.producer.acked
    assert sent.key == b"conv-9"
    published = decode(conversation_event_adapter, sent.value)
    assert isinstance(published, MessageSent)
    assert published.event_id == uuid.UUID(event["event_id"])


async def test_an_unexpected_error_is_a_bare_500_that_quotes_nothing(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(raw: bytes) -> None:
        raise RuntimeError(f"could not handle {raw!r}")

    monkeypatch.setattr(ingest.app.state.service.parts.intake, "parse_valid", broken)
    with captured_logs() as logs:
        response = await ingest.http.post("/v1/events", json=event_json(text="private words"))

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "private words" not in logs.text
    [failed] = [line for line in logs.lines if line["event"] == "intake_failed"]
    assert failed["error"] == "RuntimeError" and failed["level"] == "error"
