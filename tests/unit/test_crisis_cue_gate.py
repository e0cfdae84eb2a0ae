"""The cue gate belongs to a chat turn: a risk cue in one window of a short message lets the
models raise a possible crisis from any of its windows, while a long post is read window by
window and a denial still closes its own window."""

from __future__ import annotations

import numpy as np

from attune_classifier.features import window_inputs
from attune_classifier.model import NO_CUE_CAP, ONE_ACCOUNT, combine_views, cued
from attune_classifier.scoring import ScoringInput


def windows_of(*messages: str) -> tuple[list[ScoringInput], list[int]]:
    flat: list[ScoringInput] = []
    owners: list[int] = []
    for k, text in enumerate(messages):
        for w in window_inputs(ScoringInput(text=text)):
            flat.append(w)
            owners.append(k)
    return flat, owners


ACCOUNT = (
    "he leaves me in bed all day sometimes when he's angry. he won't bring my meds. "
    "he says i'm a burden he never asked for."
)


def test_a_cue_in_one_window_of_a_chat_turn_opens_the_others() -> None:
    flat, owners = windows_of(ACCOUNT)
    assert len(flat) == 2
    alone = cued(flat, range(len(flat)))  # each window on its own
    assert alone.tolist() == [False, True]
    assert cued(flat, owners).tolist() == [True, True]


def test_messages_do_not_open_each_other() -> None:
    flat, owners = windows_of(ACCOUNT, "we went to the park. it was sunny and the kids loved it.")
    gate = cued(flat, owners)
    assert gate[: owners.count(0)].all()
    assert not gate[owners.count(0) :].any()


def test_a_long_post_is_read_window_by_window() -> None:
    ordinary = " ".join(f"we talked about the garden for a while on day {k}." for k in range(8))
    post = f"{ordinary} honestly everyone would be better off without me."
    flat, owners = windows_of(post)
    assert len(flat) > ONE_ACCOUNT
    gate = cued(flat, owners)
    assert gate[-1] and not gate[0]


def test_a_denial_closes_its_own_window() -> None:
    flat, owners = windows_of("i'm not suicidal.")
    assert not cued(flat, owners).any()


def test_an_uncued_window_stays_capped() -> None:
    p = combine_views(np.array([0.75, 0.75]), np.array([0.25, 0.25]), np.array([True, False]))
    assert p.tolist() == [0.5, NO_CUE_CAP]
    p = combine_views(np.array([1.0, 1.0]), np.array([0.5, 0.5]), np.array([True, False]))
    assert p.tolist() == [0.75, NO_CUE_CAP]
