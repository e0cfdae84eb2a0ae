"""The model card says when the corpus has moved on from the committed artifact."""

from __future__ import annotations

import json

from attune_models.card import render, stale_note
from attune_models.evaluate import CARD, RESULTS

MANIFEST = {"training_data_sha256": "a" * 64}


def test_a_card_for_an_artifact_trained_on_todays_corpus_says_nothing_more() -> None:
    assert stale_note(MANIFEST, {"sha256": "a" * 64, "train_examples": 10}) == ""
    assert stale_note(MANIFEST, None) == ""  # results written before the corpus was recorded


def test_a_grown_corpus_is_named_with_its_size_and_the_command_that_retrains() -> None:
    note = stale_note(MANIFEST, {"sha256": "b" * 64, "train_examples": 1954})
    assert "has changed since this artifact was trained" in note
    assert "1954 examples" in note
    assert "make train" in note


def test_the_committed_card_is_rendered_from_the_committed_results() -> None:
    assert render(json.loads(RESULTS.read_text())) == CARD.read_text()
