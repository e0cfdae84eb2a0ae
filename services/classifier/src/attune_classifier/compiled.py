"""The fitted linear models, evaluated as plain matrix products for the live service.

Every model in the artifact is a feature union feeding a logistic regression, sigmoid-calibrated
or not. Through scikit-learn each call walks pipelines, feature unions, joblib and calibrators,
about 10 ms for a single message; the same arithmetic done directly takes a fraction of that.
The weights are read from the verified artifact once at load; each feature part still runs its
own `transform` (the marker, exchange and embedding code, the fitted word vectorizer), so
training and serving share one feature definition. A unit test holds the outputs equal to
scikit-learn's `predict_proba`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class _Block:
    """One part of the feature union: how to compute it, and its slice of the weights."""

    features: Callable[[Sequence[Any]], Any]
    weights: Array  # (n_features_of_part, n_outputs), scaling folded in


class CompiledLinear:
    """`predict_proba` of a fitted union + logistic regression, with its calibration."""

    def __init__(self, model: Any) -> None:
        union, regression, calibrated = _unpack(model)
        coef = regression.coef_.T  # (n_features, n_outputs)
        self.intercept: Array = regression.intercept_
        self.classes_: Array = (calibrated or regression).classes_
        self.multinomial = coef.shape[1] > 1
        self.calibration: list[tuple[float, float]] | None = None
        if calibrated is not None:
            (fold,) = calibrated.calibrated_classifiers_  # ensemble=False: one estimator
            self.calibration = [(float(c.a_), float(c.b_)) for c in fold.calibrators]
        self.blocks: list[_Block] = []
        offset = 0
        for _, part in union.transformer_list:
            block, width = _block(part, coef[offset:])
            self.blocks.append(block)
            offset += width
        if offset != coef.shape[0]:
            raise ValueError(f"feature widths add to {offset}, the model has {coef.shape[0]}")

    def decision_function(self, items: Sequence[Any]) -> Array:
        total: Array = np.tile(self.intercept, (len(items), 1)).astype(np.float64)
        for block in self.blocks:
            total += block.features(items) @ block.weights
        return total

    def predict_proba(self, items: Sequence[Any]) -> Array:
        decision = self.decision_function(items)
        if self.calibration is None:
            if not self.multinomial:
                p = expit(decision[:, 0])
                return np.column_stack([1 - p, p])
            result: Array = softmax(decision, axis=1)
            return result
        calibrated = np.column_stack(
            [expit(-(a * decision[:, k] + b)) for k, (a, b) in enumerate(self.calibration)]
        )
        if not self.multinomial:
            proba = np.column_stack([1 - calibrated[:, 0], calibrated[:, 0]])
        else:
            denominator = calibrated.sum(axis=1, keepdims=True)
            uniform = np.full_like(calibrated, 1 / calibrated.shape[1])
            proba = np.divide(calibrated, denominator, out=uniform, where=denominator != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def _unpack(model: Any) -> tuple[FeatureUnion, LogisticRegression, CalibratedClassifierCV | None]:
    """(features, regression, calibration) of the two shapes the artifact uses."""
    if isinstance(model, CalibratedClassifierCV):  # calibrated(union -> regression)
        (fold,) = model.calibrated_classifiers_
        pipeline = fold.estimator
        return pipeline.named_steps["features"], pipeline.named_steps["clf"], model
    last = model.steps[-1][1]
    if isinstance(last, CalibratedClassifierCV):  # union -> calibrated(regression)
        (fold,) = last.calibrated_classifiers_
        return model.named_steps["features"], fold.estimator, last
    return model.named_steps["features"], last, None  # union -> regression


def _block(part: Any, coef: Array) -> tuple[_Block, int]:
    """The part's feature function and its weights, with a final MaxAbsScaler folded in."""
    if isinstance(part, Pipeline):
        steps = [step for _, step in part.steps]
        last = steps[-1]
        if isinstance(last, MaxAbsScaler):
            width = int(last.scale_.shape[0])
            scale = np.where(last.scale_ == 0, 1.0, last.scale_)
            weights = coef[:width] / scale[:, None]
            return _Block(_chain(steps[:-1]), weights), width
        if isinstance(last, TfidfVectorizer):
            width = len(last.vocabulary_)
            return _Block(_chain(steps), coef[:width]), width
        raise TypeError(f"unexpected final step {type(last).__name__}")
    width = int(getattr(part, "dim", 0)) or int(part.transform([]).shape[1])
    return _Block(part.transform, coef[:width]), width


def _chain(steps: list[Any]) -> Callable[[Sequence[Any]], Any]:
    def run(items: Sequence[Any]) -> Any:
        out: Any = items
        for step in steps:
            out = step.transform(out)
        return out

    return run
