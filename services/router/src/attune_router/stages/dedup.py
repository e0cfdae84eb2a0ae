"""Dedup: an assessment seen before (a replay, a redelivery) changes nothing."""

from __future__ import annotations

from attune_router.stages import Evaluation


class Dedup:
    def __call__(self, e: Evaluation) -> None:
        a, state = e.assessment, e.state
        seen = a.event_id.int  # ints compare in C; UUID equality is Python code
        if seen in state.seen:
            e.decision.duplicate = e.done = True
            return
        state.seen.append(seen)
        state.last_at = max(state.last_at, a.occurred_at)
        e.event_time.observe(state.partition, a.occurred_at)
