"""Thresholds with hysteresis: fire at `fire`, resolve after `resolve_after` calm assessments.

One open episode per kind. Between `resolve` and `fire` an open episode stays open and a
closed one stays closed, so a score hovering near the threshold does not flap.
"""

from __future__ import annotations

from attune_router.config import PolicyConfig
from attune_router.config import Thresholds as Levels
from attune_router.stages import Change, Evaluation, Proposal
from attune_router.state import ConversationState, Episode
from attune_runtime.ids import derived_id
from attune_schemas import (
    SEVERITY_RANK,
    AlertKind,
    AlertStatus,
    Evidence,
    RuptureAssessment,
    RuptureType,
    Severity,
)

MAX_ASSESSMENT_IDS = 20


class Thresholds:
    def __init__(self, config: PolicyConfig) -> None:
        self.config = config

    def __call__(self, e: Evaluation) -> None:
        a = e.assessment
        if a.message_id is not None:  # rupture is judged on client messages only
            risk = self._accumulated(e.state, a.scores.rupture)
            # A minimal reply right after a misattuned AI turn fires at its own threshold.
            withdrawn = a.scores.exchange >= self.config.exchange_fire
            fires = risk >= self.config.rupture.fire or withdrawn
            self._track(
                e, AlertKind.RUPTURE, max(risk, a.scores.exchange), self.config.rupture, fires
            )
        disengagement = a.scores.disengagement
        self._track(
            e,
            AlertKind.DISENGAGEMENT,
            disengagement,
            self.config.disengagement,
            disengagement >= self.config.disengagement.fire,
        )

    def _accumulated(self, state: ConversationState, rupture: float) -> float:
        """This turn's rupture evidence, with the previous turn's when both are elevated."""
        previous, state.last_rupture = state.last_rupture, rupture
        floor = self.config.accumulate_floor
        if previous >= floor and rupture >= floor:
            return 1 - (1 - previous) * (1 - rupture)
        return rupture

    def _track(
        self, e: Evaluation, kind: AlertKind, risk: float, levels: Levels, fires: bool
    ) -> None:
        a, state = e.assessment, e.state
        episode = state.open.get(kind)
        if episode is None:
            if fires:
                opened = new_episode(a, kind, risk)
                e.proposals.append(
                    Proposal(Change.OPEN, kind, opened.severity, risk, episode=opened)
                )
            return
        episode.last_at = a.occurred_at
        if risk >= levels.resolve:
            episode.calm = 0
            if len(episode.assessment_ids) < MAX_ASSESSMENT_IDS:
                episode.assessment_ids.append(a.event_id)
            severity = severity_of(kind, a, risk)
            if SEVERITY_RANK[severity] > SEVERITY_RANK[episode.severity]:
                e.proposals.append(
                    Proposal(
                        Change.RAISE,
                        kind,
                        severity,
                        risk,
                        episode=episode,
                        evidence=evidence_for(kind, a),
                    )
                )
            else:
                episode.risk = max(episode.risk, risk)
                if episode.silenced_by is not None:  # still going: say so if the silence ended
                    e.proposals.append(
                        Proposal(Change.UNMUTE, kind, episode.severity, risk, episode=episode)
                    )
            return
        episode.calm += 1
        if episode.calm >= self.config.resolve_after:
            del state.open[kind]
            resolved = episode.alert(e.key, AlertStatus.RESOLVED, a.occurred_at, a.event_id)
            e.proposals.append(
                Proposal(Change.RESOLVE, kind, episode.severity, episode.risk, alert=resolved)
            )


def new_episode(a: RuptureAssessment, kind: AlertKind, risk: float) -> Episode:
    return Episode(
        alert_id=derived_id("alert", a.tenant_id, a.conversation_id, kind.value, a.event_id),
        kind=kind,
        severity=severity_of(kind, a, risk),
        risk=risk,
        rupture_type=(
            # Opened below the elevated score: the exchange rule, a withdrawal by definition.
            RuptureType.WITHDRAWAL
            if kind is AlertKind.RUPTURE and a.rupture_type is RuptureType.NONE
            else a.rupture_type
        ),
        opened_at=a.occurred_at,
        last_at=a.occurred_at,
        assessment_ids=[a.event_id],
        evidence=evidence_for(kind, a),
        triggering_turn=a.triggering_turn,
        model_version=a.model_version,
        recent_turns=a.recent_turns,
    )


def severity_of(kind: AlertKind, a: RuptureAssessment, risk: float) -> Severity:
    if kind is AlertKind.RUPTURE and (a.rupture_type is RuptureType.CONFRONTATION or risk >= 0.85):
        return Severity.HIGH
    return Severity.WARNING


def evidence_for(kind: AlertKind, a: RuptureAssessment) -> tuple[Evidence, ...]:
    wanted = (
        {"disengagement"} if kind is AlertKind.DISENGAGEMENT else {"withdrawal", "confrontation"}
    )
    chosen = tuple(e for e in a.evidence if e.family.value in wanted)
    return chosen or a.evidence
