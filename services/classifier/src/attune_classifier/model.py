"""Choosing the scorer at startup."""

from __future__ import annotations

from attune_classifier.scoring import LexiconScorer, Scorer
from attune_classifier.settings import ClassifierSettings


def load_scorer(settings: ClassifierSettings) -> Scorer:
    if settings.scorer == "lexicon":
        return LexiconScorer()
    raise NotImplementedError("learned model not built yet")
