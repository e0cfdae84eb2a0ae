"""Detection on conversations written by other people: alert burden, rated turns, crisis.

- ESConv dev (CC BY-NC, evaluation and thresholds only): alert burden on ordinary successful
  support chats and on failed ones; rupture score of seeker turns rated 1-2 against 4-5.
- C-SSRS dev (clinician-labelled users): crisis scores per user from grouped cross-validation
  (the crisis model is trained on these posts, so every user is scored by a model that never
  saw them), with the service's tiers.
- Exchanges: a minimal or deferential reply right after a misattuned AI turn, replayed as its
  conversation through the router.
Intervals are bootstrap 95% CIs that resample whole conversations or users.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from attune_classifier.features import is_short
from attune_classifier.model import ModelScorer, as_objects, combine_views, cued, rule_backed
from attune_models import cssrs, dialogues, replay
from attune_models.corpus import Corpus, Example
from attune_models.stats import Interval, bootstrap, stratified_auc
from attune_router.policy import PolicyConfig
from attune_schemas import Alert, AlertKind, ConversationEvent, MessageSent, RuptureType, Sender

Array = np.ndarray[Any, Any]


def alert_rates(replayed: list[replay.Replayed], config: PolicyConfig) -> dict[str, Interval]:
    """Alerts per 100 client turns by kind and in all, resampling conversations.

    The policy replays each conversation once; every kind is counted from the same alerts.
    """
    fired = [replay.fired(r, config) for r in replayed]
    turns = np.array([r.client_turns for r in replayed])
    ids = [r.conversation_id for r in replayed]
    out: dict[str, Interval] = {}
    for name, kind in (
        ("rupture_per_100", AlertKind.RUPTURE),
        ("crisis_per_100", AlertKind.CRISIS),
        ("disengagement_per_100", AlertKind.DISENGAGEMENT),
        ("all_per_100", None),
    ):
        counts = np.array([sum(kind is None or a.kind is kind for a in f) for f in fired])
        out[name] = bootstrap(ids, _per_100(counts, turns))
    # The rupture alerts a withdrawn exchange opened (a share of rupture_per_100).
    counts = np.array([sum(EXCHANGE_MARKER in _markers(a) for a in f) for f in fired])
    out["exchange_per_100"] = bootstrap(ids, _per_100(counts, turns))
    return out


EXCHANGE_MARKER = "shrank_after_misattuned_turn"


def _markers(alert: Alert) -> set[str]:
    return {e.marker for e in alert.evidence}


def _per_100(counts: Array, turns: Array) -> Callable[[Array], float]:
    def statistic(i: Array) -> float:
        return 100 * float(counts[i].sum()) / max(1, int(turns[i].sum()))

    return statistic


def esconv(scorer: ModelScorer, config: PolicyConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, path in (("successful", dialogues.ESCONV), ("failed", dialogues.FAILED_ESCONV)):
        convs = dialogues.load(path)
        replayed = replay.assess(scorer, [(d.conversation_id, d.events()) for d in convs])
        out[name] = {
            "conversations": len(convs),
            "client_turns": sum(r.client_turns for r in replayed),
        } | alert_rates(replayed, config)
        if name == "failed":
            out["rated"] = rated_turns(convs, replayed)
        if name == "successful":
            out["fired_examples"] = _fired_examples(replayed, config, convs)
    return out


def rated_turns(convs: list[dialogues.Dialogue], replayed: list[replay.Replayed]) -> dict[str, Any]:
    """Seeker turns rated 1-2 against 4-5: is the rupture score higher on the low ones?"""
    y, score, withdrawal, confrontation, groups = [], [], [], [], []
    short, words = [], []
    for d, r in zip(convs, replayed, strict=True):
        by_message = {a.message_id: a for a in r.assessments if a.message_id is not None}
        for i, turn in enumerate(d.turns):
            if turn.speaker != "client" or turn.feedback in (None, 3):
                continue
            a = by_message.get(d.message_id(i))
            if a is None:
                continue
            y.append(turn.feedback is not None and turn.feedback <= 2)
            score.append(a.scores.rupture)
            withdrawal.append(a.scores.withdrawal)
            confrontation.append(a.scores.confrontation)
            groups.append(d.conversation_id)
            words.append(float(len(turn.text.split())))
            short.append(is_short(turn.text))
    truth = np.array(y)
    brief = np.array(short)

    def auc(values: list[float]) -> Interval:
        v = np.array(values)
        return bootstrap(groups, lambda i: float(roc_auc_score(truth[i], v[i])))

    return {
        "low": int(truth.sum()),
        "high": int((~truth).sum()),
        "conversations": len(set(groups)),
        "roc_auc": auc(score),
        # Which half of the rupture score ranks them: read, not tuned on.
        "roc_auc_withdrawal": auc(withdrawal),
        "roc_auc_confrontation": auc(confrontation),
        # Why the withdrawal half cannot rank them: short replies are as likely, or more, in
        # turns rated well. The reply's length alone, longer ranked lower-rated, for comparison.
        "short_share": {
            "low": round(float(brief[truth].mean()), 3),
            "high": round(float(brief[~truth].mean()), 3),
        },
        "roc_auc_length": auc(words),
    }


def _fired_examples(
    replayed: list[replay.Replayed], config: PolicyConfig, convs: list[dialogues.Dialogue]
) -> list[dict[str, Any]]:
    """What fired on ordinary chats, by id and marker: to be read, not only counted."""
    out = []
    for r, d in zip(replayed, convs, strict=True):
        for alert in replay.fired(r, config):
            out.append(
                {
                    "conversation": d.conversation_id,
                    "kind": alert.kind.value,
                    "severity": alert.severity.value,
                    "risk": alert.risk,
                    "markers": sorted({e.marker for e in alert.evidence}),
                }
            )
    return out


def cssrs_users(
    scorer: ModelScorer, dedicated_oof: Array, posts: cssrs.Posts, critical: float
) -> dict[str, Any]:
    """Per user: the crisis score and tiers, from the grouped out-of-fold crisis model.

    A post scores like an assessment: the speaker's own explicit crisis language is `rule_backed`,
    else the highest window of the two views (`combine_views`).
    """
    words = scorer.model["rupture"].predict_proba(as_objects(posts.windows))[:, 3]
    post_p = cssrs.per_post(posts, combine_views(dedicated_oof, words, cued(posts.windows)))
    post_score = np.where(posts.post_rule, rule_backed(post_p), post_p)
    user_score = cssrs.per_user(posts, post_score)
    tiers = {
        "critical": posts.post_rule | (post_p >= critical),
        "any": posts.post_rule | (post_p >= scorer.manifest.crisis_threshold),
    }
    users = posts.users
    labels = np.array([posts.labels[u] for u in users])
    score = np.array([user_score[u] for u in users])
    at_risk = np.isin(labels, cssrs.AT_RISK)
    ba = np.isin(labels, ("Behavior", "Attempt"))
    supportive = labels == "Supportive"
    out: dict[str, Any] = {
        "users": {str(level): int((labels == level).sum()) for level in sorted(set(labels))},
        "roc_auc_ideation_plus": stratified_auc(users, at_risk, score),
        "roc_auc_behaviour_attempt_vs_supportive": stratified_auc(
            [u for u, keep in zip(users, ba | supportive, strict=True) if keep],
            ba[ba | supportive],
            score[ba | supportive],
        ),
    }
    for tier, flags in tiers.items():
        paged = cssrs.flagged_users(posts, flags)
        flagged = np.array([u in paged for u in users])
        out[tier] = {
            "recall_ideation_plus": _share(users, flagged, at_risk),
            "fpr_supportive_indicator": _share(users, flagged, ~at_risk),
            "recall_behaviour_attempt": _share(users, flagged, ba),
            "fpr_supportive": _share(users, flagged, supportive),
        }
    return out


def _share(users: list[str], flagged: Array, among: Array) -> Interval:
    chosen = [u for u, keep in zip(users, among, strict=True) if keep]
    values = flagged[among].astype(float)
    return bootstrap(chosen, lambda i: float(values[i].mean()))


def misattuned_exchanges(
    scorer: ModelScorer, config: PolicyConfig, corpus: Corpus
) -> dict[str, Any]:
    """Test-split replies withdrawn right after a misattuned AI turn, and their contrasts.

    Each example is replayed as its own conversation (its context, then the reply) through the
    classifier and the router: is a rupture alert fired, and is it typed withdrawal?
    """
    chosen = [e for e in corpus.test if e.id.startswith("ex-")]
    positives = [e for e in chosen if e.label == "withdrawal"]
    contrasts = [e for e in chosen if e.label == "none"]

    def alerted(examples: list[Example]) -> tuple[int, int, list[str]]:
        replayed = replay.assess(scorer, [(e.id, _events(e)) for e in examples])
        any_alert = typed = 0
        ids = []
        for e, r in zip(examples, replayed, strict=True):
            ruptures = [a for a in replay.fired(r, config) if a.kind is AlertKind.RUPTURE]
            if ruptures:
                any_alert += 1
                ids.append(e.id)
                typed += any(a.rupture_type is RuptureType.WITHDRAWAL for a in ruptures)
        return any_alert, typed, ids

    hit, typed, ids = alerted(positives)
    false, _, false_ids = alerted(contrasts)
    found = np.array([e.id in ids for e in positives], dtype=float)
    return {
        "withdrawal_examples": len(positives),
        "alerted": hit,
        "alerted_as_withdrawal": typed,
        "alerted_share": bootstrap([e.group for e in positives], lambda i: float(found[i].mean())),
        "alerted_ids": ids,
        "contrasts": len(contrasts),
        "contrasts_alerted": false,
        "contrasts_alerted_ids": false_ids,
    }


def _events(e: Example) -> Sequence[ConversationEvent]:
    turns = [*e.context, None]
    return [
        MessageSent(
            event_id=_uuid(f"{e.id}/{i}"),
            conversation_id=e.id,
            tenant_id="eval",
            occurred_at=dialogues.START + dialogues.GAP * i,
            message_id=f"t{i}",
            sender=Sender.CLIENT if t is None or t.sender == "client" else Sender.AI,
            text=e.text if t is None else t.text,
        )
        for i, t in enumerate(turns)
    ]


def _uuid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"corpus/{name}")
