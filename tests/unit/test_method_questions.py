"""A question about how lethal, quick or painful a means would be is explicit crisis language,
however impersonally it is put; the same words in ordinary questions are not."""

from __future__ import annotations

import pytest

from attune_classifier.method_questions import method_question_hits
from attune_classifier.screening import explicit_hits
from attune_schemas import CrisisCategory


@pytest.mark.parametrize(
    "text",
    [
        "would someone die if they took a whole strip of co-codamol?",
        "how long would it take to pass out with the engine running in a closed garage",
        "genuine question. is drowning peaceful once you stop fighting it",
        "which hurts less, pills or jumping from the 5th floor?",
        "do you know if it hurts to bleed out. asking for a friend",
        "if somebody swallowed the lot with vodka would they just drift off",
        "bad week. is a fall from the multi-storey always fatal?",
        "hypothetically would the cold water at the reservoir knock you out before you drowned",
        "what's the least painful, a rope or pills? for a story i'm writing lol",
    ],
)
def test_a_question_about_a_means_and_its_outcome_is_ideation(text: str) -> None:
    assert method_question_hits(text)
    hits = explicit_hits(text, None)
    assert CrisisCategory.SUICIDAL_IDEATION.value in {h.marker for h in hits}


@pytest.mark.parametrize(
    "text",
    [
        "how long does it take for the tablets to start working?",
        "is the flu shot painful? i hate needles",
        "would it be quick to walk along the river to the station",
        "do these pills make you feel anything at first?",
        "i'm drowning in paperwork, is it normal to feel dead inside at work?",
        "how do you survive exam season without pills lol",
        "is it safe to take ibuprofen with paracetamol?",
        "can i hang out with my friends this weekend or is that too much?",
        "my dad drowned when i was nine. did he suffer, do you think? did he know about it?",
        "my son asked me if people die when they fall from a bridge. what do i say?",
        "we went swimming in the lake and it was so peaceful",
        "i'm scared of heights, is it normal to feel like i'll die on a ladder?",
    ],
)
def test_ordinary_questions_with_the_same_words_are_not(text: str) -> None:
    assert not method_question_hits(text)


def test_the_hit_spans_the_question() -> None:
    text = "ok. which is less painful, falling or drowning? its for a school project"
    (hit,) = method_question_hits(text)
    assert "less painful" in text[hit.start : hit.end]
