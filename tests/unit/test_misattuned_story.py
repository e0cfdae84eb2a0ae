"""The seed story through the classifier and the router: withdrawal after a misattuned AI turn.

The client tells the AI what is wrong; it answers with an unasked-for suggestion, then a
platitude; her replies shrink to "fine" and "whatever". Her first "fine" is not certain enough by
its words to page a clinician at the budgeted rupture threshold, but the exchange is: a minimal
reply, much shorter than what she had been writing, right after a turn that missed the point.
The router alerts on it, typed withdrawal, naming the AI turn she was answering. The same short
replies to attuned, closed questions alert nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune_classifier.assess import Assessor
from attune_classifier.model import ModelScorer
from attune_classifier.window import Windows
from attune_router.policy import AlertPolicy, policy_config
from attune_runtime.clock import ManualClock
from attune_schemas import (
    Alert,
    AlertKind,
    AlertStatus,
    ConversationEvent,
    RuptureType,
    Severity,
    conversation_event_adapter,
)
from demo import build_events  # deploy/demo/demo.py
from tests.factories import Script

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"


@pytest.fixture(scope="module")
def scorer() -> ModelScorer:
    return ModelScorer.load(ARTIFACTS)


def alerts_for(scorer: ModelScorer, events: Sequence[ConversationEvent]) -> list[Alert]:
    assessor = Assessor(
        scorer=scorer,
        windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=6)),
        clock=ManualClock(),
    )
    policy = AlertPolicy(policy_config())
    return [
        alert
        for a in assessor.process([(e, 0) for e in events])
        for alert in policy.decide(a).alerts
        if alert.status is AlertStatus.FIRING
    ]


def misattuned() -> Script:
    s = Script("maya")
    s.ai("How have things been since Tuesday?")
    s.client(
        "honestly not good. my mum's dementia is getting worse and she didn't know who i was "
        "on sunday. i sat in the car park afterwards for an hour",
        60,
    )
    s.ai(
        "That sounds hard. Have you considered joining a carers' support group? Many people "
        "find it really helps to share with others in the same situation."
    )
    s.client("fine", 140)
    s.ai("Remember to be kind to yourself during this difficult time! What else is on your mind?")
    s.client("whatever", 200)
    return s


def attuned() -> Script:
    s = Script("maya-2")
    s.ai("How have things been since Tuesday?")
    s.client(
        "honestly not good. my mum's dementia is getting worse and she didn't know who i was "
        "on sunday. i sat in the car park afterwards for an hour",
        60,
    )
    s.ai("Sitting there for an hour after she didn't know you. Did you get home alright?")
    s.client("yeah", 30)
    s.ai("Would it help to talk about Sunday a bit more, or would you rather leave it for now?")
    s.client("leave it for now i think. thanks", 40)
    return s


def test_withdrawal_after_a_misattuned_turn_alerts_on_the_first_minimal_reply(
    scorer: ModelScorer,
) -> None:
    story = misattuned()
    suggestion, fine = story.events[2], story.events[3]
    ruptures = [a for a in alerts_for(scorer, story.events) if a.kind is AlertKind.RUPTURE]
    # One episode: it opens on "fine"; "whatever" may only raise its severity.
    assert len({a.alert_id for a in ruptures}) == 1
    alert = ruptures[0]
    rank = [-list(Severity).index(a.severity) for a in ruptures]  # Severity lists worst first
    assert rank == sorted(set(rank))  # each later alert of it is a raise
    assert alert.rupture_type is RuptureType.WITHDRAWAL
    assert alert.occurred_at == fine.occurred_at  # on "fine", not after "whatever"
    assert "shrank_after_misattuned_turn" in {e.marker for e in alert.evidence}
    assert alert.triggering_turn is not None
    assert alert.triggering_turn.message_id == suggestion.message_id


def test_the_same_short_replies_to_attuned_turns_alert_nobody(scorer: ModelScorer) -> None:
    assert alerts_for(scorer, attuned().events) == []


def test_the_demos_ordinary_conversation_alerts_nobody(scorer: ModelScorer) -> None:
    # "Yeah" to "Would you like to keep the same plan?" answers an offered choice.
    events = [
        conversation_event_adapter.validate_python(e)
        for e in build_events("ordinary", "b", datetime(2026, 1, 1, tzinfo=UTC))
    ]
    assert alerts_for(scorer, events) == []
