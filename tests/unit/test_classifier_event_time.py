"""Classifier timelines in event time: per (tenant, conversation), bounded, injected clock.

One future-dated event used to move a single global clock: every other conversation looked
idle, its window was dropped, and a yes to a risk question asked before it was missed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaMessage, TestKafkaBroker
from prometheus_client import CollectorRegistry

from attune_classifier.app import Classifier, build
from attune_classifier.assess import Assessor
from attune_classifier.scoring import LexiconScorer
from attune_classifier.settings import ClassifierSettings
from attune_classifier.window import Windows
from attune_runtime.clock import ManualClock
from attune_runtime.service import Service
from attune_schemas import (
    CrisisCategory,
    DeadLetter,
    MessageSent,
    RuptureAssessment,
    Sender,
    encode,
)
from tests.factories import T0, Script
from tests.unit.test_classifier_assess import rupture_story

QUESTION = "Thank you for telling me. Are you having thoughts of ending your life?"


def _asked(conversation_id: str = "c-a", tenant_id: str = "tenant-a") -> Script:
    s = Script(conversation_id, tenant_id=tenant_id)
    s.ai("How are you feeling this evening?")
    s.client("Honestly everything feels pointless and heavy lately.")
    s.ai(QUESTION)
    return s


def _message(tenant_id: str, conversation_id: str, at: datetime, text: str) -> MessageSent:
    return MessageSent(
        event_id=uuid.uuid4(),
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        occurred_at=at,
        message_id=f"x-{uuid.uuid4().hex[:6]}",
        sender=Sender.CLIENT,
        text=text,
    )


def _comparable(a: RuptureAssessment) -> dict[str, Any]:
    return a.model_dump(exclude={"assessed_at"})


@dataclass
class LiveClassifier:
    service: Service[Classifier]
    clock: ManualClock
    assessments: list[RuptureAssessment] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)

    async def send(self, *events: MessageSent) -> None:
        for e in events:
            await self.service.broker.publish(
                encode(e), topic="conversation.events", key=e.conversation_id.encode()
            )


@pytest.fixture
async def classifier(clock: ManualClock) -> AsyncIterator[LiveClassifier]:
    settings = ClassifierSettings(retry_backoff_seconds=0, retry_backoff_max_seconds=0)
    service = build(
        settings,
        clock=clock,
        registry=CollectorRegistry(),
        scorer=LexiconScorer(),
        rebuild_on_assign=False,
    )
    live = LiveClassifier(service, clock)

    @service.broker.subscriber("rupture.assessments")
    async def assessments(msg: KafkaMessage) -> None:
        live.assessments.append(RuptureAssessment.model_validate_json(msg.body))

    @service.broker.subscriber("conversation.events.dlq")
    async def dead_letters(msg: KafkaMessage) -> None:
        live.dead.append(DeadLetter.model_validate_json(msg.body))

    async with TestKafkaBroker(service.broker):
        yield live


async def test_a_future_dated_event_of_another_tenant_changes_nothing_for_this_one(
    classifier: LiveClassifier,
) -> None:
    asked = _asked()
    classifier.clock.set(asked.at)
    await classifier.send(*asked.events)
    week_ahead = _message("tenant-b", "c-b", asked.at + timedelta(days=7), "see you next week")

    await classifier.send(week_ahead)
    classifier.clock.advance(60)
    yes = asked.client("yeah a bit", after=60)
    await classifier.send(yes)

    [letter] = classifier.dead
    assert (letter.reason, letter.service, letter.key) == (
        "occurred_in_future",
        "classifier",
        "c-b",
    )
    assert [e.field for e in letter.errors] == ["occurred_at"]
    assert classifier.service.parts.windows.get("tenant-a", "c-a") is not None
    assert classifier.service.parts.windows.get("tenant-b", "c-b") is None  # never applied
    answer = classifier.assessments[-1]
    assert answer.source_event_id == yes.event_id
    assert answer.crisis and CrisisCategory.SUICIDAL_IDEATION in answer.crisis_categories


async def test_an_event_before_the_epoch_is_dead_lettered_with_the_reason(
    classifier: LiveClassifier,
) -> None:
    s = Script("c-old")
    s.ai("How was the week?")
    s.client("good, busy")
    ancient = _message("tenant-a", "c-old", datetime(1970, 1, 1, tzinfo=UTC), "hello")

    await classifier.send(s.events[0], ancient, s.events[1])

    assert [d.reason for d in classifier.dead] == ["occurred_before_epoch"]
    assert [a.source_event_id for a in classifier.assessments] == [s.events[1].event_id]


def test_an_event_that_slipped_past_the_bound_still_moves_no_one_else_s_time() -> None:
    # Below the handler: even applied, a week-ahead event on the same partition cannot make
    # another tenant's conversation idle, since a partition's time stops at the service clock.
    clock = ManualClock(T0)
    windows = Windows(
        max_conversations=100, idle_expiry=timedelta(hours=6), lateness=timedelta(minutes=5)
    )
    assessor = Assessor(scorer=LexiconScorer(), windows=windows, clock=clock)
    asked = _asked()
    clock.set(asked.at)
    assessor.process([(e, 0) for e in asked.events])

    assessor.process([(_message("tenant-b", "c-b", asked.at + timedelta(days=7), "hi"), 0)])
    windows.expire(now=clock.now())
    clock.advance(60)
    [answer] = assessor.process([(asked.client("yeah a bit", after=60), 0)])

    assert windows.get("tenant-a", "c-a") is not None
    assert answer.crisis and CrisisCategory.SUICIDAL_IDEATION in answer.crisis_categories


async def test_the_same_conversation_id_in_two_tenants_shares_no_state(
    classifier: LiveClassifier,
) -> None:
    # Tenant a tells the rupture story; tenant b, with the same conversation id and message
    # ids, an ordinary chat. Interleaved, each gets exactly what it gets alone: own window,
    # own baseline, own triggering turn.
    story = rupture_story()
    a = Script("dana", tenant_id="tenant-a")
    b = Script("dana", tenant_id="tenant-b")
    for e in story.events:
        a.say(e.sender, e.text, after=40 if e.sender is Sender.CLIENT else 4)
        b.say(
            e.sender,
            "Any thoughts on the walking plan?"
            if e.sender is Sender.AI
            else "Yes, I walked twice this week and felt a lot more awake at work afterwards.",
            after=41 if e.sender is Sender.CLIENT else 5,
        )
    classifier.clock.set(max(a.at, b.at))

    alone = {}
    for script in (a, b):
        assessor = Assessor(
            scorer=LexiconScorer(),
            windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=6)),
            clock=classifier.clock,
        )
        alone[script.tenant_id] = [
            _comparable(x) for x in assessor.process([(e, 0) for e in script.events])
        ]
    await classifier.send(*sorted([*a.events, *b.events], key=lambda e: e.occurred_at))

    together = {
        tenant: [_comparable(x) for x in classifier.assessments if x.tenant_id == tenant]
        for tenant in alone
    }
    assert together == alone
    rejection = next(
        x for x in classifier.assessments if x.tenant_id == "tenant-a" and x.message_id == "m8"
    )
    assert rejection.triggering_turn is not None
    assert rejection.triggering_turn.excerpt.startswith("Have you considered joining")
    assert not any(x.triggering_turn for x in classifier.assessments if x.tenant_id == "tenant-b")
    assert {w.tenant_id for w in classifier.service.parts.windows} == {"tenant-a", "tenant-b"}
