"""A minimal reply right after a misattuned AI turn: which replies the exchange rule reads, and
how it reaches the assessment (score, evidence, trigger, withdrawal)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from attune_classifier import exchange
from attune_classifier.assess import Assessor
from attune_classifier.scoring import ContextTurn, LexiconScorer, MessageScore, ScoringInput
from attune_classifier.window import Windows
from attune_runtime.clock import ManualClock
from attune_schemas import RuptureAssessment, RuptureType
from tests.factories import T0, Script

SUGGESTION = "Have you considered joining a carers' support group? Many people find it helps."
DISCLOSURE = "my mum didn't know who i was on sunday and i sat in the car park for an hour after"


def reply(text: str, *context: ContextTurn) -> ScoringInput:
    return ScoringInput(
        text=text,
        context=context or (ContextTurn("client", DISCLOSURE), ContextTurn("ai", SUGGESTION)),
    )


@pytest.mark.parametrize("text", ["fine", "whatever", "ok", "i guess", "nothing really", "k"])
def test_a_short_reply_to_an_ai_turn_is_read(text: str) -> None:
    assert exchange.eligible(reply(text))


@pytest.mark.parametrize(
    "text",
    [
        "thanks, that helps",
        "ok thank you",
        "you too!",
        "bye",
        "hello?",
        "are you still there?",
        "ok?",
        "honestly i have tried groups before and they made it worse for me",
        "   ",
    ],
)
def test_thanks_greetings_questions_and_long_replies_are_not(text: str) -> None:
    assert not exchange.eligible(reply(text))


REFLECTION = "So she didn't know you, and you sat there for an hour."


@pytest.mark.parametrize("text", ["yeah", "Mm-hmm.", "yes", "ok", "right", "Yeah, yeah.", "No."])
def test_assent_counts_after_a_turn_that_steered_and_not_after_a_reflection(text: str) -> None:
    assert exchange.eligible(reply(text))  # after the unasked-for suggestion
    assert not exchange.eligible(
        reply(text, ContextTurn("client", DISCLOSURE), ContextTurn("ai", REFLECTION))
    )
    minimising = "At least she's safe where she is. Try to look after yourself."
    assert exchange.eligible(
        reply(text, ContextTurn("client", DISCLOSURE), ContextTurn("ai", minimising))
    )


def test_a_reflection_that_names_an_activity_did_not_steer() -> None:
    reflection = "So being part of a group and a team gives you a sense of belonging."
    context = (ContextTurn("client", DISCLOSURE), ContextTurn("ai", reflection))
    assert not exchange.eligible(reply("Mm-hmm.", *context))
    proposal = "Have you thought about joining a group? It might help."
    assert exchange.eligible(reply("Mm-hmm.", ContextTurn("ai", proposal)))
    assert not exchange.eligible(reply("yes please", ContextTurn("ai", proposal)))


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What do you do for work these days?", "finance"),
        ("Who else was there on Sunday?", "my brother"),
        ("How are you feeling about it now?", "disgusted"),
        ("Did you manage to sleep at all?", "no"),
        ("Have you told your sister?", "yes"),
    ],
)
def test_a_brief_answer_to_the_question_is_not_a_withdrawal(question: str, answer: str) -> None:
    assert not exchange.eligible(reply(answer, ContextTurn("ai", question)))


@pytest.mark.parametrize("text", ["I don't know. Whatever.", "ok yeah i'll try it", "if you want"])
def test_hedges_and_deference_are_withdrawn_forms(text: str) -> None:
    assert exchange.withdrawn_form(text)


def test_a_withdrawn_word_counts_after_a_reflection_too() -> None:
    assert exchange.eligible(
        reply("whatever", ContextTurn("client", DISCLOSURE), ContextTurn("ai", REFLECTION))
    )


def test_a_reply_with_no_ai_turn_before_it_is_not_read() -> None:
    assert not exchange.eligible(ScoringInput(text="fine"))
    assert not exchange.eligible(reply("fine", ContextTurn("client", DISCLOSURE)))


def test_shrink_is_measured_against_the_clients_recent_turns() -> None:
    assert exchange.shrink(reply("fine")) == pytest.approx(1 - 1 / len(DISCLOSURE.split()))
    # As long as what came before: nothing shrank.
    same = reply("one two three", ContextTurn("client", "a b c"), ContextTurn("ai", SUGGESTION))
    assert exchange.shrink(same) == 0.0
    # No earlier client turn: unknown, half counts.
    alone = reply("fine", ContextTurn("ai", SUGGESTION))
    assert exchange.shrink(alone) == exchange.UNKNOWN_SHRINK


class _Constant:
    """A model that calls every exchange a withdrawal with probability p."""

    def __init__(self, p: float) -> None:
        self.p = p
        self.seen: list[str] = []

    def predict_proba(self, items: Sequence[ScoringInput]) -> np.ndarray[Any, Any]:
        self.seen += [i.text for i in items]
        return np.array([[1 - self.p, self.p] for _ in items])


def test_scores_are_the_models_probability_times_shrink_and_zero_elsewhere() -> None:
    model = _Constant(0.8)
    items = [reply("fine"), reply("thanks so much"), reply(DISCLOSURE)]
    got = exchange.scores(model, items)
    assert got[0] == pytest.approx(0.8 * exchange.shrink(items[0]))
    assert list(got[1:]) == [0.0, 0.0]
    assert model.seen == ["fine"]  # the model reads only what the rule applies to


class _ExchangeScorer(LexiconScorer):
    """The marker scorer, with an exchange score for one reply text."""

    exchange_notable = 0.6

    def __init__(self, text: str, value: float) -> None:
        self.text, self.value = text, value

    def score_batch(self, inputs: Sequence[ScoringInput]) -> list[MessageScore]:
        return [
            replace(s, exchange=self.value) if i.text == self.text else s
            for i, s in zip(inputs, super().score_batch(inputs), strict=True)
        ]


def story() -> Script:
    s = Script("maya")
    s.ai("How have things been since Tuesday?")
    s.client(DISCLOSURE, 60)
    s.ai(SUGGESTION)
    s.client("fine", 140)
    return s


def assess(value: float) -> dict[str | None, RuptureAssessment]:
    assessor = Assessor(
        scorer=_ExchangeScorer("fine", value),
        windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=6)),
        clock=ManualClock(T0),
    )
    return {a.message_id: a for a in assessor.process([(e, 0) for e in story().events])}


def test_a_withdrawn_exchange_names_itself_and_the_ai_turn_it_answers() -> None:
    fine = assess(0.7)["m4"]
    assert fine.scores.exchange == 0.7
    assert fine.rupture_type is RuptureType.WITHDRAWAL
    [evidence] = [e for e in fine.evidence if e.marker == "shrank_after_misattuned_turn"]
    assert (evidence.start, evidence.end, evidence.source) == (0, 4, "model")
    assert fine.triggering_turn is not None
    assert fine.triggering_turn.message_id == "m3"
    assert fine.recent_turns  # the clinician sees the exchange


def test_below_the_notable_score_the_exchange_is_only_a_number() -> None:
    fine = assess(0.5)["m4"]
    assert fine.scores.exchange == 0.5
    assert "shrank_after_misattuned_turn" not in {e.marker for e in fine.evidence}
    assert fine.recent_turns == ()
