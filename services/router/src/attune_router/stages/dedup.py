"""Dedup: an assessment seen before (a replay, a redelivery) changes nothing."""

from __future__ import annotations

from attune_router.stages import Evaluation


class Dedup:
    def __call__(self, e: Evaluation) -> None:
        a, state = e.assessment, e.state
        if a.event_id in state.seen:
            e.decision.duplicate = e.done = True
            return
        state.seen.append(a.event_id)
        state.last_at = max(state.last_at, a.occurred_at)
        e.event_time.observe(state.partition, a.occurred_at)
