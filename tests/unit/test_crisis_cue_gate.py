"""What the crisis models read: a chat turn of a few windows whole, as they learned it, and a long
post a few sentences at a time; and the cue gate on each window they read."""

from __future__ import annotations

import numpy as np

from attune_classifier.features import ONE_ACCOUNT, window_inputs, windows
from attune_classifier.model import NO_CUE_CAP, combine_views, cued
from attune_classifier.scoring import ContextTurn, ScoringInput

ACCOUNT = (
    "he leaves me in bed all day sometimes when he's angry. he won't bring my meds. "
    "he says i'm a burden he never asked for."
)
CONTEXT = (ContextTurn("ai", "What's been happening at home?"),)


def long_post() -> str:
    ordinary = " ".join(f"we talked about the garden for a while on day {k}." for k in range(8))
    return f"{ordinary} honestly everyone would be better off without me."


def test_a_chat_turn_of_a_few_windows_is_read_whole() -> None:
    item = ScoringInput(text=ACCOUNT, context=CONTEXT)
    assert 1 < len(windows(ACCOUNT)) <= ONE_ACCOUNT
    assert window_inputs(item) == [item]


def test_a_long_post_is_read_a_few_sentences_at_a_time() -> None:
    item = ScoringInput(text=long_post(), context=CONTEXT)
    parts = window_inputs(item)
    assert len(parts) > ONE_ACCOUNT
    assert [p.text for p in parts] == windows(item.text)
    assert parts[0].context == CONTEXT and all(not p.context for p in parts[1:])


def test_the_cue_gate_opens_only_the_window_that_holds_the_cue() -> None:
    parts = window_inputs(ScoringInput(text=long_post()))
    gate = cued(parts)
    assert gate[-1] and not gate[:-1].any()
    assert cued([ScoringInput(text=ACCOUNT)]).tolist() == [True]


def test_a_denial_closes_its_window() -> None:
    assert not cued([ScoringInput(text="i'm not suicidal.")]).any()


def test_an_uncued_window_stays_capped() -> None:
    p = combine_views(np.array([0.75, 0.75]), np.array([0.25, 0.25]), np.array([True, False]))
    assert p.tolist() == [0.5, NO_CUE_CAP]
    p = combine_views(np.array([1.0, 1.0]), np.array([0.5, 0.5]), np.array([True, False]))
    assert p.tolist() == [0.75, NO_CUE_CAP]
