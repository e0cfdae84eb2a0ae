"""The incident's append-only timeline, and the Kafka messages staged with each entry.

Every action appends to the timeline and stages the matching `escalation.events` message (and
any `conversation.control` message) in the outbox, in the same transaction as the change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation import outbox
from attune_escalation.db import Incident, IncidentEvent
from attune_runtime.ids import derived_id
from attune_schemas import (
    ControlAction,
    ConversationControl,
    EscalationAction,
    EscalationEvent,
    Severity,
)
from attune_schemas.topics import CONVERSATION_CONTROL, ESCALATION_EVENTS


def record_event(
    session: AsyncSession,
    incident: Incident,
    action: EscalationAction,
    actor: str,
    now: datetime,
    details: dict[str, Any],
    *,
    cause: uuid.UUID | str | None = None,
) -> EscalationEvent:
    event = EscalationEvent(
        event_id=derived_id("escalation", incident.id, action.value, cause)
        if cause
        else uuid.uuid4(),
        conversation_id=incident.conversation_id,
        tenant_id=incident.tenant_id,
        occurred_at=now,
        incident_id=uuid.UUID(incident.id),
        action=action,
        severity=Severity(incident.severity),
        actor=actor,
        details=details,
    )
    session.add(
        IncidentEvent(
            event_id=str(event.event_id),
            incident_id=incident.id,
            action=action.value,
            actor=actor,
            severity=incident.severity,
            at=now,
            details=details,
        )
    )
    outbox.stage(session, topic=ESCALATION_EVENTS, event=event, now=now)
    return event


def control(
    session: AsyncSession,
    incident: Incident,
    action: ControlAction,
    now: datetime,
    *,
    reason: str,
    clinician_id: str | None,
    cause: uuid.UUID | None = None,
) -> None:
    """Stage a control event for the integrator; the outbox keeps one conversation in order."""
    message = ConversationControl(
        event_id=derived_id("control", incident.id, action.value, cause) if cause else uuid.uuid4(),
        conversation_id=incident.conversation_id,
        tenant_id=incident.tenant_id,
        occurred_at=now,
        action=action,
        incident_id=uuid.UUID(incident.id),
        reason=reason,
        clinician_id=clinician_id,
    )
    outbox.stage(session, topic=CONVERSATION_CONTROL, event=message, now=now)
