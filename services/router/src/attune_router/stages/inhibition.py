"""Inhibition: after a critical crisis, the conversation's rupture and disengagement alerts are
held back for `crisis_inhibits` (the clinician is already coming; more pages are noise).

A held-back opening does not open an episode, so it fires once the inhibition ends if the
evidence is still there.
"""

from __future__ import annotations

from attune_router.stages import Evaluation, Muter, Proposal

CRISIS_INHIBITION = "crisis_inhibition"


class CrisisInhibitor:
    """The `Muter` of inhibition: a critical crisis of the same conversation, still in force."""

    def mutes(self, p: Proposal, e: Evaluation) -> str | None:
        until = e.state.inhibited_until
        if p.mutable and until is not None and e.assessment.occurred_at < until:
            return CRISIS_INHIBITION
        return None


class Inhibition:
    def __init__(self, muter: Muter | None = None) -> None:
        self.muter = muter or CrisisInhibitor()

    def __call__(self, e: Evaluation) -> None:
        for p in e.proposals:
            if p.mutable and p.held_by is None:
                p.held_by = self.muter.mutes(p, e)
