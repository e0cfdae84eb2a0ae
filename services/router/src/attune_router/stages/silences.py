"""Silences: a rupture or disengagement alert that a silence in force matches goes out marked
with the silence's id (escalation records it and pages nobody); it is never dropped.

The silences themselves are created through the escalation service's API and reach every
router on the compacted `silences` topic (`silence_feed`). A crisis is never muted: the API
refuses a silence that could match one, and this stage ignores crisis and critical proposals
whatever silence it is given.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from attune_router.stages import Evaluation, Muter, Proposal
from attune_schemas import AlertKind, Severity, Silence


class SilenceBook:
    """The `Muter` of silences: every silence by id, its newest version only."""

    def __init__(self) -> None:
        self.silences: dict[UUID, Silence] = {}

    def put(self, silence: Silence) -> None:
        known = self.silences.get(silence.silence_id)
        # Versions only ever bring the end forward (expiry); a redelivered older one is ignored.
        if known is None or silence.ends_at <= known.ends_at:
            self.silences[silence.silence_id] = silence

    def active(self, at: datetime) -> list[Silence]:
        return [s for s in self.silences.values() if s.in_force(at)]

    def mutes(self, p: Proposal, e: Evaluation) -> str | None:
        if not p.mutable or p.kind is AlertKind.CRISIS or p.severity is Severity.CRITICAL:
            return None
        tenant_id, conversation_id = e.key
        at = e.assessment.occurred_at
        for silence in sorted(self.silences.values(), key=lambda s: str(s.silence_id)):
            if silence.in_force(at) and silence.matches(
                tenant_id=tenant_id,
                conversation_id=conversation_id,
                kind=p.kind,
                severity=p.severity,
            ):
                return str(silence.silence_id)
        return None


class Silences:
    def __init__(self, muter: Muter) -> None:
        self.muter = muter

    def __call__(self, e: Evaluation) -> None:
        for p in e.proposals:
            if p.mutable and p.held_by is None:
                p.silenced_by = self.muter.mutes(p, e)
