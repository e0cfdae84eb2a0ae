"""Classifier against a real broker: restarts keep their memory, poison is dead-lettered,
transient failures are retried and nothing is lost."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

from attune_classifier import handlers as classifier_handlers
from attune_classifier.scoring import LexiconScorer
from attune_runtime.kafka import broker_producer
from attune_schemas import encode
from tests.factories import Script
from tests.integration.conftest import committed
from tests.integration.services import classifier
from tests.unit.test_classifier_assess import rupture_story

pytestmark = pytest.mark.integration


async def _publish(producer: AIOKafkaProducer, topic: str, events: list[Any]) -> None:
    for e in events:
        await producer.send_and_wait(topic, encode(e), key=e.conversation_id.encode())


async def test_a_restarted_classifier_still_sees_a_rupture_that_began_before(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    story = rupture_story()
    before, after = story.events[:8], story.events[8:]  # restart right after the rejection
    events_topic = f"{prefix}conversation.events"
    assessments = await reader(f"{prefix}rupture.assessments")
    async with classifier(bootstrap, prefix):
        await _publish(producer, events_topic, before)
        await assessments.wait_for(lambda v: len(v) == 4)
    # A new process: empty memory. It rebuilds the window from the topic on assignment.
    async with classifier(bootstrap, prefix) as svc:
        await _publish(producer, events_topic, after)
        values = await assessments.wait_for(lambda v: len(v) == 7)
        assert svc.parts.warm_up is not None and svc.parts.warm_up.replayed == len(before)
    by_msg = {v["message_id"]: v for v in values}
    complaint = by_msg["m10"]  # "You don't understand me at all."
    assert complaint["rupture_type"] == "confrontation"
    # The trigger is the AI's support-group suggestion, sent before the restart.
    assert complaint["triggering_turn"]["message_id"] == "m7"
    assert by_msg["m14"]["engagement"]["reply_length_ratio"] is not None  # baseline survived
    assert by_msg["m14"]["scores"]["disengagement"] > 0.5


async def test_a_poison_event_is_dead_lettered_and_the_partition_keeps_moving(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    s = Script("c-poison")
    s.ai("How are you?")
    s.client("I'm good thanks, busy week")
    topic = f"{prefix}conversation.events"
    await producer.send_and_wait(topic, b'{"type": "message_sent", "text": 42}', key=b"c-poison")
    await _publish(producer, topic, s.events)
    async with classifier(bootstrap, prefix):
        dlq = await (await reader(f"{prefix}conversation.events.dlq")).wait_for(
            lambda v: len(v) == 1
        )
        out = await (await reader(f"{prefix}rupture.assessments")).wait_for(lambda v: len(v) == 1)
    assert dlq[0]["service"] == "classifier" and dlq[0]["reason"] == "invalid_event"
    assert out[0]["message_id"] == "m2"


async def test_a_far_future_event_is_dead_lettered_and_the_next_on_its_key_is_assessed(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    s = Script("c-future", start=datetime.now(UTC) - timedelta(minutes=10))
    s.ai("What's been on your mind?")
    week_ahead = s.client("see you next week", after=7 * 24 * 3600)
    s.at -= timedelta(days=7)
    s.client("work mostly, and sleeping badly")
    topic = f"{prefix}conversation.events"
    await _publish(producer, topic, s.events)
    async with classifier(bootstrap, prefix, scorer=LexiconScorer()):
        dlq = await (await reader(f"{prefix}conversation.events.dlq")).wait_for(
            lambda v: len(v) == 1
        )
        out = await (await reader(f"{prefix}rupture.assessments")).wait_for(lambda v: len(v) == 1)
    assert (dlq[0]["service"], dlq[0]["reason"], dlq[0]["key"]) == (
        "classifier",
        "occurred_in_future",
        "c-future",
    )
    assert [e["field"] for e in dlq[0]["errors"]] == ["occurred_at"]
    assert json.loads(dlq[0]["payload"])["event_id"] == str(week_ahead.event_id)
    assert out[0]["message_id"] == "m3"


async def test_a_transient_failure_is_retried_and_committed_only_after_success(
    bootstrap: str,
    prefix: str,
    reader: Any,
    producer: AIOKafkaProducer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Script("c-retry")
    s.ai("What's on your mind today?")
    s.client("the exam on friday mostly")
    real = classifier_handlers.publish_all  # type: ignore[attr-defined]
    failures = {"left": 2}

    async def flaky(items: Any, **kwargs: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise KafkaConnectionError("broker briefly unreachable")
        await real(items, **kwargs)

    monkeypatch.setattr(classifier_handlers, "publish_all", flaky)
    await _publish(producer, f"{prefix}conversation.events", s.events)
    async with classifier(bootstrap, prefix):
        out = await (await reader(f"{prefix}rupture.assessments")).wait_for(lambda v: len(v) == 1)
        assert failures["left"] == 0
    assert out[0]["message_id"] == "m2"
    # Both events are committed, after the assessment was acknowledged by the broker.
    assert await committed(bootstrap, f"{prefix}classifier", f"{prefix}conversation.events") == 2


async def test_an_unacknowledged_assessment_leaves_the_batch_uncommitted(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    """At least once through the broker's own producer: while the broker does not acknowledge
    the assessment, nothing is committed; once it does, the batch is assessed and committed."""
    s = Script("c-unacked")
    s.ai("What's on your mind today?")
    s.client("the exam on friday mostly")
    await _publish(producer, f"{prefix}conversation.events", s.events)
    group, topic = f"{prefix}classifier", f"{prefix}conversation.events"
    async with classifier(bootstrap, prefix) as svc:
        out = broker_producer(svc.broker)
        assert out is not None  # the real broker's producer, not FastStream's publish path
        real_send = out.send
        refused: list[str] = []
        retried = asyncio.Event()  # the batch was tried, failed and redelivered twice
        acks = {"refuse": True}

        async def send(topic: str, value: bytes, key: bytes, **kw: Any) -> asyncio.Future[Any]:
            if not acks["refuse"]:
                return await real_send(topic, value, key, **kw)
            refused.append(topic)  # enqueued, then not acknowledged (as a request timing out)
            if len(refused) >= 3:
                retried.set()
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(KafkaTimeoutError())
            return failed

        with patch.object(out, "send", send):
            async with asyncio.timeout(30):  # a guard against hanging, not a measurement
                await retried.wait()
            assert await committed(bootstrap, group, topic) == 0
            acks["refuse"] = False
            values = await (await reader(f"{prefix}rupture.assessments")).wait_for(
                lambda v: len(v) == 1
            )
    assert set(refused) == {f"{prefix}rupture.assessments"}
    assert values[0]["message_id"] == "m2"
    assert await committed(bootstrap, group, topic) == 2
