"""Answers to risk-screening questions are explicit disclosures, read with the question."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from attune_classifier.assess import Assessor
from attune_classifier.model import ModelScorer
from attune_classifier.scoring import ContextTurn, LexiconScorer, Scorer, ScoringInput
from attune_classifier.screening import screening_hits
from attune_classifier.window import Windows
from attune_runtime.clock import ManualClock
from attune_schemas import CrisisCategory
from tests.factories import T0, Script

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
SI, SH = CrisisCategory.SUICIDAL_IDEATION, CrisisCategory.SELF_HARM
HTO, ABUSE = CrisisCategory.HARM_TO_OTHERS, CrisisCategory.ABUSE_DISCLOSURE

DISCLOSURES = [
    (
        "I want to check in about safety. Are you having any thoughts of ending your life?",
        "yeah a bit",
        [SI],
    ),
    ("Have you hurt yourself since we last spoke?", "ya. twice", [SH]),
    ("Have you had thoughts of suicide this week?", "sometimes, mostly at night", [SI]),
    ("Do you ever wish you could not wake up?", "most nights honestly", [SI]),
    ("Are you safe right now?", "not really", [SI]),
    ("Are you safe right now?", "i don't know", [SI]),
    ("Are you safe right now?", "no, not safe", [SI]),
    ("Are you safe right now?", "no. i'm scared of what i'll do", [SI]),
    ("Do you feel safe at home?", "no", [ABUSE]),
    ("Has he ever hit you?", "yes. last week, in front of the kids", [ABUSE]),
    ("Have you had any thoughts of hurting anyone?", "honestly, yes. my brother", [HTO]),
    ("Any thoughts of suicide, or of hurting yourself?", "yes", [SI, SH]),
    ("Are you thinking about killing yourself?", "I think so", [SI]),
    # A count answers "have you ever...?".
    ("Have you ever tried to end your life?", "twice. the second time was three weeks ago", [SI]),
    ("Have you hurt yourself on purpose this month?", "three times", [SH]),
    ("Have you ever tried to take your own life?", "more than once", [SI]),
]

ANSWERS = [
    ("Are you having any thoughts of ending your life?", "no, i'm not suicidal at all"),
    ("Are you having thoughts of ending your life?", "I have never felt like that"),
    ("Are you having thoughts of ending your life?", "I don't, no"),
    (
        "Have you ever hurt yourself on purpose?",
        "yes, i used to cut years ago in my teens. i've been safe for a long time",
    ),
    ("Are you safe right now?", "yes, I'm safe"),
    ("Are you safe right now?", "no no, I'm fine, just tired"),
    # Two questions, one no: the reply says which it answers.
    (
        "I'm glad you told me. Are you safe right now? Are you thinking about harming yourself?",
        "no, safe. bad place as in anxious, my results come out tomorrow",
    ),
    ("Are you safe at home?", "yes, he moved out in March"),
    ("Did you sleep well?", "yes"),
    ("Have you been drinking this week?", "a bit"),
    # The risk is named, but not asked about: the question is another one.
    ("Lots of people have thoughts of suicide at some point. How was your week?", "yeah good"),
    ("Remember the plan we made to keep yourself safe.", "no"),
    (None, "yes"),
    # Remote history with nothing in the present is history, however it is put.
    ("Have you ever had thoughts of suicide?", "once, briefly, during my divorce 8 years ago"),
    ("Any thoughts of suicide or self-harm?", "I have in the past. Recently, no."),
    ("Have you ever tried to end your life?", "never. once my brother did"),
    ("How was the walk?", "long. yes. tiring"),
]


@pytest.mark.parametrize(("question", "reply", "categories"), DISCLOSURES)
def test_a_yes_to_a_risk_question_discloses_that_risk(
    question: str, reply: str, categories: list[CrisisCategory]
) -> None:
    hits = screening_hits(question, reply)
    assert sorted(h.marker for h in hits) == sorted(c.value for c in categories)
    assert all(reply[h.start : h.end] and h.start == 0 for h in hits)


@pytest.mark.parametrize(("question", "reply"), ANSWERS)
def test_a_denial_a_stated_safety_or_another_question_is_not_a_disclosure(
    question: str | None, reply: str
) -> None:
    assert screening_hits(question, reply) == []


@pytest.mark.parametrize(
    ("question", "reply", "answer"),
    [
        (
            "I need to ask you directly: are you thinking about suicide?",
            "why does everyone ask like its a tick box. yes. happy now?",
            "yes",
        ),
        (
            "Are you having thoughts of ending your life?",
            "what do you want me to say. yeah",
            "yeah",
        ),
    ],
)
def test_a_bare_yes_after_other_words_is_still_the_answer(
    question: str, reply: str, answer: str
) -> None:
    [hit] = screening_hits(question, reply)
    assert hit.marker == SI.value
    assert reply[hit.start : hit.end] == answer


@pytest.fixture(scope="module", params=["model", "lexicon"])
def scorer(request: pytest.FixtureRequest) -> Scorer:
    return ModelScorer.load(ARTIFACTS) if request.param == "model" else LexiconScorer()


def test_both_scorers_flag_the_answer_as_explicit_crisis(scorer: Scorer) -> None:
    question = "Are you having any thoughts of ending your life?"
    (score,) = scorer.score_batch([ScoringInput("yeah a bit", (ContextTurn("ai", question),))])
    assert score.crisis_detected and score.crisis_rule
    assert score.crisis_categories == (SI,)
    assert 0.97 <= score.crisis <= 1.0
    assert [(h.marker, h.start, h.end) for h in score.markers] == [("suicidal_ideation", 0, 4)]


def test_the_same_words_without_the_question_are_not_a_rule_hit(scorer: Scorer) -> None:
    (score,) = scorer.score_batch(
        [ScoringInput("yeah a bit", (ContextTurn("ai", "Was the walk tiring?"),))]
    )
    assert not score.crisis_rule
    assert score.crisis_categories == ()


def test_the_assessment_carries_the_answer_as_rule_evidence(scorer: Scorer) -> None:
    s = Script("c1")
    s.ai("I'd like to check in about safety. Are you having any thoughts of ending your life?")
    reply = s.client("yeah, a bit. mostly at night", after=90)
    assessor = Assessor(
        scorer=scorer,
        windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=1)),
        clock=ManualClock(T0),
    )

    (a,) = assessor.process([(e, 0) for e in s.events])

    assert a.crisis and a.crisis_categories == (SI,)
    [evidence] = [e for e in a.evidence if e.family.value == "crisis"]
    assert (evidence.marker, evidence.source, evidence.excerpt) == (
        "suicidal_ideation",
        "rule",
        "yeah",
    )
    assert evidence.message_id == reply.message_id
