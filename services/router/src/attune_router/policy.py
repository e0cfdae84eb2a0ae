"""The alert policy: thresholds with hysteresis, one open alert per kind, crisis never held back.

Pure decision code: `decide` takes an assessment and returns the alerts to publish; time is the
event time of the assessments (stream time), so timelines are tested without clocks or sleeps.
"""

from __future__ import annotations

import copy
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from attune_router.settings import RouterSettings
from attune_runtime.ids import derived_id
from attune_schemas import (
    SEVERITY_RANK,
    Alert,
    AlertKind,
    AlertStatus,
    Evidence,
    RuptureAssessment,
    RuptureType,
    Severity,
    TriggeringTurn,
)

MAX_ASSESSMENT_IDS = 20
SWEEP_EVERY = timedelta(minutes=1)
SEEN_KEEP = 128


@dataclass(frozen=True)
class Thresholds:
    fire: float
    resolve: float


@dataclass(frozen=True)
class PolicyConfig:
    """The policy's numbers; built from `RouterSettings` only (`policy_config`)."""

    rupture: Thresholds
    disengagement: Thresholds
    resolve_after: int
    episode_timeout: timedelta
    crisis_inhibits: timedelta
    # Explicit crisis language, or the model at least this sure, is critical: the AI pauses.
    # Below it, a model-only suspicion is a high-severity alert for a person to review.
    crisis_critical: float
    # Accumulated evidence: two client turns in a row, each at least this elevated, count
    # together (noisy-OR) against the rupture threshold. One "fine" after a misattuned turn is
    # common in ordinary chat; "fine", then "whatever", is the withdrawal the product exists for.
    accumulate_floor: float


def policy_config(settings: RouterSettings | None = None) -> PolicyConfig:
    """The alert policy as the router's settings (environment, defaults) define it."""
    s = settings or RouterSettings()
    return PolicyConfig(
        rupture=Thresholds(s.rupture_fire, s.rupture_resolve),
        disengagement=Thresholds(s.disengagement_fire, s.disengagement_resolve),
        resolve_after=s.resolve_after,
        episode_timeout=timedelta(seconds=s.episode_timeout_seconds),
        crisis_inhibits=timedelta(seconds=s.crisis_inhibits_seconds),
        crisis_critical=s.crisis_critical,
        accumulate_floor=s.rupture_accumulate_floor,
    )


@dataclass
class Episode:
    """One open alert: it fired once and stays open until calm returns."""

    alert_id: UUID
    kind: AlertKind
    severity: Severity
    risk: float
    rupture_type: RuptureType
    opened_at: datetime
    last_at: datetime
    assessment_ids: list[UUID]
    evidence: tuple[Evidence, ...]
    triggering_turn: TriggeringTurn | None
    model_version: str
    calm: int = 0


@dataclass
class ConversationState:
    tenant_id: str
    last_at: datetime
    partition: int | None = None
    open: dict[AlertKind, Episode] = field(default_factory=dict)
    inhibited_until: datetime | None = None
    seen: deque[UUID] = field(default_factory=lambda: deque(maxlen=SEEN_KEEP))
    last_rupture: float = 0.0  # the previous client turn's rupture score


@dataclass(frozen=True)
class Snapshot:
    states: dict[str, ConversationState | None]
    watermark: datetime | None
    last_sweep: datetime | None


@dataclass
class Decision:
    alerts: list[Alert] = field(default_factory=list)
    inhibited: list[AlertKind] = field(default_factory=list)
    duplicate: bool = False


class AlertPolicy:
    def __init__(self, config: PolicyConfig, *, max_conversations: int = 200_000) -> None:
        self.config = config
        self.max_conversations = max_conversations
        self.states: OrderedDict[str, ConversationState] = OrderedDict()
        self.watermark: datetime | None = None
        self.last_sweep: datetime | None = None

    def decide(self, a: RuptureAssessment, partition: int | None = None) -> Decision:
        state = self._state(a)
        if partition is not None:
            state.partition = partition
        decision = Decision()
        if a.event_id in state.seen:
            decision.duplicate = True
            return decision
        state.seen.append(a.event_id)
        state.last_at = max(state.last_at, a.occurred_at)
        if self.watermark is None or a.occurred_at > self.watermark:
            self.watermark = a.occurred_at

        if a.crisis:
            crisis_alert = self._crisis_alert(a)
            decision.alerts.append(crisis_alert)
            if crisis_alert.severity is Severity.CRITICAL:
                state.inhibited_until = a.occurred_at + self.config.crisis_inhibits
        inhibited = state.inhibited_until is not None and a.occurred_at < state.inhibited_until

        if a.message_id is not None:  # rupture is judged on client messages only
            self._track(
                state,
                a,
                AlertKind.RUPTURE,
                self._accumulated(state, a.scores.rupture),
                self.config.rupture,
                inhibited,
                decision,
            )
        self._track(
            state,
            a,
            AlertKind.DISENGAGEMENT,
            a.scores.disengagement,
            self.config.disengagement,
            inhibited,
            decision,
        )
        return decision

    def _accumulated(self, state: ConversationState, rupture: float) -> float:
        """This turn's rupture evidence, with the previous turn's when both are elevated."""
        previous, state.last_rupture = state.last_rupture, rupture
        floor = self.config.accumulate_floor
        if previous >= floor and rupture >= floor:
            return 1 - (1 - previous) * (1 - rupture)
        return rupture

    def sweep_due(self, now: datetime | None = None) -> bool:
        """Quiet conversations are swept once per SWEEP_EVERY of stream time, not per message."""
        now = now or self.watermark
        return now is not None and (self.last_sweep is None or now - self.last_sweep >= SWEEP_EVERY)

    def quiet(self, now: datetime | None = None) -> list[str]:
        """Conversations with no assessment for `episode_timeout`.

        A full scan: partitions are consumed side by side, so activity order is not event-time
        order. `sweep_due` keeps it to one scan per SWEEP_EVERY of stream time.
        """
        now = now or self.watermark
        if now is None:
            return []
        horizon = now - self.config.episode_timeout
        return [cid for cid, state in self.states.items() if state.last_at < horizon]

    def sweep(self, now: datetime | None = None) -> list[Alert]:
        """Resolve open alerts of quiet conversations; forget them unless a crisis inhibits."""
        at = now or self.watermark
        if at is None:
            return []
        out: list[Alert] = []
        for cid in self.quiet(at):
            state = self.states[cid]
            if state.inhibited_until is not None and state.inhibited_until > at:
                episodes = list(state.open.values())
                state.open.clear()  # the crisis inhibition outlives the quiet spell
            else:
                episodes = list(self.states.pop(cid).open.values())
            for episode in episodes:
                out.append(
                    self._alert(cid, state.tenant_id, episode, AlertStatus.RESOLVED, at, "timeout")
                )
        self.last_sweep = at
        return out

    def snapshot(self, conversation_ids: set[str]) -> Snapshot:
        """Copies of these conversations' state, to undo decisions whose alerts went unpublished."""
        return Snapshot(
            {cid: copy.deepcopy(self.states.get(cid)) for cid in conversation_ids},
            self.watermark,
            self.last_sweep,
        )

    def restore(self, snapshot: Snapshot) -> None:
        self.watermark, self.last_sweep = snapshot.watermark, snapshot.last_sweep
        for cid, state in snapshot.states.items():
            if state is None:
                self.states.pop(cid, None)
            else:
                self.states[cid] = state

    def forget_partitions(self, partitions: set[int]) -> None:
        """After a rebalance, drop conversations whose partition another instance now owns."""
        for cid in [c for c, s in self.states.items() if s.partition in partitions]:
            del self.states[cid]

    def _state(self, a: RuptureAssessment) -> ConversationState:
        state = self.states.get(a.conversation_id)
        if state is None:
            state = ConversationState(a.tenant_id, a.occurred_at)
            self.states[a.conversation_id] = state
            while len(self.states) > self.max_conversations:
                self.states.popitem(last=False)
        else:
            self.states.move_to_end(a.conversation_id)
        return state

    def _track(
        self,
        state: ConversationState,
        a: RuptureAssessment,
        kind: AlertKind,
        risk: float,
        t: Thresholds,
        inhibited: bool,
        decision: Decision,
    ) -> None:
        episode = state.open.get(kind)
        if episode is None:
            if risk < t.fire:
                return
            if inhibited:
                decision.inhibited.append(kind)
                return
            episode = Episode(
                alert_id=derived_id("alert", a.conversation_id, kind.value, a.event_id),
                kind=kind,
                severity=_severity(kind, a, risk),
                risk=risk,
                rupture_type=a.rupture_type,
                opened_at=a.occurred_at,
                last_at=a.occurred_at,
                assessment_ids=[a.event_id],
                evidence=_evidence_for(kind, a),
                triggering_turn=a.triggering_turn,
                model_version=a.model_version,
            )
            state.open[kind] = episode
            decision.alerts.append(
                self._alert(
                    a.conversation_id,
                    a.tenant_id,
                    episode,
                    AlertStatus.FIRING,
                    a.occurred_at,
                    a.event_id,
                )
            )
            return
        episode.last_at = a.occurred_at
        if risk >= t.resolve:
            episode.calm = 0
            if len(episode.assessment_ids) < MAX_ASSESSMENT_IDS:
                episode.assessment_ids.append(a.event_id)
            severity = _severity(kind, a, risk)
            if SEVERITY_RANK[severity] > SEVERITY_RANK[episode.severity] and not inhibited:
                # Same alert, higher severity: re-sent so escalation can raise the incident.
                episode.severity, episode.risk = severity, max(episode.risk, risk)
                episode.rupture_type = a.rupture_type
                episode.evidence = _evidence_for(kind, a)
                episode.triggering_turn = a.triggering_turn or episode.triggering_turn
                decision.alerts.append(
                    self._alert(
                        a.conversation_id,
                        a.tenant_id,
                        episode,
                        AlertStatus.FIRING,
                        a.occurred_at,
                        a.event_id,
                    )
                )
            else:
                episode.risk = max(episode.risk, risk)
            return
        episode.calm += 1
        if episode.calm >= self.config.resolve_after:
            del state.open[kind]
            decision.alerts.append(
                self._alert(
                    a.conversation_id,
                    a.tenant_id,
                    episode,
                    AlertStatus.RESOLVED,
                    a.occurred_at,
                    a.event_id,
                )
            )

    def _crisis_alert(self, a: RuptureAssessment) -> Alert:
        # Every crisis assessment alerts: crisis is never deduplicated into silence or throttled.
        return Alert(
            event_id=derived_id(
                "alert-event", a.event_id, AlertKind.CRISIS.value, AlertStatus.FIRING.value
            ),
            conversation_id=a.conversation_id,
            tenant_id=a.tenant_id,
            occurred_at=a.occurred_at,
            alert_id=derived_id("alert", a.conversation_id, AlertKind.CRISIS.value, a.event_id),
            status=AlertStatus.FIRING,
            kind=AlertKind.CRISIS,
            severity=(
                Severity.CRITICAL
                if _rule_backed(a) or a.scores.crisis >= self.config.crisis_critical
                else Severity.HIGH
            ),
            risk=a.scores.crisis,  # the scorers put explicit crisis language at 0.97
            rupture_type=a.rupture_type,
            crisis_categories=a.crisis_categories,
            assessment_ids=(a.event_id,),
            evidence=tuple(e for e in a.evidence if e.family.value == "crisis") or a.evidence,
            triggering_turn=a.triggering_turn,
            model_version=a.model_version,
        )

    @staticmethod
    def _alert(
        conversation_id: str,
        tenant_id: str,
        e: Episode,
        status: AlertStatus,
        at: datetime,
        cause: object,
    ) -> Alert:
        return Alert(
            event_id=derived_id("alert-event", e.alert_id, status.value, cause),
            conversation_id=conversation_id,
            tenant_id=tenant_id,
            occurred_at=at,
            alert_id=e.alert_id,
            status=status,
            kind=e.kind,
            severity=e.severity,
            risk=round(e.risk, 4),
            rupture_type=e.rupture_type,
            assessment_ids=tuple(e.assessment_ids),
            evidence=e.evidence,
            triggering_turn=e.triggering_turn,
            model_version=e.model_version,
        )


def _rule_backed(a: RuptureAssessment) -> bool:
    """Explicit crisis language; before `crisis_source` existed, only rules named categories."""
    if a.crisis_source is not None:
        return a.crisis_source == "rule"
    return bool(a.crisis_categories)


def _severity(kind: AlertKind, a: RuptureAssessment, risk: float) -> Severity:
    if kind is AlertKind.RUPTURE and (a.rupture_type is RuptureType.CONFRONTATION or risk >= 0.85):
        return Severity.HIGH
    return Severity.WARNING


def _evidence_for(kind: AlertKind, a: RuptureAssessment) -> tuple[Evidence, ...]:
    wanted = (
        {"disengagement"} if kind is AlertKind.DISENGAGEMENT else {"withdrawal", "confrontation"}
    )
    chosen = tuple(e for e in a.evidence if e.family.value in wanted)
    return chosen or a.evidence
