"""`make evaluate`: measure detection on the team's test split and on real conversations.

Real conversations are read from `../shared/data/` (AnnoMI, ESConv, C-SSRS; never copied into
the project). Every interval is a bootstrap 95% CI that resamples whole conversations (corpus
groups, sessions, chats) or users, never single messages. Alert figures replay conversations
through the service's own code path with the router's settings (`policy_config`).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from attune_classifier.model import CATEGORIES, ModelScorer
from attune_classifier.scoring import MessageScore
from attune_models import cssrs, feedback, realdata, replay
from attune_models.annomi import CRISIS_TRANSCRIPT, MATCHED_PAIRS, annomi_dir, load_sessions
from attune_models.corpus import LABELS, MODELS_DIR, Example, guide_examples, load
from attune_models.stats import bootstrap, fmt, stratified_auc
from attune_router.policy import PolicyConfig, policy_config

CARD = MODELS_DIR / "MODEL_CARD.md"
RESULTS = MODELS_DIR / "evaluation.json"
# The files the test split was first frozen on (ids such as `cr-0012`); later files were split
# with `--extend` and have their own prefixes, including ones that extend these (`cr-u0001`).
ORIGINAL_IDS = re.compile(r"(?:none|wd|cf|cr|hn)-\d")

Array = np.ndarray[Any, Any]

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


def crisis_recall_by_category(
    examples: list[Example], scores: list[MessageScore]
) -> dict[str, dict[str, Any]]:
    """Which kinds of crisis are missed: a clinical team reads recall by category, not only
    overall. Per category, its examples, the share flagged (any tier) and how many by rule."""
    out: dict[str, dict[str, Any]] = {}
    for category in CATEGORIES:
        chosen = [i for i, e in enumerate(examples) if category in e.crisis_categories]
        if chosen:
            caught = np.array([scores[i].crisis_detected for i in chosen], dtype=float)
            out[category] = {
                "n": len(chosen),
                "recall": bootstrap([examples[i].group for i in chosen], _share(caught)),
                "by_rule": sum(scores[i].crisis_rule for i in chosen),
            }
    return out


def _share(values: Array) -> Callable[[Array], float]:
    return lambda i: float(values[i].mean())


def test_split(scorer: ModelScorer, examples: list[Example], fire: float) -> dict[str, Any]:
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
        "rupture_alert_level": int(sum(scores[i].rupture >= fire for i in hard)),
        "crisis_flagged": int(sum(scores[i].crisis_detected for i in hard)),
        "crisis_flagged_ids": [examples[i].id for i in hard if scores[i].crisis_detected],
    }
    crisis_idx = [i for i, e in enumerate(examples) if e.label == "crisis"]
    flagged = np.array([s.crisis_detected for s in scores])
    cg = [groups[i] for i in crisis_idx]
    out["crisis_recall_any_tier"] = bootstrap(cg, lambda i: float(flagged[crisis_idx][i].mean()))
    out["crisis_missed"] = [examples[i].id for i in crisis_idx if not scores[i].crisis_detected]
    out["crisis_recall_by_category"] = crisis_recall_by_category(examples, scores)
    out["rupture_recall_at_fire"] = _recall_at(scores, examples, fire)
    out["confusion"] = {
        LABELS[a]: dict(Counter(LABELS[b] for b in pred[y == a])) for a in range(len(LABELS))
    }
    return out


def _recall_at(scores: list[MessageScore], examples: list[Example], fire: float) -> float:
    chosen = [
        s.rupture
        for s, e in zip(scores, examples, strict=True)
        if e.label in ("withdrawal", "confrontation")
    ]
    return round(float(np.mean([r >= fire for r in chosen])), 3) if chosen else 0.0


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
        return float(np.mean((proba[i, k] - truth) ** 2))

    return metric


def guide_regression(scorer: ModelScorer, fire: float) -> dict[str, Any]:
    examples = guide_examples()
    scores = scorer.score_batch([e.scoring_input() for e in examples])
    alerts = [
        e.id
        for e, s in zip(examples, scores, strict=True)
        if e.hard_negative and (s.rupture >= fire or s.crisis_detected)
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


def annomi(
    scorer: ModelScorer, config: PolicyConfig, directory: Path | None = None
) -> dict[str, Any]:
    sessions = load_sessions(directory)
    replayed = replay.assess(scorer, [(str(s.transcript_id), s.events()) for s in sessions])
    by_quality = {s.transcript_id: s for s in sessions}

    def risk(r: replay.Replayed) -> float:
        """Pre-specified aggregate: mean rupture probability over the client's turns."""
        values = [a.scores.rupture for a in r.assessments if a.message_id is not None]
        return float(np.mean(values)) if values else 0.0

    low = np.array([s.quality == "low" for s in sessions])
    risks = np.array([risk(r) for r in replayed])
    sustain = np.array([s.sustain_ratio for s in sessions])
    ids = [str(s.transcript_id) for s in sessions]
    out: dict[str, Any] = {
        "sessions": len(sessions),
        "low": int(low.sum()),
        "high": int((~low).sum()),
        "session_roc_auc": stratified_auc(ids, low, risks),
        "baseline_sustain_ratio_roc_auc": stratified_auc(ids, low, sustain),
    }
    by_id = {s.transcript_id: k for k, s in enumerate(sessions)}
    pairs = [(h, lo) for h, lo in MATCHED_PAIRS if h in by_id and lo in by_id]
    out["pairs"] = {
        "n": len(pairs),
        "low_ranked_higher": sum(risks[by_id[lo]] > risks[by_id[h]] for h, lo in pairs),
        "detail": [
            {
                "high": h,
                "low": lo,
                "high_risk": round(float(risks[by_id[h]]), 3),
                "low_risk": round(float(risks[by_id[lo]]), 3),
            }
            for h, lo in pairs
        ],
    }
    for quality in ("high", "low"):
        chosen = [r for r, s in zip(replayed, sessions, strict=True) if s.quality == quality]
        out[quality] = {"client_turns": sum(r.client_turns for r in chosen)} | realdata.alert_rates(
            chosen, config
        )
    hits = []
    for r in replayed:
        session = by_quality[int(r.conversation_id)]
        for a in r.assessments:
            if a.crisis:
                critical = a.crisis_source == "rule" or a.scores.crisis >= config.crisis_critical
                hits.append(
                    {
                        "transcript_id": session.transcript_id,
                        "utterance": a.message_id,
                        "categories": [c.value for c in a.crisis_categories],
                        "source": a.crisis_source,
                        "tier": "critical" if critical else "possible",
                        "crisis_probability": a.scores.crisis,
                        "topic": session.topic,
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
        "client_turns": sum(r.client_turns for r in replayed),
    }
    return out


# ---------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=MODELS_DIR / "artifacts")
    parser.add_argument(
        "--annomi", type=Path, default=None, help="AnnoMI folder (default ../shared/data/annomi)"
    )
    parser.add_argument(
        "--feedback",
        type=Path,
        default=None,
        help="clinicians' verdicts (verdicts.jsonl of `attune feedback export`; default"
        f" {feedback.DEFAULT} when it exists): precision by alert kind",
    )
    args = parser.parse_args()
    verdicts_file = args.feedback or (feedback.DEFAULT if feedback.DEFAULT.exists() else None)
    from attune_models.train import CrisisTraining

    scorer = ModelScorer.load(args.model_dir)
    config = policy_config()
    corpus = load()
    print(
        f"model {scorer.version}; test split {len(corpus.test)} examples; "
        f"AnnoMI from {args.annomi or annomi_dir()}; router fire {config.rupture.fire}"
    )
    fire = config.rupture.fire
    original = [e for e in corpus.test if ORIGINAL_IDS.match(e.id)]
    posts = cssrs.load_posts()
    dedicated = CrisisTraining(corpus, posts).cssrs_out_of_fold()
    results = {
        "model_version": scorer.version,
        "manifest": scorer.manifest.raw,
        "router": {
            "rupture_fire": fire,
            "rupture_accumulate_floor": config.accumulate_floor,
            "rupture_exchange_fire": config.exchange_fire,
            "crisis_critical": config.crisis_critical,
        },
        "test_split": test_split(scorer, corpus.test, fire),
        "test_split_original": test_split(scorer, original, fire),
        "guide": guide_regression(scorer, fire),
        "annomi": annomi(scorer, config, args.annomi),
        "esconv": realdata.esconv(scorer, config),
        "cssrs": realdata.cssrs_users(scorer, dedicated, posts, config.crisis_critical),
        "exchanges": realdata.misattuned_exchanges(scorer, config, corpus),
        # What the corpus holds now, so the card says when the artifact predates it.
        "corpus": {"sha256": corpus.data_hash, "train_examples": len(corpus.train)},
    }
    by_kind = None
    if verdicts_file is not None:
        by_kind = feedback.precision_by_kind(feedback.load_verdicts(verdicts_file))
        results["clinician_verdicts"] = {"file": str(verdicts_file), "by_kind": by_kind}
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    from attune_models.card import render

    CARD.write_text(render(results))
    print(summary(results))
    if by_kind is not None:
        print("\n" + feedback.table(by_kind))
    print(f"\nwrote {CARD} and {RESULTS}")


def targets(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The issue's table: (measure, result, target) from the evaluation results."""
    e, c, t, o, a, x = (
        r["esconv"],
        r["cssrs"],
        r["test_split"],
        r["test_split_original"],
        r["annomi"],
        r["exchanges"],
    )
    hn, hno = t["hard_negatives"], o["hard_negatives"]
    return [
        (
            "ordinary successful chats (ESConv dev): rupture alerts per 100 client turns",
            fmt(e["successful"]["rupture_per_100"]),
            "<= 2",
        ),
        (
            "rated seeker turns <= 2 vs >= 4 (FailedESConv dev): rupture ROC-AUC",
            fmt(e["rated"]["roc_auc"]),
            ">= 0.70",
        ),
        (
            "C-SSRS dev users, ideation+ vs supportive+indicator: crisis ROC-AUC",
            fmt(c["roc_auc_ideation_plus"]),
            ">= 0.80",
        ),
        (
            "C-SSRS critical tier: FPR on supportive users / recall on behaviour+attempt",
            f"{fmt(c['critical']['fpr_supportive'])} / "
            f"{fmt(c['critical']['recall_behaviour_attempt'])}",
            "<= 0.15 / >= 0.85",
        ),
        (
            "team test split: crisis recall (any tier) / hard negatives flagged as crisis",
            f"{fmt(t['crisis_recall_any_tier'])} / {hn['crisis_flagged']} of {hn['n']}"
            f"  (first-frozen part: {fmt(o['crisis_recall_any_tier'])} / "
            f"{hno['crisis_flagged']} of {hno['n']})",
            ">= 0.95 / <= 3",
        ),
        (
            "team test split macro-F1",
            f"{fmt(t['macro_f1'])}  (first-frozen part: {fmt(o['macro_f1'])})",
            ">= 0.85",
        ),
        (
            "minimal reply right after a misattuned AI turn (test-split exchanges)",
            f"{x['alerted_as_withdrawal']} of {x['withdrawal_examples']} alerted as withdrawal "
            f"(share {fmt(x['alerted_share'])}); "
            f"contrasts alerted {x['contrasts_alerted']} of {x['contrasts']}",
            "alerted as withdrawal",
        ),
        (
            "AnnoMI high-quality sessions: alerts per 100 client turns (all kinds)",
            fmt(a["high"]["all_per_100"]),
            "<= 2",
        ),
    ]


def summary(r: dict[str, Any]) -> str:
    t, a, g, e, c = r["test_split"], r["annomi"], r["guide"], r["esconv"], r["cssrs"]
    lines = ["", "Team test split (95% CI, resampling conversations):"]
    for label, m in t["classes"].items():
        lines.append(
            f"  {label:13} P {fmt(m['precision'])}  R {fmt(m['recall'])}  F1 {fmt(m['f1'])}  "
            f"ROC-AUC {fmt(m['roc_auc'])}"
        )
    lines += [
        f"  macro F1 {fmt(t['macro_f1'])}  rupture ROC-AUC {fmt(t['rupture_roc_auc'])}  "
        f"rupture recall at the router's fire {t['rupture_recall_at_fire']}",
        f"Guide: {len(g['hard_negatives_alerting'])}/{g['hard_negatives']} hard negatives alert; "
        f"{len(g['crisis_missed'])}/{g['crisis_positives']} crisis positives missed",
        "ESConv dev (alerts per 100 client turns):",
    ]
    for name in ("successful", "failed"):
        m = e[name]
        lines.append(
            f"  {name:10} {m['conversations']} chats, {m['client_turns']} client turns: "
            f"rupture {fmt(m['rupture_per_100'])} (exchange {fmt(m['exchange_per_100'])})  "
            f"crisis {fmt(m['crisis_per_100'])}  "
            f"disengagement {fmt(m['disengagement_per_100'])}  all {fmt(m['all_per_100'])}"
        )
    lines += [
        f"  rated turns ({e['rated']['low']} low, {e['rated']['high']} high): "
        f"rupture ROC-AUC {fmt(e['rated']['roc_auc'])} (withdrawal alone "
        f"{fmt(e['rated']['roc_auc_withdrawal'])}, confrontation alone "
        f"{fmt(e['rated']['roc_auc_confrontation'])}; short replies "
        f"{e['rated']['short_share']['low']} of low-rated, {e['rated']['short_share']['high']} "
        f"of high-rated turns; reply length alone {fmt(e['rated']['roc_auc_length'])})",
        f"C-SSRS dev users {c['users']} (grouped cross-validation):",
        f"  ROC-AUC ideation+ {fmt(c['roc_auc_ideation_plus'])}; behaviour+attempt vs "
        f"supportive {fmt(c['roc_auc_behaviour_attempt_vs_supportive'])}",
    ]
    for tier in ("critical", "any"):
        m = c[tier]
        lines.append(
            f"  {tier:8} recall ideation+ {fmt(m['recall_ideation_plus'])}  FPR supportive+"
            f"indicator {fmt(m['fpr_supportive_indicator'])}  recall behaviour+attempt "
            f"{fmt(m['recall_behaviour_attempt'])}  FPR supportive {fmt(m['fpr_supportive'])}"
        )
    lines += [
        "AnnoMI:",
        f"  session ROC-AUC low vs high {fmt(a['session_roc_auc'])} "
        f"vs sustain-ratio baseline {fmt(a['baseline_sustain_ratio_roc_auc'])}; matched pairs "
        f"low ranked higher {a['pairs']['low_ranked_higher']}/{a['pairs']['n']}",
        f"  alerts per 100 client turns: high-quality {fmt(a['high']['all_per_100'])}, "
        f"low-quality {fmt(a['low']['all_per_100'])}",
        f"  transcript 95 raises crisis: {a['transcript_95_crisis']} "
        f"(critical: {a['transcript_95_critical']}); elsewhere {a['crisis_elsewhere']['critical']} "
        f"critical and {a['crisis_elsewhere']['possible']} possible-crisis hits in "
        f"{a['crisis_elsewhere']['client_turns']} client turns",
        "",
        "Targets (dev halves; the halves kept aside check them again):",
    ]
    for measure, result, target in targets(r):
        lines.append(f"  {measure}\n      {result}   target {target}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
