"""Intervals that respect how the data is grouped: resample conversations or users, never rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

SEED = 7
BOOTSTRAP = 1000

Interval = tuple[float, float, float]  # point, low, high


def bootstrap(
    groups: Sequence[str],
    statistic: Callable[[np.ndarray[Any, Any]], float],
    *,
    reps: int = BOOTSTRAP,
) -> Interval:
    """Point estimate and 95% CI of `statistic(indices)` resampling whole groups."""
    rng = np.random.default_rng(SEED)
    keys = sorted(set(groups))
    members: dict[str, list[int]] = {k: [] for k in keys}
    for i, g in enumerate(groups):
        members[g].append(i)
    point = statistic(np.arange(len(groups)))
    values = []
    for _ in range(reps):
        chosen = rng.choice(len(keys), size=len(keys), replace=True)
        idx = np.concatenate([members[keys[c]] for c in chosen])
        try:
            v = statistic(idx)
        except ValueError:  # a resample without one of the classes
            continue
        if not np.isnan(v):
            values.append(v)
    low, high = np.percentile(values, [2.5, 97.5]) if values else (np.nan, np.nan)
    return round(float(point), 3), round(float(low), 3), round(float(high), 3)


def stratified_auc(
    groups: Sequence[str], truth: np.ndarray[Any, Any], score: np.ndarray[Any, Any]
) -> Interval:
    """ROC-AUC with a bootstrap that resamples each class's groups (one row per group)."""
    rng = np.random.default_rng(SEED)
    point = float(roc_auc_score(truth, score))
    pos, neg = np.flatnonzero(truth), np.flatnonzero(~truth)
    values = []
    for _ in range(BOOTSTRAP * 2):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        values.append(roc_auc_score(truth[idx], score[idx]))
    lo, hi = np.percentile(values, [2.5, 97.5])
    assert len(groups) == len(truth)
    return round(point, 3), round(float(lo), 3), round(float(hi), 3)


def fmt(i: Interval) -> str:
    return f"{i[0]:.3f} [{i[1]:.3f}, {i[2]:.3f}]"
