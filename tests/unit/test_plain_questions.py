"""A plain question to the assistant is not a rupture by the models alone; a question put as a
challenge, an echo, a change of subject or around a rupture marker still is. The filler "you
know" is one word to the word model."""

from __future__ import annotations

import numpy as np
import pytest

from attune_classifier.features import word_text
from attune_classifier.model import cap_rupture
from attune_classifier.plain_questions import PLAIN_QUESTION_CAP, plain_question


@pytest.mark.parametrize(
    "text",
    [
        "what apps would you suggest for sleep?",
        "hi, how are you doing today?",
        "do you know any groups near me for carers",
        "are you still there?",
        "how long does the course usually take?",
        "why are landlords like this?",
        "Okay. What would the first step be?",
    ],
)
def test_plain_questions_are_read_as_questions(text: str) -> None:
    assert plain_question(text)


@pytest.mark.parametrize(
    "text",
    [
        # Challenges to the assistant.
        "are you even reading what i write?",
        "did you actually look at my plan?",
        "can you stop with the bullet points?",
        "why do you keep bringing up my sister?",
        "weekly?? since when",
        "A breathing app. That's it?",
        "oh great, another worksheet. what next?",
        "are you serious?",
        # Echoes, tags and changes of subject.
        "Monthly?",
        "I'm fine with it, aren't I?",
        "anyway, did I tell you we went to the coast?",
        "btw have you seen the new series",
        # A rupture marker, or statements around the question.
        "you don't understand, do you?",
        "what's the point of any of this?",
        "I told you this last week. I wrote it all down. I said it twice. Why?",
        # No question at all.
        "thanks, that helps",
    ],
)
def test_questions_put_as_a_rupture_are_not_plain(text: str) -> None:
    assert not plain_question(text)


def test_a_capped_row_keeps_its_proportions_and_sums_to_one() -> None:
    rows = np.array([[0.05, 0.15, 0.80], [0.70, 0.20, 0.10]])
    capped = cap_rupture(rows, PLAIN_QUESTION_CAP)
    assert capped[0, 1] + capped[0, 2] == pytest.approx(PLAIN_QUESTION_CAP)
    assert capped[0, 2] / capped[0, 1] == pytest.approx(0.80 / 0.15)
    assert capped.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert np.array_equal(capped[1], rows[1])  # under the cap: unchanged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Um, you know, like, it was fine", "um, you_know, like, it was fine"),
        ("going back to that life, you know, crime", "going back to that life, you_know, crime"),
        ("You know, I think so", "you_know, i think so"),
        # "you know" as words to the assistant stays two words.
        ("you know nothing about me", "you know nothing about me"),
        ("you know what i mean?", "you know what i mean?"),
        ("do you know of any groups", "do you know of any groups"),
    ],
)
def test_the_filler_you_know_is_one_word_of_the_same_length(text: str, expected: str) -> None:
    assert word_text(text) == expected
    assert len(word_text(text)) == len(text)
