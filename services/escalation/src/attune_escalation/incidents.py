"""Incidents: what the consumer and the clinician API call, gathered from the modules by concern.

- `lifecycle`: the state machine (statuses, outcomes, allowed moves) and lookups
- `grouping`: alerts into incidents, group wait and group interval
- `actions`: acknowledge, join, hand back, reassign, resolve
- `steps`: the escalation chain's timers and the scheduler that runs them
- `notification_queue`: what is queued for the channels
- `timeline`: the append-only audit trail and the control events, through the outbox
"""

from __future__ import annotations

from attune_escalation.actions import acknowledge, hand_back, join, reassign, resolve
from attune_escalation.grouping import AlertResult, apply_alert
from attune_escalation.lifecycle import (
    Conflict,
    NotFound,
    Outcome,
    Status,
    Verdict,
    active_incident,
    get_incident,
)
from attune_escalation.timeline import record_event

__all__ = [
    "AlertResult",
    "Conflict",
    "NotFound",
    "Outcome",
    "Status",
    "Verdict",
    "acknowledge",
    "active_incident",
    "apply_alert",
    "get_incident",
    "hand_back",
    "join",
    "reassign",
    "record_event",
    "resolve",
]
