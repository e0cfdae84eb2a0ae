"""Append-only audit trail of what happened to each incident (topic `escalation.events`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field, JsonValue

from attune_schemas.alert import Severity
from attune_schemas.common import EventEnvelope


class EscalationAction(StrEnum):
    OPENED = "opened"
    ALERT_GROUPED = "alert_grouped"
    SEVERITY_RAISED = "severity_raised"
    NOTIFIED = "notified"
    NOTIFICATION_FAILED = "notification_failed"
    ACKNOWLEDGED = "acknowledged"
    JOINED = "joined"
    HANDED_BACK = "handed_back"  # the clinician gave the conversation back to the AI
    RESOLVED = "resolved"
    ESCALATED = "escalated"  # a tier of the escalation chain was paged
    RENOTIFIED = "renotified"  # acknowledged but unresolved: reminded
    REASSIGNED = "reassigned"
    CHAIN_EXHAUSTED = "chain_exhausted"  # every tier, every repeat paged; nobody acknowledged
    SILENCED = "silenced"  # an alert a silence muted: recorded, nobody paged


class EscalationEvent(EventEnvelope):
    type: Literal["escalation_event"] = "escalation_event"
    incident_id: UUID
    action: EscalationAction
    severity: Severity
    actor: str = Field(description="'system' or the clinician id; never conversation text.")
    details: dict[str, JsonValue] = Field(default_factory=dict)
