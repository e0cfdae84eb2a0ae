"""The benchmark empties every text cache before each batch it times (`text_caches`).

A cache added later and left out of the registry would let repeated benchmark texts be scored
from memory, and the throughput figure would count work the service never skips.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

import attune_classifier
from attune_classifier import embedding, text_caches
from attune_classifier.model import ModelScorer
from attune_classifier.scoring import ContextTurn, ScoringInput
from attune_models.bench import ARTIFACTS

# Loaders, not text caches: the model and the tokenizer are read once per process.
LOADERS = {embedding._model, embedding._tokenizer}


def _lru_caches() -> set[object]:
    found: set[object] = set()
    for info in pkgutil.iter_modules(attune_classifier.__path__):
        module = importlib.import_module(f"attune_classifier.{info.name}")
        for value in vars(module).values():
            if isinstance(value, functools._lru_cache_wrapper):
                found.add(value)
    return found


def test_every_text_cache_of_the_classifier_is_registered() -> None:
    caches = _lru_caches()
    assert caches - LOADERS <= set(text_caches._CACHES)
    assert set(text_caches._CACHES) <= caches


def test_clearing_empties_them_all_after_a_batch() -> None:
    scorer = ModelScorer.load(ARTIFACTS)
    reply = ScoringInput(
        text="fine. whatever. i don't want to be here anymore",
        context=(ContextTurn("ai", "Have you tried a gratitude journal?"),),
    )
    scorer.score_batch([reply])
    assert embedding._CACHE
    text_caches.clear()
    assert not embedding._CACHE
    assert all(cache.cache_info().currsize == 0 for cache in text_caches._CACHES)
