"""Fire: proposals left standing change the state and become alerts, in the order proposed."""

from __future__ import annotations

from uuid import UUID

from attune_router.stages import Change, Evaluation, Proposal
from attune_schemas import Alert, AlertStatus


class Fire:
    def __call__(self, e: Evaluation) -> None:
        for p in e.proposals:
            alert = self._fire(p, e)
            if alert is not None:
                e.decision.alerts.append(alert)

    @staticmethod
    def _fire(p: Proposal, e: Evaluation) -> Alert | None:
        a = e.assessment
        if p.change in (Change.CRISIS, Change.RESOLVE):
            return p.alert
        episode = p.episode
        assert episode is not None
        if p.held_by is not None:
            if p.change is Change.OPEN:
                e.decision.inhibited.append(p.kind)
            elif p.change is Change.RAISE:
                episode.risk = max(episode.risk, p.risk)
            return None
        silence = UUID(p.silenced_by) if p.silenced_by is not None else None
        if p.change is Change.UNMUTE:
            if silence is not None:
                return None  # still silenced: nothing new to say
        elif p.change is Change.OPEN:
            e.state.open[p.kind] = episode
        else:
            # Same alert, higher severity: re-sent so escalation can raise the incident.
            episode.severity, episode.risk = p.severity, max(episode.risk, p.risk)
            episode.rupture_type = a.rupture_type
            episode.evidence = p.evidence
            episode.triggering_turn = a.triggering_turn or episode.triggering_turn
        if a.recent_turns:
            # The conversation as it stands now goes out with every firing of the episode.
            episode.recent_turns = a.recent_turns
        episode.silenced_by = silence
        return episode.alert(
            e.key, AlertStatus.FIRING, a.occurred_at, a.event_id, silenced_by=silence
        )
