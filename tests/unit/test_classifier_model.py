"""The learned model's artifact: verified before loading, stamped on every assessment."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune_classifier.assess import Assessor
from attune_classifier.features import word_text
from attune_classifier.model import (
    _TOKEN,
    ARTIFACT_NAME,
    LABELS,
    MANIFEST_NAME,
    MAX_SPANS,
    RULE_CRISIS,
    SPAN_MIN_WEIGHT,
    ArtifactError,
    ModelScorer,
    load_artifact,
    rule_backed,
)
from attune_classifier.window import Windows
from attune_models.corpus import load
from attune_models.train import _deterministic_zip
from attune_runtime.clock import ManualClock
from tests.factories import T0, Script

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"


@pytest.fixture(scope="module")
def scorer() -> ModelScorer:
    return ModelScorer.load(ARTIFACTS)


def test_a_tampered_artifact_is_refused(tmp_path: Path) -> None:
    shutil.copytree(ARTIFACTS, tmp_path / "a")
    blob = bytearray((tmp_path / "a" / ARTIFACT_NAME).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (tmp_path / "a" / ARTIFACT_NAME).write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match="refusing to load"):
        load_artifact(tmp_path / "a")


def test_a_missing_manifest_or_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="make train"):
        load_artifact(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text(
        json.dumps(json.loads((ARTIFACTS / MANIFEST_NAME).read_text()))
    )
    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path)


def test_types_outside_the_allowlist_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("skops.io.get_untrusted_types", lambda file: ["os.system"])
    with pytest.raises(ArtifactError, match="allowlist"):
        load_artifact(ARTIFACTS)


def test_every_assessment_carries_the_model_version(scorer: ModelScorer) -> None:
    s = Script("c1")
    s.ai("How are you today?")
    s.client("not great, work has been a lot")
    assessor = Assessor(
        scorer=scorer,
        windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=1)),
        clock=ManualClock(T0),
    )
    (a,) = assessor.process([(e, 0) for e in s.events])
    manifest = json.loads((ARTIFACTS / MANIFEST_NAME).read_text())
    assert a.model_version == manifest["model_version"] == scorer.version


def test_probabilities_are_a_distribution(scorer: ModelScorer) -> None:
    s = Script("c1")
    s.ai("Have you thought about joining a support group?")
    item = s.client("that's not helpful, I don't want a group")
    from attune_classifier.scoring import ContextTurn, ScoringInput

    (score,) = scorer.score_batch([ScoringInput(item.text, (ContextTurn("ai", s.events[0].text),))])
    total = score.none + score.withdrawal + score.confrontation + score.crisis
    assert abs(total - 1.0) < 1e-3
    assert score.confrontation > score.withdrawal


def test_explicit_crisis_scores_at_least_the_rule_and_keeps_the_models_order(
    scorer: ModelScorer,
) -> None:
    from attune_classifier.scoring import ScoringInput

    items = [
        ScoringInput("i want to kill myself"),
        ScoringInput(
            "ive saved up my pills and tonight im going to kill myself, ive written the note"
        ),
        ScoringInput("honestly i just want to die, nothing is getting better"),
    ]
    scores = scorer.score_batch(items)
    proba, _ = scorer.probabilities(items)
    assert all(s.crisis_rule for s in scores)
    for score, p in zip(scores, proba, strict=True):
        assert score.crisis == round(rule_backed(float(p[3])), 4) >= RULE_CRISIS
        total = score.none + score.withdrawal + score.confrontation + score.crisis
        assert abs(total - 1.0) < 1e-3
    # Tied at one number, the queue and a person's ranking would lose what the models add.
    assert len({s.crisis for s in scores}) == len(scores)
    order = sorted(range(len(items)), key=lambda i: float(proba[i][3]))
    assert order == sorted(range(len(items)), key=lambda i: scores[i].crisis)


def test_the_artifact_zip_is_byte_reproducible() -> None:
    blob = (ARTIFACTS / ARTIFACT_NAME).read_bytes()
    assert _deterministic_zip(blob) == blob


def _reference_spans(explainer: Any, text: str, label: int) -> list[tuple[int, int]]:
    """`_Explainer.spans` as first written: each bigram joined where it is looked up."""
    lowered = word_text(text)
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(lowered)]
    table = explainer.weights[label]
    scored: dict[tuple[int, int], float] = {}
    for i, (tok, s, e) in enumerate(tokens):
        if (w := table.get(tok)) is not None:
            scored[(s, e)] = w
        if i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if (w := table.get(f"{tok} {nxt[0]}")) is not None:
                scored[(s, nxt[2])] = w
    present = {tok for tok, _, _ in tokens} | {
        f"{a[0]} {b[0]}" for a, b in itertools.pairwise(tokens)
    }
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


def test_the_spans_a_message_is_explained_by_are_the_reference_ones(scorer: ModelScorer) -> None:
    corpus = load()
    texts = [e.text for e in corpus.train + corpus.test]
    texts += ["", "ok", "you  never\u2019 listen to me", "I I I I", "That's not what I said!!"]
    explainer = scorer._explainer
    for text in texts:
        for label in range(len(LABELS)):
            assert explainer.spans(text, label) == _reference_spans(explainer, text, label), text


_WORDS = ["not", "helpful", "you", "don't", "understand", "fine", "whatever", "i", "want", "to"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_WORDS, " ", ", ", ". ", "\u2019", "X"]), max_size=30))
def test_the_spans_of_any_text_are_the_reference_ones(
    scorer: ModelScorer, parts: list[str]
) -> None:
    text = "".join(parts)
    explainer = scorer._explainer
    for label in range(len(LABELS)):
        assert explainer.spans(text, label) == _reference_spans(explainer, text, label), text
