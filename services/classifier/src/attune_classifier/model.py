"""The learned scorer: a calibrated scikit-learn pipeline loaded from a verified skops file.

The manifest pins the artifact's sha256; a file that does not match is refused, and skops only
instantiates types on an allowlist (never pickle). Crisis stays rule-backed: explicit crisis
language is flagged whatever the model says, and the model adds what the rules cannot see.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio

from attune_classifier.features import answers_safety_question
from attune_classifier.lexicon import (
    MarkerHit,
    crisis_categories,
    crisis_cue_spans,
    normalise,
)
from attune_classifier.scoring import (
    LexiconScorer,
    MessageScore,
    Scorer,
    ScoringInput,
    preceding_assistant_turn,
)
from attune_classifier.screening import explicit_hits
from attune_classifier.settings import ClassifierSettings
from attune_schemas import MarkerFamily

ARTIFACT_NAME = "rupture-model.skops"
MANIFEST_NAME = "manifest.json"
LABELS = ("none", "withdrawal", "confrontation", "crisis")
# Types the artifact may contain beyond what skops trusts by default.
TRUSTED_PREFIXES = ("attune_classifier.features.", "sklearn.", "numpy.", "scipy.", "builtins.")
SPAN_MIN_WEIGHT = 0.15
MAX_SPANS = 3


def crisis_probability(
    full: np.ndarray[Any, Any], cues: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """Both views must agree: the open-vocabulary model and the risk-cue model (geometric mean).

    The open-vocabulary model alone learns incidental words of the corpus as risk; the cue model
    alone misses implicit language. Their geometric mean keeps the first's ranking in domain and
    lets the second veto spurious activations on ordinary talk.
    """
    result: np.ndarray[Any, Any] = np.sqrt(np.clip(full, 0, 1) * np.clip(cues, 0, 1))
    return result


class ArtifactError(RuntimeError):
    """The model artifact is missing, altered or not what the manifest promises."""


@dataclass(frozen=True)
class Manifest:
    model_version: str
    file: str
    sha256: str
    training_data_sha256: str
    crisis_threshold: float
    raw: dict[str, Any]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(model_dir: Path) -> Manifest:
    path = model_dir / MANIFEST_NAME
    if not path.exists():
        raise ArtifactError(f"no model manifest at {path}; run `make train`")
    raw = json.loads(path.read_text())
    return Manifest(
        model_version=raw["model_version"],
        file=raw["file"],
        sha256=raw["sha256"],
        training_data_sha256=raw["training_data_sha256"],
        crisis_threshold=float(raw["crisis_threshold"]),
        raw=raw,
    )


def load_artifact(model_dir: Path) -> tuple[Any, Manifest]:
    manifest = read_manifest(model_dir)
    path = model_dir / manifest.file
    if not path.exists():
        raise ArtifactError(f"model file {path} named by the manifest does not exist")
    digest = sha256_of(path)
    if digest != manifest.sha256:
        raise ArtifactError(
            f"{path.name} has sha256 {digest[:16]}… but the manifest pins {manifest.sha256[:16]}…; "
            "refusing to load an artifact that is not the one trained"
        )
    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if unexpected:
        raise ArtifactError(f"{path.name} contains types outside the allowlist: {unexpected}")
    return sio.load(path, trusted=untrusted), manifest


class ModelScorer:
    def __init__(self, model: Any, manifest: Manifest) -> None:
        self.model = model
        self.manifest = manifest
        self._explainers = _explainers(model)

    @classmethod
    def load(cls, model_dir: Path) -> ModelScorer:
        model, manifest = load_artifact(model_dir)
        return cls(model, manifest)

    @property
    def version(self) -> str:
        return self.manifest.model_version

    def probabilities(self, inputs: Sequence[ScoringInput]) -> np.ndarray[Any, Any]:
        """P(none, withdrawal, confrontation, crisis) per input, crisis from both views."""
        x = np.empty(len(inputs), dtype=object)
        x[:] = list(inputs)
        proba: np.ndarray[Any, Any] = self.model["rupture"].predict_proba(x)
        cues = self.model["crisis"].predict_proba(x)[:, 1]
        crisis = crisis_probability(proba[:, 3], cues)
        # The other classes keep their proportions and share what crisis leaves.
        rest = proba[:, :3] / np.clip(proba[:, :3].sum(axis=1, keepdims=True), 1e-9, None)
        return np.column_stack([rest * (1 - crisis)[:, None], crisis])

    def score_batch(self, inputs: Sequence[ScoringInput]) -> list[MessageScore]:
        if not inputs:
            return []
        proba = self.probabilities(inputs)
        return [self._score(item, row) for item, row in zip(inputs, proba, strict=True)]

    def _score(self, item: ScoringInput, row: np.ndarray[Any, Any]) -> MessageScore:
        none, withdrawal, confrontation, crisis = (float(v) for v in row)
        hits = explicit_hits(item.text, preceding_assistant_turn(item.context))
        categories = tuple(crisis_categories(hits))
        if categories and crisis < 0.97:
            # Explicit crisis language: the rule decides, the rest of the mass is rescaled.
            scale = (1 - 0.97) / max(1e-9, 1 - crisis)
            none, withdrawal, confrontation, crisis = (
                none * scale,
                withdrawal * scale,
                confrontation * scale,
                0.97,
            )
        detected = bool(categories) or crisis >= self.manifest.crisis_threshold
        rupture_family = (
            MarkerFamily.CONFRONTATION if confrontation >= withdrawal else MarkerFamily.WITHDRAWAL
        )
        spans: list[MarkerHit] = []
        if withdrawal + confrontation >= 0.5:
            spans = [
                MarkerHit(f"{rupture_family.value}_language", rupture_family, s, e)
                for s, e in self._spans(item.text, LABELS.index(rupture_family.value))
            ]
        elif detected and not categories:
            spans = self._crisis_spans(item)
        return MessageScore(
            none=round(none, 4),
            withdrawal=round(withdrawal, 4),
            confrontation=round(confrontation, 4),
            crisis=round(crisis, 4),
            markers=tuple(_rupture_hits(hits))
            + tuple(h for h in hits if h.family is MarkerFamily.CRISIS),
            crisis_categories=categories,
            crisis_rule=bool(categories),
            crisis_detected=detected,
            model_spans=tuple(spans),
        )

    def _crisis_spans(self, item: ScoringInput) -> list[MarkerHit]:
        """Evidence for a possible crisis that no rule named, for the person who reviews it.

        The crisis probability needs the risk-cue view to agree, so the cues it saw (a burden,
        hopelessness, a yes to a safety question) are the evidence; the open-vocabulary n-grams
        only stand in when no cue matched.
        """
        spans = [
            MarkerHit(f"risk_{name}", MarkerFamily.CRISIS, start, end)
            for name, start, end in crisis_cue_spans(item.text)
        ][:MAX_SPANS]
        if answers_safety_question(item):
            spans.append(
                MarkerHit("answers_safety_question", MarkerFamily.CRISIS, 0, len(item.text))
            )
        if not spans:
            spans = [
                MarkerHit("crisis_language", MarkerFamily.CRISIS, s, e)
                for s, e in self._spans(item.text, LABELS.index("crisis"))
            ]
        return spans

    def _spans(self, text: str, label: int) -> list[tuple[int, int]]:
        """Where in the message the model's word n-grams pushed towards `label`."""
        weights: dict[str, float] = {}
        lowered = normalise(text).lower()
        for vectorizer, coef, offset in self._explainers:
            row = vectorizer.transform([lowered])
            centred = coef[label] - coef.mean(axis=0)
            for j, value in zip(row.indices, row.data, strict=True):
                weights_key = vectorizer_vocab_inverse(vectorizer)[j]
                weights[weights_key] = weights.get(weights_key, 0.0) + value * centred[
                    offset + j
                ] / len(self._explainers)
        ranked = sorted((w, g) for g, w in weights.items() if w >= SPAN_MIN_WEIGHT)[::-1]
        spans: list[tuple[int, int]] = []
        for _, gram in ranked:
            m = re.search(r"\W+".join(re.escape(t) for t in gram.split()), lowered)
            if m and not any(s <= m.start() < e or s < m.end() <= e for s, e in spans):
                spans.append(m.span())
            if len(spans) >= MAX_SPANS:
                break
        return sorted(spans)


_INVERSE: dict[int, list[str]] = {}


def vectorizer_vocab_inverse(vectorizer: Any) -> list[str]:
    key = id(vectorizer)
    if key not in _INVERSE:
        vocab = vectorizer.vocabulary_
        inverse = [""] * len(vocab)
        for gram, j in vocab.items():
            inverse[j] = gram
        _INVERSE[key] = inverse
    return _INVERSE[key]


def _explainers(model: Any) -> list[tuple[Any, np.ndarray[Any, Any], int]]:
    """(client word vectorizer, class coefficients, column offset) for each calibrated fold."""
    out = []
    for calibrated in getattr(model["rupture"], "calibrated_classifiers_", []):
        pipeline = calibrated.estimator
        union = pipeline.named_steps["features"]
        words = dict(union.transformer_list)["client_words"].named_steps["tfidf"]
        out.append((words, pipeline.named_steps["clf"].coef_, 0))
    return out


def _rupture_hits(hits: list[MarkerHit]) -> list[MarkerHit]:
    return [h for h in hits if h.family in (MarkerFamily.WITHDRAWAL, MarkerFamily.CONFRONTATION)]


def load_scorer(settings: ClassifierSettings) -> Scorer:
    if settings.scorer == "lexicon":
        return LexiconScorer()
    return ModelScorer.load(settings.model_dir)
