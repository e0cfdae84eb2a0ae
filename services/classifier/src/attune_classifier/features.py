"""Features of one client message in context, shared by training and the live service.

The pipeline sees `ScoringInput`s: the client text (word and character n-grams), the preceding
assistant turn by its form only (open or closed question, suggestion, length: its words would
teach the model the corpus's topics), the marker lexicon, and behaviour relative to the client's
own baseline (reply length and latency ratios, minimal-response streak).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler

from attune_classifier.lexicon import (
    CONFRONTATION_MARKERS,
    CRISIS_MARKERS,
    WITHDRAWAL_MARKERS,
    crisis_cue_counts,
    crisis_excluded,
    find_markers,
    normalise,
)
from attune_classifier.scoring import (
    ScoringInput,
    is_closed_question,
    preceding_assistant_turn,
)

MARKERS = (*WITHDRAWAL_MARKERS, *CONFRONTATION_MARKERS, *CRISIS_MARKERS)
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're|youre|u|ur|yourself)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|no|never|don't|dont|can't|cant|won't|wont|isn't|nothing)\b", re.I)
_SUGGESTION = re.compile(
    r"\b(?:try|trying|have you (?:considered|thought)|might help|could help|recommend|suggest|"
    r"what if|how about|group|exercise|technique|homework|worksheet|journal|breathing)\b",
    re.IGNORECASE,
)
_MINIMAL = re.compile(
    r"^\W*(?:ok(?:ay)?|k+|fine|whatever|idk|dunno|sure|meh|i guess|maybe|nothing|not really|"
    r"yeah|yep|yes|no|nah|mhm+|hm+|mm-?hmm|right|cool)\W*$",
    re.IGNORECASE,
)


def client_text(items: Sequence[ScoringInput]) -> list[str]:
    return [normalise(i.text).lower() for i in items]


def assistant_text(items: Sequence[ScoringInput]) -> list[str]:
    return [normalise(preceding_assistant_turn(i.context) or "").lower() for i in items]


class TextColumn(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Selects the client message or the preceding assistant turn as text."""

    def __init__(self, column: str = "client") -> None:
        self.column = column

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> TextColumn:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> list[str]:
        return client_text(items) if self.column == "client" else assistant_text(items)


class LexiconFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Counts of each 3RS / crisis marker phrase, plus surface cues of direction and tone."""

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> LexiconFeatures:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float64]:
        rows = []
        for item in items:
            hits = find_markers(item.text)
            counts = dict.fromkeys(MARKERS, 0)
            for h in hits:
                counts[h.marker] = min(2, counts[h.marker] + 1)
            text = normalise(item.text)
            letters = [c for c in text if c.isalpha()]
            caps = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 8 else 0.0
            rows.append(
                [
                    *counts.values(),
                    float(any(h.family.value == "crisis" for h in hits)),
                    float(crisis_excluded(text)),
                    min(3, len(_SECOND_PERSON.findall(text))),
                    min(3, len(_NEGATION.findall(text))),
                    min(3, text.count("?")),
                    min(3, text.count("!")),
                    caps,
                ]
            )
        return np.asarray(rows, dtype=np.float64)


class BehaviourFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Length and speed of the reply against the client's own baseline, and what it answers."""

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> BehaviourFeatures:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float64]:
        rows = []
        for item in items:
            before = preceding_assistant_turn(item.context)
            words = len(item.text.split())
            rows.append(
                [
                    math.log1p(words),
                    float(bool(_MINIMAL.match(item.text)) or words <= 1),
                    float(is_closed_question(before)),
                    float(bool(before and before.rstrip().endswith("?"))),
                    float(bool(before and _SUGGESTION.search(before))),
                    math.log1p(len(before.split())) if before else 0.0,
                    *_log_ratio(item.length_ratio),
                    *_log_ratio(item.latency_ratio),
                    math.log1p(item.latency_s) if item.latency_s is not None else 0.0,
                    float(item.latency_s is None),
                    min(item.minimal_streak, 5) / 5,
                ]
            )
        return np.asarray(rows, dtype=np.float64)


def _log_ratio(ratio: float | None) -> tuple[float, float]:
    """(log ratio clipped to +-3, missing flag): 0 means 'as usual' or unknown."""
    if ratio is None or ratio <= 0:
        return 0.0, 1.0
    return max(-3.0, min(3.0, math.log(ratio))), 0.0


def build_features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "client_words",
                Pipeline(
                    [
                        ("text", TextColumn("client")),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=10000
                            ),
                        ),
                    ]
                ),
            ),
            (
                "client_chars",
                Pipeline(
                    [
                        ("text", TextColumn("client")),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=(2, 5),
                                min_df=3,
                                sublinear_tf=True,
                                max_features=20000,
                            ),
                        ),
                    ]
                ),
            ),
            ("lexicon", Pipeline([("counts", LexiconFeatures()), ("scale", MaxAbsScaler())])),
            ("behaviour", Pipeline([("values", BehaviourFeatures()), ("scale", MaxAbsScaler())])),
        ]
    )


_SAFETY_QUESTION = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)? yourself|end(?:ing)? your life|hurt(?:ing)? yourself|"
    r"harm(?:ing)? yourself|self[- ]?harm|safe|safety|"
    r"thoughts of (?:dying|death|not being here)|plan|means|"
    r"hurt (?:anyone|someone|him|her)|are you (?:ok|okay|alright)|at risk)\b",
    re.IGNORECASE,
)
_AFFIRMATIVE = re.compile(
    r"^\W*(?:yes|yeah|ya|yep|yup|sometimes|maybe|a bit|kind of|kinda|i guess|mm+|uh-huh)\b", re.I
)


def answers_safety_question(item: ScoringInput) -> bool:
    """A yes, or a few words, straight after the AI asked about safety or self-harm."""
    if not _SAFETY_QUESTION.search(preceding_assistant_turn(item.context) or ""):
        return False
    text = normalise(item.text)
    return bool(_AFFIRMATIVE.match(text)) or len(text.split()) <= 6


class CrisisCueFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Risk cues only: rule hits, cue families, negations, and a safety question just before."""

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> CrisisCueFeatures:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float64]:
        rows = []
        for item in items:
            text = normalise(item.text)
            hits = find_markers(item.text)
            rule = dict.fromkeys(CRISIS_MARKERS, 0.0)
            for h in hits:
                if h.family.value == "crisis":
                    rule[h.marker] = 1.0
            cues = [min(2, n) for n in crisis_cue_counts(text)]
            before = preceding_assistant_turn(item.context) or ""
            safety = bool(_SAFETY_QUESTION.search(before))
            affirm = bool(_AFFIRMATIVE.match(text))
            rows.append(
                [
                    *rule.values(),
                    *cues,
                    float(crisis_excluded(text)),
                    min(3, len(_NEGATION.findall(text))),
                    float(safety),
                    float(safety and affirm),
                    float(safety and len(text.split()) <= 6),
                    math.log1p(len(text.split())),
                ]
            )
        return np.asarray(rows, dtype=np.float64)


def build_crisis_features() -> Pipeline:
    return Pipeline([("cues", CrisisCueFeatures()), ("scale", MaxAbsScaler())])
