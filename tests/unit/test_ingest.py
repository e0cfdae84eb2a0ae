"""Ingest: HTTP and Kafka intake on the in-memory broker; what reaches the topics is counted."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from attune_ingest.app import create_app
from attune_ingest.settings import IngestSettings
from attune_runtime.clock import ManualClock
from attune_schemas import DeadLetter, MessageSent, conversation_event_adapter, decode
from tests.factories import T0, event_json

MAX_BATCH = 5
DEDUP_WINDOW = 600


@dataclass
class Ingest:
    app: FastAPI
    broker: KafkaBroker
    http: httpx.AsyncClient
    clock: ManualClock
    published: list[KafkaMessage]  # what reached conversation.events
    dead: list[KafkaMessage]  # what reached conversation.events.dlq
    broker_down: bool = False

    def published_ids(self) -> list[str]:
        return [json.loads(m.body)["event_id"] for m in self.published]


@pytest.fixture
async def ingest(clock: ManualClock) -> AsyncIterator[Ingest]:
    settings = IngestSettings(
        max_batch_events=MAX_BATCH, max_body_bytes=20_000, dedup_window_seconds=DEDUP_WINDOW
    )
    app = create_app(settings, clock=clock, manage_topics=False)
    broker: KafkaBroker = app.state.broker
    published: list[KafkaMessage] = []
    dead: list[KafkaMessage] = []

    @broker.subscriber("conversation.events")
    async def events_sink(msg: KafkaMessage) -> None:
        published.append(msg)

    @broker.subscriber("conversation.events.dlq")
    async def dlq_sink(msg: KafkaMessage) -> None:
        dead.append(msg)

    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
            service = Ingest(app, broker, http, clock, published, dead)
            real_publish = broker.publish

            async def publish(*args: Any, **kwargs: Any) -> Any:
                if service.broker_down:
                    raise KafkaConnectionError()
                return await real_publish(*args, **kwargs)

            broker.publish = publish  # type: ignore[method-assign]
            yield service


def key_of(msg: KafkaMessage) -> bytes | None:
    record = msg.raw_message
    assert not isinstance(record, tuple)  # one record, not a batch
    key: bytes | None = record.key
    return key


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
    [msg] = ingest.published
    assert key_of(msg) == b"conv-42"
    assert msg.headers["event_type"] == "message_sent"
    published = decode(conversation_event_adapter, msg.body)
    assert published == decode(conversation_event_adapter, event)


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
    assert len(ingest.published) == 1


async def test_event_is_published_again_after_the_dedup_window(ingest: Ingest) -> None:
    event = event_json()
    await ingest.http.post("/v1/events", json=event)
    ingest.clock.advance(DEDUP_WINDOW + 1)

    response = await ingest.http.post("/v1/events", json=event)

    assert response.json()["accepted"] == [event["event_id"]]
    assert len(ingest.published) == 2


async def test_body_that_is_not_json_is_rejected(ingest: Ingest) -> None:
    response = await ingest.http.post(
        "/v1/events", content=b"event_id=1&text=hi", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    [rejection] = response.json()["rejected"]
    assert rejection == {
        "index": None,
        "event_id": None,
        "errors": [{"field": "(body)", "reason": "body is not valid JSON"}],
    }
    assert ingest.published == []


async def test_empty_batch_is_rejected(ingest: Ingest) -> None:
    response = await ingest.http.post("/v1/events", json=[])

    assert response.status_code == 422
    assert response.json()["rejected"][0]["errors"] == [
        {"field": "(body)", "reason": "batch is empty"}
    ]


async def test_batch_larger_than_the_limit_is_rejected_whole(ingest: Ingest) -> None:
    response = await ingest.http.post(
        "/v1/events", json=[event_json() for _ in range(MAX_BATCH + 1)]
    )

    assert response.status_code == 413
    assert response.json()["rejected"][0]["errors"] == [
        {"field": "(body)", "reason": f"batch exceeds {MAX_BATCH} events"}
    ]
    assert ingest.published == []


async def test_body_larger_than_the_limit_is_rejected(ingest: Ingest) -> None:
    # Three valid events, but together over max_body_bytes (20 kB here).
    response = await ingest.http.post(
        "/v1/events", json=[event_json(text="x" * 9_000) for _ in range(3)]
    )

    assert response.status_code == 413
    assert response.json()["detail"] == "body exceeds 20000 bytes"
    assert ingest.published == []


async def test_broker_failure_is_503_and_a_retry_is_published(ingest: Ingest) -> None:
    events = [event_json(), event_json()]
    ingest.broker_down = True

    failed = await ingest.http.post("/v1/events", json=events)

    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "5"
    assert failed.json()["accepted"] == []
    assert ingest.published == []

    # The ids were not remembered as seen: the client's retry is published, not a "duplicate".
    ingest.broker_down = False
    retried = await ingest.http.post("/v1/events", json=events)

    assert retried.status_code == 202
    assert retried.json()["duplicates"] == []
    assert ingest.published_ids() == [e["event_id"] for e in events]


async def test_liveness(ingest: Ingest) -> None:
    response = await ingest.http.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_metrics_count_accepted_events(ingest: Ingest) -> None:
    await ingest.http.post("/v1/events", json=[event_json(), event_json(), event_json(rating=9)])

    response = await ingest.http.get("/metrics")

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

    assert ingest.published == []
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


async def test_raw_record_that_is_not_json_is_dead_lettered(ingest: Ingest) -> None:
    await ingest.broker.publish(b"\xff{not json", topic="conversation.raw", key=b"conv-9")

    [msg] = ingest.dead
    letter = DeadLetter.model_validate_json(msg.body)
    assert letter.reason == "invalid_json"
    assert letter.payload == "\ufffd{not json"
    assert ingest.published == []


async def test_good_raw_record_is_published_to_conversation_events(ingest: Ingest) -> None:
    event = event_json(conversation_id="conv-9")
    raw = json.dumps(event).encode()

    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")
    await ingest.broker.publish(raw, topic="conversation.raw", key=b"conv-9")  # redelivered

    assert ingest.dead == []
    [msg] = ingest.published
    assert key_of(msg) == b"conv-9"
    published = decode(conversation_event_adapter, msg.body)
    assert isinstance(published, MessageSent)
    assert published.event_id == uuid.UUID(event["event_id"])
