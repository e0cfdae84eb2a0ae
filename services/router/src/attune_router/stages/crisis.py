"""Crisis: every crisis assessment alerts at once; a critical one inhibits the rest for a while."""

from __future__ import annotations

from attune_router.config import PolicyConfig
from attune_router.stages import Change, Evaluation, Proposal
from attune_runtime.ids import derived_id
from attune_schemas import Alert, AlertKind, AlertStatus, RuptureAssessment, Severity


class Crisis:
    def __init__(self, config: PolicyConfig) -> None:
        self.config = config

    def __call__(self, e: Evaluation) -> None:
        a = e.assessment
        if not a.crisis:
            return
        alert = self.alert(a)
        e.proposals.append(
            Proposal(Change.CRISIS, AlertKind.CRISIS, alert.severity, alert.risk, alert=alert)
        )
        if alert.severity is Severity.CRITICAL:
            e.state.inhibited_until = a.occurred_at + self.config.crisis_inhibits

    def alert(self, a: RuptureAssessment) -> Alert:
        # Every crisis assessment alerts: crisis is never deduplicated into silence or throttled.
        return Alert(
            event_id=derived_id(
                "alert-event", a.event_id, AlertKind.CRISIS.value, AlertStatus.FIRING.value
            ),
            conversation_id=a.conversation_id,
            tenant_id=a.tenant_id,
            occurred_at=a.occurred_at,
            alert_id=derived_id(
                "alert", a.tenant_id, a.conversation_id, AlertKind.CRISIS.value, a.event_id
            ),
            status=AlertStatus.FIRING,
            kind=AlertKind.CRISIS,
            severity=(
                Severity.CRITICAL
                if rule_backed(a) or a.scores.crisis >= self.config.crisis_critical
                else Severity.HIGH
            ),
            risk=a.scores.crisis,  # the scorers put explicit crisis language at 0.97
            rupture_type=a.rupture_type,
            crisis_categories=a.crisis_categories,
            assessment_ids=(a.event_id,),
            evidence=tuple(e for e in a.evidence if e.family.value == "crisis") or a.evidence,
            triggering_turn=a.triggering_turn,
            model_version=a.model_version,
            recent_turns=a.recent_turns,
        )


def rule_backed(a: RuptureAssessment) -> bool:
    """Explicit crisis language; before `crisis_source` existed, only rules named categories."""
    if a.crisis_source is not None:
        return a.crisis_source == "rule"
    return bool(a.crisis_categories)
