"""The learned scorer: calibrated scikit-learn models loaded from a verified skops file.

The artifact holds three models: `rupture` (none / withdrawal / confrontation / crisis, from the
message in its exchange), `crisis` (crisis or not, one window of a message at a time) and
`category` (which crisis, for a model-only detection). The manifest pins the artifact's sha256;
a file that does not match is refused, and skops only instantiates types on an allowlist (never
pickle). Crisis stays rule-backed: the speaker's own explicit crisis language, or a yes to a risk
question, is flagged whatever the models say; the crisis model adds what the rules cannot see.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio

from attune_classifier import exchange
from attune_classifier.compiled import CompiledLinear
from attune_classifier.features import answers_safety_question, window_inputs, word_text
from attune_classifier.heap import freeze_long_lived
from attune_classifier.lexicon import (
    MarkerHit,
    crisis_categories,
    crisis_cue_spans,
    excluded,
    has_risk_cue,
)
from attune_classifier.plain_questions import PLAIN_QUESTION_CAP, plain_question
from attune_classifier.scoring import (
    LexiconScorer,
    MessageScore,
    Scorer,
    ScoringInput,
    preceding_assistant_turn,
)
from attune_classifier.screening import explicit_hits
from attune_classifier.settings import ClassifierSettings
from attune_schemas import CrisisCategory, MarkerFamily

ARTIFACT_NAME = "rupture-model.skops"
MANIFEST_NAME = "manifest.json"
LABELS = ("none", "withdrawal", "confrontation", "crisis")
MODELS = ("rupture", "crisis", "category", "exchange")
CATEGORIES = tuple(c.value for c in CrisisCategory)
RULE_CRISIS = 0.97  # the least crisis score explicit crisis language reports
ELEVATED_DEFAULT = 0.5
# Types the artifact may contain beyond what skops trusts by default.
TRUSTED_PREFIXES = ("attune_classifier.features.", "sklearn.", "numpy.", "scipy.", "builtins.")
SPAN_MIN_WEIGHT = 0.15
MAX_SPANS = 3
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # the word vectorizer's own token pattern
_GROUP = operator.methodcaller("group")
_SPAN = operator.methodcaller("span")


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


def rule_backed(p: Any) -> Any:
    """The crisis score of explicit crisis language: at least RULE_CRISIS, ordered by the models.

    The rule decides that it is a crisis; the models' probability still ranks one explicit
    message above another instead of tying them all (on C-SSRS, tying them hid which of the
    users the rules flag are at risk).
    """
    return RULE_CRISIS + (1 - RULE_CRISIS) * p


def cap_rupture(rest: np.ndarray[Any, Any], cap: float) -> np.ndarray[Any, Any]:
    """P(none, withdrawal, confrontation) rows with withdrawal + confrontation at most `cap`:
    the two keep their proportions and none takes what they give up."""
    out = rest.copy()
    over = out[:, 1] + out[:, 2] > cap
    if over.any():
        rows = out[over]
        rows[:, 1:] *= (cap / (rows[:, 1] + rows[:, 2]))[:, None]
        rows[:, 0] = 1 - rows[:, 1] - rows[:, 2]
        out[over] = rows
    return out


def as_objects(items: Sequence[Any]) -> np.ndarray[Any, Any]:
    x = np.empty(len(items), dtype=object)
    x[:] = list(items)
    return x


# Without a risk cue a person could read (`lexicon.RISK_CUES`, or a reply to a risk question),
# the models alone cannot raise a possible crisis: the window's probability is capped below any
# threshold. Both views learned the corpus's phrasing of intent ("i will", "tonight") and fire on
# "thanks, i will check them out"; a flag nobody can explain is not one a clinician can act on.
NO_CUE_CAP = 0.5


def cued(windows: Sequence[ScoringInput]) -> np.ndarray[Any, Any]:
    """Windows in which the models may raise a crisis: a risk cue, and no denial or stated safety.

    An explicit denial ("I'm not suicidal"), a resolved history with current safety, or an idiom
    (`lexicon.CRISIS_EXCLUSIONS`) is read by the rules; the models alone do not overrule it.
    """
    return np.array(
        [
            (has_risk_cue(w.text) or answers_safety_question(w)) and not excluded(w.text)
            for w in windows
        ]
    )


def combine_views(
    dedicated: np.ndarray[Any, Any], words: np.ndarray[Any, Any], cue: np.ndarray[Any, Any]
) -> Any:
    """A window's crisis probability from its two views (see `crisis_window_probabilities`)."""
    p = (dedicated + words) / 2
    return np.where(cue, p, np.minimum(p, NO_CUE_CAP))


def crisis_window_probabilities(
    model: Any, inputs: Sequence[ScoringInput], message_proba: np.ndarray[Any, Any] | None = None
) -> tuple[np.ndarray[Any, Any], list[ScoringInput]]:
    """Per message, the highest crisis probability of its windows, and that window.

    A window's probability is the mean of two views: the dedicated crisis model (trained on the
    team corpus and clinician-labelled forum posts) and the rupture model's crisis class (the team
    corpus's chat register, word by word). Each view alone is the weaker one in the other's
    register. `message_proba` reuses the rupture model's output for one-window messages.
    """
    owners: list[int] = []
    flat: list[ScoringInput] = []
    reuse: list[float | None] = []
    for k, item in enumerate(inputs):
        parts = window_inputs(item)
        for w in parts:
            owners.append(k)
            flat.append(w)
            whole = message_proba is not None and w is item
            reuse.append(
                float(message_proba[k, 3]) if whole and message_proba is not None else None
            )
    x = as_objects(flat)
    dedicated = model["crisis"].predict_proba(x)[:, 1]
    missing = [i for i, r in enumerate(reuse) if r is None]
    words = np.array([r if r is not None else 0.0 for r in reuse])
    if missing:
        words[missing] = model["rupture"].predict_proba(x[missing])[:, 3]
    p = combine_views(dedicated, words, cued(flat))
    # Compared as Python floats (the same values as float64): no numpy scalar per window.
    best = [-1.0] * len(inputs)
    best_window: list[ScoringInput] = list(inputs)
    for owner, value, window in zip(owners, p.tolist(), flat, strict=True):
        if value > best[owner]:
            best[owner] = value
            best_window[owner] = window
    return np.array(best, dtype=np.float64), best_window


class ModelScorer:
    def __init__(self, model: Any, manifest: Manifest) -> None:
        self.model = model
        self.manifest = manifest
        self._explainer = _Explainer(model["rupture"])
        # The same models as plain matrix products: what the service runs (`compiled`).
        self.fast = {name: CompiledLinear(model[name]) for name in MODELS}

    @classmethod
    def load(cls, model_dir: Path) -> ModelScorer:
        model, manifest = load_artifact(model_dir)
        scorer = cls(model, manifest)
        # The model lives as long as the process: wherever it is loaded (the service, offline
        # scoring, evaluation), full collections should not walk it again (`heap`).
        freeze_long_lived()
        return scorer

    @property
    def version(self) -> str:
        return self.manifest.model_version

    @property
    def elevated(self) -> float:
        """Elevated as the router counts it: chosen with the thresholds by `make train`."""
        router = self.manifest.raw.get("router", {})
        return float(router.get("rupture_accumulate_floor", ELEVATED_DEFAULT))

    @property
    def exchange_notable(self) -> float:
        """The router's exchange threshold as `make train` chose it (never, if it did not)."""
        router = self.manifest.raw.get("router", {})
        return float(router.get("rupture_exchange_fire", math.inf))

    def probabilities(
        self, inputs: Sequence[ScoringInput]
    ) -> tuple[np.ndarray[Any, Any], list[ScoringInput]]:
        """P(none, withdrawal, confrontation, crisis) per input; crisis from the crisis model."""
        proba: np.ndarray[Any, Any] = self.fast["rupture"].predict_proba(inputs)
        crisis, windows = crisis_window_probabilities(self.fast, inputs, proba)
        # The rupture classes keep their proportions and share what crisis leaves.
        rest = proba[:, :3] / np.clip(proba[:, :3].sum(axis=1, keepdims=True), 1e-9, None)
        plain = [k for k, item in enumerate(inputs) if plain_question(item.text)]
        if plain:
            rest[plain] = cap_rupture(rest[plain], PLAIN_QUESTION_CAP)
        return np.column_stack([rest * (1 - crisis)[:, None], crisis]), windows

    def score_batch(self, inputs: Sequence[ScoringInput]) -> list[MessageScore]:
        if not inputs:
            return []
        proba, windows = self.probabilities(inputs)
        detected = proba[:, 3] >= self.manifest.crisis_threshold
        categories = self._categories([w for w, d in zip(windows, detected, strict=True) if d])
        exchanges = exchange.scores(self.fast["exchange"], inputs)
        out = []
        # Python floats and bools (the same values): no numpy scalar per message and field.
        rows = zip(inputs, proba.tolist(), detected.tolist(), exchanges.tolist(), strict=True)
        for item, row, flag, ex in rows:
            score = self._score(item, row, next(categories) if flag else None)
            out.append(replace(score, exchange=round(float(ex), 4)) if ex else score)
        return out

    def _categories(self, windows: list[ScoringInput]) -> Any:
        if not windows:
            return iter(())
        proba = self.fast["category"].predict_proba(windows)
        classes = list(self.fast["category"].classes_)
        return iter(CrisisCategory(CATEGORIES[int(classes[int(np.argmax(p))])]) for p in proba)

    def _score(
        self, item: ScoringInput, row: Sequence[float], suspected: CrisisCategory | None
    ) -> MessageScore:
        none, withdrawal, confrontation, crisis = (float(v) for v in row)
        hits = explicit_hits(item.text, preceding_assistant_turn(item.context))
        rule_categories = tuple(crisis_categories(hits))
        if rule_categories:
            # Explicit crisis language: the rule decides, the rest of the mass is rescaled.
            backed = rule_backed(crisis)
            scale = (1 - backed) / max(1e-9, 1 - crisis)
            none, withdrawal, confrontation, crisis = (
                none * scale,
                withdrawal * scale,
                confrontation * scale,
                backed,
            )
        detected = bool(rule_categories) or suspected is not None
        categories = rule_categories or ((suspected,) if suspected is not None else ())
        rupture_family = (
            MarkerFamily.CONFRONTATION if confrontation >= withdrawal else MarkerFamily.WITHDRAWAL
        )
        spans: list[MarkerHit] = []
        if withdrawal + confrontation >= 0.5:
            spans = [
                MarkerHit(f"{rupture_family.value}_language", rupture_family, s, e)
                for s, e in self._explainer.spans(item.text, LABELS.index(rupture_family.value))
            ]
        elif detected and not rule_categories:
            spans = self._crisis_spans(item)
        return MessageScore(
            none=round(none, 4),
            withdrawal=round(withdrawal, 4),
            confrontation=round(confrontation, 4),
            crisis=round(crisis, 4),
            markers=tuple(_rupture_hits(hits))
            + tuple(h for h in hits if h.family is MarkerFamily.CRISIS),
            crisis_categories=categories,
            crisis_rule=bool(rule_categories),
            crisis_detected=detected,
            model_spans=tuple(spans),
        )

    def _crisis_spans(self, item: ScoringInput) -> list[MarkerHit]:
        """Evidence for a possible crisis that no rule named, for the person who reviews it."""
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
                for s, e in self._explainer.spans(item.text, LABELS.index("crisis"))
            ]
        return spans


class _Explainer:
    """Where in a message the rupture model's word n-grams pushed towards a class.

    The weights of every n-gram are read once from the calibrated folds (the class's coefficient
    against the mean of the classes, times the gram's idf, averaged over folds); a message is then
    explained by dictionary lookups, without running the vectorizer again.
    """

    def __init__(self, rupture_model: Any) -> None:
        self.weights: list[dict[str, float]] = [{} for _ in LABELS]
        self.idf: dict[str, float] = {}
        folds = getattr(rupture_model, "calibrated_classifiers_", [])
        for calibrated in folds:
            pipeline = calibrated.estimator
            union = pipeline.named_steps["features"]
            words = dict(union.transformer_list)["client_words"].named_steps["tfidf"]
            coef = pipeline.named_steps["clf"].coef_
            idf = words.idf_
            for gram, j in words.vocabulary_.items():
                self.idf[gram] = float(idf[j])
            for label in range(len(LABELS)):
                centred = coef[label] - coef.mean(axis=0)
                table = self.weights[label]
                for gram, j in words.vocabulary_.items():
                    w = float(centred[j] * idf[j]) / len(folds)
                    table[gram] = table.get(gram, 0.0) + w
        # Each gram's idf squared, as the norm of a message sums them (`spans`).
        self.idf_squared = {gram: value**2 for gram, value in self.idf.items()}

    def spans(self, text: str, label: int) -> list[tuple[int, int]]:
        lowered = word_text(text)
        found = list(_TOKEN.finditer(lowered))
        words = list(map(_GROUP, found))
        places = list(map(_SPAN, found))
        # Each bigram joined once: looked up here and counted in the norm below.
        bigrams = [f"{a} {b}" for a, b in itertools.pairwise(words)]
        table = self.weights[label]
        # Every span is of one unigram or one bigram, none the same: the order they are scored
        # in cannot change the ranking below, which sorts (weight, span) pairs.
        scored: dict[tuple[int, int], float] = {
            span: w for span, w in zip(places, map(table.get, words), strict=True) if w is not None
        }
        for i, w in enumerate(map(table.get, bigrams)):
            if w is not None:
                scored[(places[i][0], places[i + 1][1])] = w
        # The vectorizer's L2 norm of this message, so weights compare with a fixed minimum.
        # (Built element by element in token order: the set's order is the order of the sum.)
        present = set(words) | set(bigrams)
        norm = math.sqrt(sum(map(self.idf_squared.get, present, itertools.repeat(0.0)))) or 1.0
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


def _rupture_hits(hits: list[MarkerHit]) -> list[MarkerHit]:
    return [h for h in hits if h.family in (MarkerFamily.WITHDRAWAL, MarkerFamily.CONFRONTATION)]


def load_scorer(settings: ClassifierSettings) -> Scorer:
    if settings.scorer == "lexicon":
        return LexiconScorer()
    return ModelScorer.load(settings.model_dir)
