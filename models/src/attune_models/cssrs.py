"""The Reddit C-SSRS posts (CC BY) for the crisis model: training windows and grouped evaluation.

Labels belong to users, not posts: a user labelled Ideation may have posts with no ideation.
Posts are cut into the same windows the service scores (`features.windows`) and every window
takes its user's label, a noisy label that the team corpus's clean one outweighs. Users never
straddle folds: evaluation is grouped cross-validation over users, and a user's score is the
highest window score over all their posts (any message at risk makes the person at risk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from attune_classifier.features import window_inputs
from attune_classifier.lexicon import crisis_categories
from attune_classifier.scoring import ScoringInput
from attune_classifier.screening import explicit_hits
from attune_models import dialogues

AT_RISK = dialogues.CSSRS_AT_RISK
SEED = 20261130
FOLDS = 5


@dataclass(frozen=True)
class Posts:
    """Every post of every user, and the windows the crisis model reads."""

    users: list[str]  # one per user, sorted
    labels: dict[str, str]  # user -> C-SSRS level
    post_user: list[str]  # per post
    post_rule: np.ndarray[Any, Any]  # per post: the speaker's own explicit crisis language
    windows: list[ScoringInput]
    window_post: np.ndarray[Any, Any]  # per window: index of its post

    @property
    def window_user(self) -> np.ndarray[Any, Any]:
        users: np.ndarray[Any, Any] = np.array(self.post_user)[self.window_post]
        return users

    @property
    def window_at_risk(self) -> np.ndarray[Any, Any]:
        return np.array([self.labels[u] in AT_RISK for u in self.window_user])


def load_posts() -> Posts:
    users = dialogues.load(dialogues.CSSRS)
    labels = {u.conversation_id: str(u.labels["cssrs"]) for u in users}
    post_user: list[str] = []
    rule: list[bool] = []
    windows: list[ScoringInput] = []
    window_post: list[int] = []
    for user in users:
        for turn in user.turns:
            item = ScoringInput(text=turn.text)
            post_user.append(user.conversation_id)
            rule.append(bool(crisis_categories(explicit_hits(turn.text, None))))
            for w in window_inputs(item):
                windows.append(w)
                window_post.append(len(post_user) - 1)
    return Posts(
        users=sorted(labels),
        labels=labels,
        post_user=post_user,
        post_rule=np.array(rule),
        windows=windows,
        window_post=np.array(window_post),
    )


def user_folds(posts: Posts) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """Grouped, stratified folds over users, as window indices."""
    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return list(splitter.split(posts.windows, posts.window_at_risk, posts.window_user))


def per_post(posts: Posts, window_scores: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    best = np.zeros(len(posts.post_user))
    np.maximum.at(best, posts.window_post, window_scores)
    return best


def per_user(posts: Posts, post_scores: np.ndarray[Any, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for user, score in zip(posts.post_user, post_scores, strict=True):
        out[user] = max(out.get(user, 0.0), float(score))
    return out


def flagged_users(posts: Posts, post_flags: np.ndarray[Any, Any]) -> set[str]:
    return {u for u, f in zip(posts.post_user, post_flags, strict=True) if f}
