"""Conversations through the service's own code path: window, scorer, then the alert policy.

Training uses it to choose thresholds for an alert budget; evaluation uses it to measure alert
burden. Each conversation gets its own window and policy state, as it would on the topic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from attune_classifier.assess import Assessor
from attune_classifier.scoring import Scorer
from attune_classifier.window import Windows
from attune_router.policy import AlertPolicy, PolicyConfig
from attune_runtime.clock import ManualClock
from attune_schemas import (
    Alert,
    AlertStatus,
    ConversationEvent,
    MessageSent,
    RuptureAssessment,
    Sender,
)


@dataclass(frozen=True)
class Replayed:
    conversation_id: str
    client_turns: int
    assessments: list[RuptureAssessment]


def assess(
    scorer: Scorer, conversations: Sequence[tuple[str, Sequence[ConversationEvent]]]
) -> list[Replayed]:
    out = []
    for conversation_id, events in conversations:
        assessor = Assessor(
            scorer=scorer,
            windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=6)),
            clock=ManualClock(),
        )
        assessments = assessor.process([(e, 0) for e in events])
        turns = sum(1 for e in events if isinstance(e, MessageSent) and e.sender is Sender.CLIENT)
        out.append(Replayed(conversation_id, turns, assessments))
    return out


def fired(replayed: Replayed, config: PolicyConfig) -> list[Alert]:
    """The alerts the policy fires for one conversation (resolutions left out)."""
    policy = AlertPolicy(config)
    return [
        alert
        for a in replayed.assessments
        for alert in policy.decide(a).alerts
        if alert.status is AlertStatus.FIRING
    ]


def alerts_per_100(replayed: Sequence[Replayed], config: PolicyConfig) -> dict[str, float]:
    """Alerts per 100 client turns, by kind, and in total (`all`)."""
    turns = sum(r.client_turns for r in replayed)
    counts: Counter[str] = Counter()
    for r in replayed:
        for alert in fired(r, config):
            counts[alert.kind.value] += 1
            counts["all"] += 1
    return {k: round(100 * v / max(1, turns), 3) for k, v in sorted(counts.items())}
