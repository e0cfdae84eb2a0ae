"""The alert policy: a pipeline of stages (`attune_router.stages`) over per-conversation state.

Pure decision code: `decide` takes an assessment and returns the alerts to publish. Time is
event time, kept per (tenant, conversation): an episode and a crisis inhibition run on their own
conversation's assessments. Quiet conversations are swept on their partition's watermark
(attune_runtime.event_time), capped by the `now` the caller passes, so no assessment moves
another partition's time and none can make a conversation look quiet before its time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from attune_router.config import PolicyConfig, Thresholds, policy_config
from attune_router.stages import Evaluation, Stage, run
from attune_router.stages.crisis import Crisis
from attune_router.stages.dedup import Dedup
from attune_router.stages.fire import Fire
from attune_router.stages.inhibition import Inhibition
from attune_router.stages.silences import SilenceBook, Silences
from attune_router.stages.thresholds import Thresholds as ThresholdStage
from attune_router.state import ConversationState, Decision, Episode, Key
from attune_runtime.event_time import Partition, Watermarks
from attune_schemas import Alert, AlertKind, AlertStatus, RuptureAssessment

__all__ = [
    "AlertPolicy",
    "BatchOutcome",
    "ConversationState",
    "Decision",
    "Episode",
    "Key",
    "PolicyConfig",
    "SilenceBook",
    "Snapshot",
    "Thresholds",
    "policy_config",
    "stages_for",
]

SWEEP_EVERY = timedelta(minutes=1)


def stages_for(config: PolicyConfig, silences: SilenceBook | None = None) -> list[Stage]:
    """The pipeline every assessment goes through, in order."""
    return [
        Dedup(),
        Crisis(config),
        ThresholdStage(config),
        Inhibition(),
        Silences(silences or SilenceBook()),
        Fire(),
    ]


@dataclass
class BatchOutcome:
    """What a batch of assessments decided: alerts in order, held-back kinds, duplicates."""

    alerts: list[Alert] = field(default_factory=list)
    inhibited: list[AlertKind] = field(default_factory=list)
    duplicates: int = 0
    # Alert event id -> the assessment that decided it (a sweep's alerts have none).
    causes: dict[UUID, UUID] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    states: dict[Key, ConversationState | None]
    event_time: Watermarks
    last_sweep: dict[Partition, datetime]


class AlertPolicy:
    def __init__(
        self,
        config: PolicyConfig,
        *,
        max_conversations: int = 200_000,
        lateness: timedelta = timedelta(0),
        stages: Sequence[Stage] | None = None,
        silences: SilenceBook | None = None,
    ) -> None:
        self.config = config
        self.max_conversations = max_conversations
        self.states: OrderedDict[Key, ConversationState] = OrderedDict()
        self.event_time = Watermarks(lateness)
        self.last_sweep: dict[Partition, datetime] = {}
        self.silences = silences or SilenceBook()
        self.stages = list(stages) if stages is not None else stages_for(config, self.silences)

    def decide(self, a: RuptureAssessment, partition: int | None = None) -> Decision:
        state = self._state(a)
        if partition is not None:
            state.partition = partition
        key = (a.tenant_id, a.conversation_id)
        return run(self.stages, Evaluation(a, key, state, self.event_time))

    def decide_batch(
        self,
        assessments: Sequence[tuple[RuptureAssessment, Partition]],
        *,
        snapshot: Snapshot,
        now: datetime,
    ) -> BatchOutcome:
        """Each assessment through the stages in order, then its partition's sweep when due.

        An assessment moves its partition's stream time: the sweep (when due) runs at that
        time, never past `now` (the service clock). Conversations a sweep touches join
        `snapshot`, so a batch whose alerts go unpublished can be undone as a whole.
        """
        out = BatchOutcome()
        for assessment, partition in assessments:
            decision = self.decide(assessment, partition)
            if decision.duplicate:
                out.duplicates += 1
                continue
            out.alerts += decision.alerts
            out.causes.update((alert.event_id, assessment.event_id) for alert in decision.alerts)
            out.inhibited += decision.inhibited
            if self.sweep_due(partition, now=now):
                self.extend(snapshot, self.quiet(partition, now=now))
                out.alerts += self.sweep(partition, now=now)
        return out

    def open_alerts(self, kind: AlertKind) -> int:
        """Open episodes of `kind` across conversations (read at scrape time, not per record)."""
        return sum(kind in state.open for state in tuple(self.states.values()))

    def stream_time(self, partition: Partition, *, now: datetime) -> datetime | None:
        """How far event time has got on `partition`, never past `now` (the service's clock)."""
        return self.event_time.time(partition, now=now)

    def sweep_due(self, partition: Partition, *, now: datetime) -> bool:
        """A partition is swept once per SWEEP_EVERY of its stream time, not per message."""
        at = self.stream_time(partition, now=now)
        last = self.last_sweep.get(partition)
        return at is not None and (last is None or at - last >= SWEEP_EVERY)

    def quiet(self, partition: Partition, *, now: datetime) -> list[Key]:
        """Conversations of `partition` with no assessment for `episode_timeout`.

        A full scan: activity order is not event-time order (late events), and `sweep_due`
        keeps it to one scan per SWEEP_EVERY of the partition's stream time.
        """
        at = self.stream_time(partition, now=now)
        if at is None:
            return []
        horizon = at - self.config.episode_timeout
        return [
            key
            for key, state in self.states.items()
            if state.partition == partition and state.last_at < horizon
        ]

    def sweep(self, partition: Partition, *, now: datetime) -> list[Alert]:
        """Resolve open alerts of quiet conversations; forget them unless a crisis inhibits."""
        at = self.stream_time(partition, now=now)
        if at is None:
            return []
        out: list[Alert] = []
        for key in self.quiet(partition, now=now):
            state = self.states[key]
            if state.inhibited_until is not None and state.inhibited_until > at:
                episodes = list(state.open.values())
                state.open.clear()  # the crisis inhibition outlives the quiet spell
            else:
                episodes = list(self.states.pop(key).open.values())
            for episode in episodes:
                out.append(episode.alert(key, AlertStatus.RESOLVED, at, "timeout"))
        self.last_sweep[partition] = at
        return out

    def snapshot(self, keys: set[Key]) -> Snapshot:
        """Copies of these conversations' state, to undo decisions whose alerts went unpublished."""
        return Snapshot(
            {key: _copy(self.states.get(key)) for key in keys},
            self.event_time.copy(),
            dict(self.last_sweep),
        )

    def extend(self, snapshot: Snapshot, keys: list[Key]) -> None:
        """Add these conversations, as they stand now, to a snapshot taken earlier."""
        for key in keys:
            if key not in snapshot.states:
                snapshot.states[key] = _copy(self.states.get(key))

    def restore(self, snapshot: Snapshot) -> None:
        self.event_time, self.last_sweep = snapshot.event_time, snapshot.last_sweep
        for key, state in snapshot.states.items():
            if state is None:
                self.states.pop(key, None)
            else:
                self.states[key] = state

    def forget_partitions(self, partitions: set[int]) -> None:
        """After a rebalance, drop conversations whose partition another instance now owns."""
        for key in [k for k, s in self.states.items() if s.partition in partitions]:
            del self.states[key]
        self.event_time.forget(partitions)
        for p in partitions:
            self.last_sweep.pop(p, None)

    def _state(self, a: RuptureAssessment) -> ConversationState:
        key = (a.tenant_id, a.conversation_id)
        state = self.states.get(key)
        if state is None:
            state = ConversationState(a.tenant_id, a.occurred_at)
            self.states[key] = state
            while len(self.states) > self.max_conversations:
                self.states.popitem(last=False)
        else:
            self.states.move_to_end(key)
        return state


def _copy(state: ConversationState | None) -> ConversationState | None:
    return state.copy() if state is not None else None
