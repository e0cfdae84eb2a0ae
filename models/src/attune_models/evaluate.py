"""`make evaluate`: measure the model on the frozen test split and on AnnoMI; write the model card.

Every interval is a bootstrap 95% CI that resamples whole conversations (corpus groups, AnnoMI
sessions), never single messages.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from attune_classifier.assess import Assessor
from attune_classifier.model import ModelScorer
from attune_classifier.scoring import MessageScore
from attune_classifier.window import Windows
from attune_models.annomi import (
    CRISIS_TRANSCRIPT,
    MATCHED_PAIRS,
    Session,
    annomi_dir,
    load_sessions,
)
from attune_models.corpus import LABELS, MODELS_DIR, Example, guide_examples, load
from attune_router.policy import AlertPolicy, PolicyConfig
from attune_runtime.clock import ManualClock
from attune_schemas import AlertStatus, RuptureAssessment

SEED = 7
BOOTSTRAP = 1000
FIRE = PolicyConfig().rupture.fire
CARD = MODELS_DIR / "MODEL_CARD.md"
RESULTS = MODELS_DIR / "evaluation.json"

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


def fmt(i: Interval) -> str:
    return f"{i[0]:.3f} [{i[1]:.3f}, {i[2]:.3f}]"


# ---------------------------------------------------------------- the frozen test split


def decide(score: MessageScore) -> str:
    if score.crisis_detected:
        return "crisis"
    options = {
        "none": score.none,
        "withdrawal": score.withdrawal,
        "confrontation": score.confrontation,
    }
    return max(options, key=lambda k: options[k])


def test_split(scorer: ModelScorer, examples: list[Example]) -> dict[str, Any]:
    scores = scorer.score_batch([e.scoring_input() for e in examples])
    y = np.array([LABELS.index(e.label) for e in examples])
    pred = np.array([LABELS.index(decide(s)) for s in scores])
    proba = np.array([[s.none, s.withdrawal, s.confrontation, s.crisis] for s in scores])
    groups = [e.group for e in examples]
    out: dict[str, Any] = {"n": len(examples), "classes": {}}
    for k, label in enumerate(LABELS):
        out["classes"][label] = {"support": int((y == k).sum())} | {
            name: bootstrap(groups, _class_metric(name, k, y, pred, proba))
            for name in ("precision", "recall", "f1", "roc_auc", "pr_auc", "brier")
        }
    onehot = np.eye(len(LABELS))[y]
    out["macro_f1"] = bootstrap(
        groups,
        lambda i: float(
            np.mean(
                precision_recall_fscore_support(y[i], pred[i], labels=range(4), zero_division=0)[2]
            )
        ),
    )
    out["brier"] = bootstrap(
        groups, lambda i: float(np.mean(np.sum((proba[i] - onehot[i]) ** 2, axis=1)))
    )
    rupture = proba[:, 1] + proba[:, 2]
    is_rupture = np.isin(y, [1, 2])
    not_crisis = y != 3
    rg = [g for g, keep in zip(groups, not_crisis, strict=True) if keep]
    r_score, r_true = rupture[not_crisis], is_rupture[not_crisis]
    out["rupture_roc_auc"] = bootstrap(rg, lambda i: roc_auc_score(r_true[i], r_score[i]))
    hard = [i for i, e in enumerate(examples) if e.hard_negative]
    out["hard_negatives"] = {
        "n": len(hard),
        "rupture_alert_level": int(sum(scores[i].rupture >= FIRE for i in hard)),
        "crisis_flagged": int(sum(scores[i].crisis_detected for i in hard)),
    }
    crisis_idx = [i for i, e in enumerate(examples) if e.label == "crisis"]
    out["crisis_missed"] = [examples[i].id for i in crisis_idx if not scores[i].crisis_detected]
    out["confusion"] = {
        LABELS[a]: dict(Counter(LABELS[b] for b in pred[y == a])) for a in range(len(LABELS))
    }
    return out


def _brier(p: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> float:
    return float(np.mean((p - truth) ** 2))


Array = np.ndarray[Any, Any]


def _class_metric(
    name: str, k: int, y: Array, pred: Array, proba: Array
) -> Callable[[Array], float]:
    """One-vs-rest metric of class k over the rows `i` of a bootstrap replicate."""

    def metric(i: Array) -> float:
        truth = y[i] == k
        if name in ("precision", "recall", "f1"):
            p, r, f, _ = precision_recall_fscore_support(
                truth, pred[i] == k, average="binary", zero_division=0
            )
            return float({"precision": p, "recall": r, "f1": f}[name])
        if name == "roc_auc":
            return float(roc_auc_score(truth, proba[i, k]))
        if name == "pr_auc":
            return float(average_precision_score(truth, proba[i, k]))
        return _brier(proba[i, k], truth)

    return metric


def guide_regression(scorer: ModelScorer) -> dict[str, Any]:
    examples = guide_examples()
    scores = scorer.score_batch([e.scoring_input() for e in examples])
    alerts = [
        e.id
        for e, s in zip(examples, scores, strict=True)
        if e.hard_negative and (s.rupture >= FIRE or s.crisis_detected)
    ]
    missed = [
        e.id
        for e, s in zip(examples, scores, strict=True)
        if e.label == "crisis" and not s.crisis_detected
    ]
    return {
        "hard_negatives": sum(e.hard_negative for e in examples),
        "hard_negatives_alerting": alerts,
        "crisis_positives": sum(e.label == "crisis" for e in examples),
        "crisis_missed": missed,
    }


# ---------------------------------------------------------------- AnnoMI


@dataclass
class SessionResult:
    session: Session
    assessments: list[RuptureAssessment]
    alerts: int

    @property
    def risk(self) -> float:
        """Pre-specified aggregate: mean rupture probability over the client's turns."""
        values = [a.scores.rupture for a in self.assessments if a.message_id is not None]
        return float(np.mean(values)) if values else 0.0


def run_session(scorer: ModelScorer, session: Session) -> SessionResult:
    """The session through the service's own code path: window, scorer, alert policy."""
    clock = ManualClock()
    assessor = Assessor(
        scorer=scorer,
        windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=6)),
        clock=clock,
    )
    events = session.events()
    assessments = assessor.process([(e, 0) for e in events])
    policy = AlertPolicy(PolicyConfig())
    alerts = sum(
        1
        for a in assessments
        for alert in policy.decide(a).alerts
        if alert.status is AlertStatus.FIRING
    )
    return SessionResult(session, assessments, alerts)


def annomi(scorer: ModelScorer, directory: Path | None = None) -> dict[str, Any]:
    results = [run_session(scorer, s) for s in load_sessions(directory)]
    low = np.array([r.session.quality == "low" for r in results])
    risk = np.array([r.risk for r in results])
    sustain = np.array([r.session.sustain_ratio for r in results])
    ids = [str(r.session.transcript_id) for r in results]
    # Stratified resampling of sessions keeps both classes in every replicate.
    strata = [f"{q}:{i}" for q, i in zip(low, ids, strict=True)]
    out: dict[str, Any] = {
        "sessions": len(results),
        "low": int(low.sum()),
        "high": int((~low).sum()),
        "session_roc_auc": _strat_auc(strata, low, risk),
        "baseline_sustain_ratio_roc_auc": _strat_auc(strata, low, sustain),
    }
    by_id = {r.session.transcript_id: r for r in results}
    pairs = [(h, lo) for h, lo in MATCHED_PAIRS if h in by_id and lo in by_id]
    out["pairs"] = {
        "n": len(pairs),
        "low_ranked_higher": sum(by_id[lo].risk > by_id[h].risk for h, lo in pairs),
        "detail": [
            {
                "high": h,
                "low": lo,
                "high_risk": round(by_id[h].risk, 3),
                "low_risk": round(by_id[lo].risk, 3),
            }
            for h, lo in pairs
        ],
    }
    for quality in ("high", "low"):
        chosen = [r for r in results if r.session.quality == quality]
        turns = sum(r.session.client_turns for r in chosen)
        alerts = sum(r.alerts for r in chosen)
        out[f"alerts_per_100_client_turns_{quality}"] = round(100 * alerts / turns, 2)
        out[f"client_turns_{quality}"] = turns
        out[f"alerts_{quality}"] = alerts
    hits = []
    for r in results:
        for a in r.assessments:
            if a.crisis:
                hits.append(
                    {
                        "transcript_id": r.session.transcript_id,
                        "utterance": a.message_id,
                        "categories": [c.value for c in a.crisis_categories],
                        "source": "rule" if a.crisis_categories else "model",
                        "tier": "critical"
                        if a.crisis_categories or a.scores.crisis >= PolicyConfig().crisis_critical
                        else "possible",
                        "crisis_probability": a.scores.crisis,
                        "topic": r.session.topic,
                    }
                )
    out["crisis_hits"] = hits
    out["transcript_95_crisis"] = any(h["transcript_id"] == CRISIS_TRANSCRIPT for h in hits)
    out["transcript_95_critical"] = any(
        h["transcript_id"] == CRISIS_TRANSCRIPT and h["tier"] == "critical" for h in hits
    )
    elsewhere = [h for h in hits if h["transcript_id"] != CRISIS_TRANSCRIPT]
    out["crisis_elsewhere"] = {
        "critical": sum(h["tier"] == "critical" for h in elsewhere),
        "possible": sum(h["tier"] == "possible" for h in elsewhere),
        "client_turns": sum(r.session.client_turns for r in results),
    }
    return out


def _strat_auc(
    strata: list[str], low: np.ndarray[Any, Any], score: np.ndarray[Any, Any]
) -> Interval:
    rng = np.random.default_rng(SEED)
    point = float(roc_auc_score(low, score))
    pos, neg = np.flatnonzero(low), np.flatnonzero(~low)
    values = []
    for _ in range(BOOTSTRAP * 2):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        values.append(roc_auc_score(low[idx], score[idx]))
    lo, hi = np.percentile(values, [2.5, 97.5])
    return round(point, 3), round(float(lo), 3), round(float(hi), 3)


# ---------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=MODELS_DIR / "artifacts")
    parser.add_argument(
        "--annomi", type=Path, default=None, help="AnnoMI folder (default ../shared/data/annomi)"
    )
    args = parser.parse_args()
    scorer = ModelScorer.load(args.model_dir)
    corpus = load()
    print(
        f"model {scorer.version}; test split {len(corpus.test)} examples; "
        f"AnnoMI from {args.annomi or annomi_dir()}"
    )
    results = {
        "model_version": scorer.version,
        "manifest": scorer.manifest.raw,
        "test_split": test_split(scorer, corpus.test),
        "guide": guide_regression(scorer),
        "annomi": annomi(scorer, args.annomi),
    }
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    from attune_models.card import render

    CARD.write_text(render(results))
    print(summary(results))
    print(f"\nwrote {CARD} and {RESULTS}")


def summary(r: dict[str, Any]) -> str:
    t, a, g = r["test_split"], r["annomi"], r["guide"]
    hn = t["hard_negatives"]
    lines = ["", "Frozen test split (95% CI, resampling conversations):"]
    for label, m in t["classes"].items():
        lines.append(
            f"  {label:13} P {fmt(m['precision'])}  R {fmt(m['recall'])}  F1 {fmt(m['f1'])}  "
            f"ROC-AUC {fmt(m['roc_auc'])}  PR-AUC {fmt(m['pr_auc'])}"
        )
    lines += [
        f"  macro F1 {fmt(t['macro_f1'])}  multi-class Brier {fmt(t['brier'])}  "
        f"rupture ROC-AUC {fmt(t['rupture_roc_auc'])}",
        f"  hard negatives {hn['n']}: {hn['rupture_alert_level']} at rupture alert level, "
        f"{hn['crisis_flagged']} flagged crisis",
        f"Guide: {len(g['hard_negatives_alerting'])}/{g['hard_negatives']} hard negatives alert; "
        f"{len(g['crisis_missed'])}/{g['crisis_positives']} crisis positives missed",
        "AnnoMI:",
        f"  (a) session ROC-AUC low vs high {fmt(a['session_roc_auc'])} "
        f"vs sustain-ratio baseline {fmt(a['baseline_sustain_ratio_roc_auc'])}",
        f"  (b) matched pairs: low ranked higher in "
        f"{a['pairs']['low_ranked_higher']}/{a['pairs']['n']}",
        f"  (c) alerts per 100 client turns: high-quality {a['alerts_per_100_client_turns_high']}, "
        f"low-quality {a['alerts_per_100_client_turns_low']}",
        f"  (d) transcript 95 raises crisis: {a['transcript_95_crisis']} "
        f"(critical: {a['transcript_95_critical']}); elsewhere {a['crisis_elsewhere']['critical']} "
        f"critical and {a['crisis_elsewhere']['possible']} possible-crisis hits in "
        f"{a['crisis_elsewhere']['client_turns']} client turns",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
