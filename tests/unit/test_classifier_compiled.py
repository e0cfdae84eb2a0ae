"""The service's compiled models give scikit-learn's probabilities, to rounding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune_classifier import embedding
from attune_classifier.model import ModelScorer, as_objects
from attune_models.corpus import load

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"


@pytest.fixture(scope="module")
def scorer() -> ModelScorer:
    return ModelScorer.load(ARTIFACTS)


@pytest.mark.parametrize("name", ["rupture", "crisis", "category", "exchange"])
def test_compiled_models_equal_scikit_learn(scorer: ModelScorer, name: str) -> None:
    corpus = load()
    items = [e.scoring_input() for e in corpus.test[:300]]
    expected = scorer.model[name].predict_proba(as_objects(items))
    got = scorer.fast[name].predict_proba(items)
    assert got.shape == expected.shape
    assert np.allclose(got, expected, atol=1e-9)
    assert list(scorer.fast[name].classes_) == list(scorer.model[name].classes_)


def test_the_embedding_is_loaded_with_the_models_not_by_the_first_message() -> None:
    embedding._tokenizer.cache_clear()
    embedding._model.cache_clear()
    ModelScorer.load(ARTIFACTS)
    # Loaded at start-up: the first message after a start is not the one that waits for it.
    assert embedding._model.cache_info().currsize == 1
    assert embedding._tokenizer.cache_info().currsize == 1
