"""From events to assessments with the transparent scorer: the demo's rupture story."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from attune_classifier.assess import Assessor
from attune_classifier.lexicon import find_markers
from attune_classifier.scoring import LexiconScorer
from attune_classifier.window import Windows
from attune_runtime.clock import ManualClock
from attune_schemas import (
    ConversationEvent,
    EndReason,
    Engagement,
    Evidence,
    RecentTurn,
    RuptureAssessment,
    RuptureType,
    Scores,
    SessionEnded,
    TriggeringTurn,
    encode,
)
from tests.factories import T0, Script


def _assessor() -> Assessor:
    windows = Windows(max_conversations=100, idle_expiry=timedelta(hours=6))
    return Assessor(scorer=LexiconScorer(), windows=windows, clock=ManualClock(T0))


def rupture_story() -> Script:
    s = Script("dana")
    s.ai("How have things been since we last talked?")
    s.client(
        "Pretty rough honestly. Work has been a lot and I have been sleeping badly most nights.", 40
    )
    s.ai("What goes through your mind when you're lying awake?")
    s.client("Mostly that I will mess something up at work and everyone will notice it.", 55)
    s.ai("Who do you have around you right now?")
    s.client("Not many people. My sister is busy and I have not told my friends much at all.", 48)
    s.ai("Have you considered joining a support group for work stress?")
    s.client("That's not helpful. I don't want a group.", 70)
    s.ai("Support groups can feel daunting. Would you try one session?")
    s.client("You don't understand me at all.", 95)
    s.ai("Can you tell me more about what you need right now?")
    s.client("fine", 160)
    s.ai("What happened with your manager this week?")
    s.client("whatever", 190)
    return s


def test_rupture_story_names_markers_and_the_triggering_ai_turn() -> None:
    story = rupture_story()
    out = _assessor().process([(e, 0) for e in story.events])
    by_msg = {a.message_id: a for a in out}
    rejection = by_msg["m8"]
    assert rejection.rupture_type is RuptureType.CONFRONTATION
    assert rejection.scores.rupture >= 0.6
    assert "rejecting_intervention" in {e.marker for e in rejection.evidence}
    assert rejection.triggering_turn is not None and rejection.triggering_turn.message_id == "m7"
    assert by_msg["m2"].scores.rupture < 0.3 and by_msg["m2"].triggering_turn is None
    whatever = by_msg["m14"]
    assert whatever.scores.disengagement > 0.5
    assert {"minimal_response_streak", "shorter_replies"} <= {e.marker for e in whatever.evidence}
    assert (
        whatever.engagement.reply_length_ratio is not None
        and whatever.engagement.reply_length_ratio < 0.2
    )


def test_leaving_right_after_an_ai_turn_is_a_disengagement_signal() -> None:
    story = rupture_story()
    story.ai("We can go at whatever pace feels right.")
    ended = SessionEnded(
        event_id=uuid.uuid4(), conversation_id="dana", tenant_id="tenant-a",
        occurred_at=story.at + timedelta(seconds=25), session_id="s1", reason=EndReason.CLIENT_LEFT,
    )  # fmt: skip
    events: list[ConversationEvent] = [*story.events, ended]
    out = _assessor().process([(e, 0) for e in events])
    last = out[-1]
    assert last.source_event_id == ended.event_id and last.message_id is None
    assert "abandoned_after_ai_turn" in {e.marker for e in last.evidence}
    assert (
        last.triggering_turn is not None
        and last.triggering_turn.message_id == story.events[-1].message_id
    )


def test_replayed_and_duplicate_events_change_nothing() -> None:
    story = rupture_story()
    assessor = _assessor()
    first = assessor.process([(e, 0) for e in story.events])
    again = assessor.process([(e, 0) for e in story.events])
    assert len(first) == 7 and again == []


def _comparable(a: RuptureAssessment) -> dict[str, Any]:
    return a.model_dump(exclude={"assessed_at"})


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=13), max_size=6))
def test_batching_does_not_change_assessments(cuts: list[int]) -> None:
    """Scoring in batches of any size gives the same result as one event at a time."""
    events = [(e, 0) for e in rupture_story().events]
    one_by_one = _assessor()
    expected = [_comparable(a) for e in events for a in one_by_one.process([e])]
    batched = _assessor()
    bounds = [0, *sorted(set(cuts)), len(events)]
    got = [
        _comparable(a)
        for lo, hi in itertools.pairwise(bounds)
        for a in batched.process(events[lo:hi])
    ]
    assert got == expected


def test_crisis_language_is_flagged_and_denials_idioms_history_are_not() -> None:
    flagged = [
        "I want to kill myself",
        "honestly I keep thinking everyone would be better off without me",
        "i don't want to be here anymore",
        "he pushed me last week and he checks my phone",
        "i've been saving up my tablets in a little tin",
        "i took a bunch of tablets an hour ago",
        "i can't keep myself safe tonight",
        "i looked up how to tie a noose",
        "I googled painless ways to die",
        "honestly i'd rather not wake up tomorrow",
    ]
    calm = [
        "I'm not suicidal at all, just tired",
        "this job is killing me",
        "my legs were killing me after the hill",
        "I'd kill for a weekend off",
        "I used to cut years ago but I've been safe for a long time now",
        "i wanted to die when he showed me the photos 😂",
        "I took all my tablets this morning like the doctor said",
        "I took loads of painkillers for my back, it's killing me",
        "I took a lot of notes in the meeting",
        "I read about how many people die in car crashes",
    ]
    for text in flagged:
        assert any(h.family.value == "crisis" for h in find_markers(text)), text
    for text in calm:
        assert not any(h.family.value == "crisis" for h in find_markers(text)), text


def test_what_an_alert_may_fire_on_carries_the_recent_turns_and_ordinary_turns_do_not() -> None:
    story = rupture_story()
    out = _assessor().process([(e, 0) for e in story.events])
    by_msg = {a.message_id: a for a in out}
    calm = by_msg["m2"]
    assert calm.scores.rupture < 0.5 and calm.scores.disengagement == 0 and not calm.recent_turns
    rejection = by_msg["m8"]
    turns = rejection.recent_turns
    # The window as it stood right after the message: client and AI, oldest first, up to it.
    assert [t.message_id for t in turns] == [f"m{n}" for n in range(1, 9)]
    assert [t.sender.value for t in turns[-2:]] == ["ai", "client"]
    assert turns[-1].text == "That's not helpful. I don't want a group."
    assert turns[-2].message_id == rejection.triggering_turn.message_id  # type: ignore[union-attr]
    assert [t.at for t in turns] == sorted(t.at for t in turns)
    whatever = by_msg["m14"]  # disengagement signals: carried too, the window moved on
    assert [t.message_id for t in whatever.recent_turns] == [f"m{n}" for n in range(7, 15)]


def _built_part_by_part(a: RuptureAssessment) -> RuptureAssessment:
    """The assessment rebuilt as each part's own model first, then the whole."""
    fields = a.model_dump(exclude={"type"})  # left to its default, as `_assess` leaves it
    trigger = fields["triggering_turn"]
    return RuptureAssessment(
        **{
            **fields,
            "scores": Scores(**fields["scores"]),
            "engagement": Engagement(**fields["engagement"]),
            "evidence": tuple(Evidence(**e) for e in fields["evidence"]),
            "recent_turns": tuple(RecentTurn(**t) for t in fields["recent_turns"]),
            "triggering_turn": None if trigger is None else TriggeringTurn(**trigger),
        }
    )


def test_an_assessment_validated_whole_is_the_one_built_part_by_part() -> None:
    """`_assess` validates one set of fields, parts included: the same model and the same
    bytes as building each part's model first."""
    story = rupture_story()
    out = _assessor().process([(e, 0) for e in story.events])
    assert any(a.recent_turns and a.evidence and a.triggering_turn for a in out)
    for a in out:
        rebuilt = _built_part_by_part(a)
        assert rebuilt == a
        assert encode(rebuilt) == encode(a)
        assert rebuilt.model_fields_set == a.model_fields_set
