"""The explainer's spans are what the plain word-by-word reading gives, span for span.

`_plain_spans` is the explainer as first written: each token and bigram looked up in turn and
the message's norm summed gram by gram. The service's version reads the same tables in fewer
steps; every span of every message, for every label, must be the same.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune_classifier.lexicon import normalise
from attune_classifier.model import LABELS, MAX_SPANS, SPAN_MIN_WEIGHT, ModelScorer, _Explainer
from attune_models.corpus import load

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def _plain_spans(explainer: _Explainer, text: str, label: int) -> list[tuple[int, int]]:
    lowered = normalise(text).lower()
    found = list(re.finditer(_TOKEN_PATTERN, lowered))
    words = [m.group() for m in found]
    places = [m.span() for m in found]
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    table = explainer.weights[label]
    scored: dict[tuple[int, int], float] = {}
    for i, (tok, (s, e)) in enumerate(zip(words, places, strict=True)):
        if (w := table.get(tok)) is not None:
            scored[(s, e)] = w
        if i < len(bigrams) and (w := table.get(bigrams[i])) is not None:
            scored[(s, places[i + 1][1])] = w
    present = set(words) | set(bigrams)
    norm = float(np.sqrt(sum(explainer.idf.get(g, 0.0) ** 2 for g in present))) or 1.0
    ranked = sorted(
        ((w / norm, span) for span, w in scored.items() if w / norm >= SPAN_MIN_WEIGHT)
    )[::-1]
    spans: list[tuple[int, int]] = []
    for _, (s, e) in ranked:
        if not any(a <= s < b or a < e <= b for a, b in spans):
            spans.append((s, e))
        if len(spans) >= MAX_SPANS:
            break
    return sorted(spans)


@pytest.fixture(scope="module")
def explainer() -> _Explainer:
    return ModelScorer.load(ARTIFACTS)._explainer


def test_spans_equal_the_plain_reading_on_the_corpus(explainer: _Explainer) -> None:
    corpus = load()
    texts = [e.text for e in corpus.train + corpus.test]
    texts += ["", "ok", "I I I i", "\u0130stanbul is not helpful", "that's NOT helpful!!"]
    found = 0
    for text in texts:
        for label in range(len(LABELS)):
            got = explainer.spans(text, label)
            assert got == _plain_spans(explainer, text, label), (text, label)
            found += bool(got)
    assert found > len(texts)  # many messages have spans to compare


WORDS = ["not", "helpful", "you", "don't", "understand", "fine", "whatever", "i", "want", "to"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*WORDS, " ", ", ", ". ", "\u2019", "X"]), max_size=30))
def test_spans_equal_the_plain_reading_on_any_text(explainer: _Explainer, parts: list[str]) -> None:
    text = "".join(parts)
    for label in range(len(LABELS)):
        assert explainer.spans(text, label) == _plain_spans(explainer, text, label)
