"""Incidents: open on an alert, group later alerts, acknowledge, join, resolve.

Each operation is one transaction.

Every action appends to the incident's timeline and stages the matching `escalation.events`
message (and any `conversation.control` message) in the outbox, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation import outbox
from attune_escalation.db import Incident, IncidentAlert, IncidentEvent, Notification
from attune_escalation.notify import notification_key
from attune_runtime.ids import derived_id
from attune_schemas import (
    SEVERITY_RANK,
    Alert,
    AlertKind,
    AlertStatus,
    ControlAction,
    ConversationControl,
    EscalationAction,
    EscalationEvent,
    Severity,
)
from attune_schemas.topics import CONVERSATION_CONTROL, ESCALATION_EVENTS


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    JOINED = "joined"
    RESOLVED = "resolved"


class Outcome(StrEnum):
    """How the clinician closed the incident."""

    REPAIRED = "repaired"
    CLIENT_SAFE = "client_safe"
    REFERRED = "referred"
    EMERGENCY_SERVICES = "emergency_services"
    NO_RESPONSE = "no_response"
    FALSE_ALARM = "false_alarm"


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


@dataclass
class AlertResult:
    incident_id: str | None
    duplicate: bool = False
    opened: bool = False
    notifications: list[str] = field(default_factory=list)
    controls: list[ControlAction] = field(default_factory=list)


async def active_incident(
    session: AsyncSession, *, tenant_id: str, conversation_id: str
) -> Incident | None:
    found: Incident | None = await session.scalar(
        select(Incident).where(
            Incident.tenant_id == tenant_id,
            Incident.conversation_id == conversation_id,
            Incident.status != Status.RESOLVED.value,
        )
    )
    return found


async def get_incident(session: AsyncSession, incident_id: str) -> Incident:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(incident_id)
    return incident


async def apply_alert(
    session: AsyncSession,
    *,
    alert: Alert,
    now: datetime,
    channels: Sequence[str],
    public_url: str,
) -> AlertResult:
    """Idempotent on alert.event_id: a redelivered alert changes nothing."""
    if await session.get(IncidentAlert, str(alert.event_id)) is not None:
        return AlertResult(incident_id=None, duplicate=True)
    incident = await active_incident(
        session, tenant_id=alert.tenant_id, conversation_id=alert.conversation_id
    )
    if alert.status is AlertStatus.RESOLVED:
        if incident is None:
            return AlertResult(incident_id=None)
        _attach(session, incident, alert, now)
        record_event(
            session,
            incident,
            EscalationAction.ALERT_GROUPED,
            "system",
            now,
            _alert_details(alert),
            cause=alert.event_id,
        )
        return AlertResult(incident_id=incident.id)

    result = AlertResult(incident_id=None)
    if incident is None:
        incident = Incident(
            id=str(derived_id("incident", alert.tenant_id, alert.event_id)),
            tenant_id=alert.tenant_id,
            conversation_id=alert.conversation_id,
            status=Status.OPEN.value,
            severity=alert.severity.value,
            kinds=[alert.kind.value],
            risk=alert.risk,
            ai_paused=False,
            opened_at=now,
            updated_at=now,
        )
        session.add(incident)
        await session.flush()
        result.opened = True
        _attach(session, incident, alert, now)
        record_event(
            session,
            incident,
            EscalationAction.OPENED,
            "system",
            now,
            _alert_details(alert),
            cause=alert.event_id,
        )
        result.notifications += _notify(
            session, incident, alert, "opened", now, channels, public_url
        )
    else:
        _attach(session, incident, alert, now)
        new_kind = alert.kind.value not in incident.kinds
        incident.kinds = sorted({*incident.kinds, alert.kind.value})
        incident.risk = max(incident.risk, alert.risk)
        record_event(
            session,
            incident,
            EscalationAction.ALERT_GROUPED,
            "system",
            now,
            _alert_details(alert),
            cause=alert.event_id,
        )
        if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[Severity(incident.severity)]:
            previous = incident.severity
            incident.severity = alert.severity.value
            record_event(
                session,
                incident,
                EscalationAction.SEVERITY_RAISED,
                "system",
                now,
                {"from": previous, "to": alert.severity.value, "alert_id": str(alert.alert_id)},
                cause=alert.event_id,
            )
            result.notifications += _notify(
                session,
                incident,
                alert,
                f"severity:{alert.severity.value}",
                now,
                channels,
                public_url,
            )
        elif alert.kind is AlertKind.CRISIS:
            # New crisis evidence always reaches a person, whatever the incident's state.
            result.notifications += _notify(
                session, incident, alert, f"crisis:{alert.alert_id}", now, channels, public_url
            )
        elif new_kind:
            # A different signal (a rupture on top of disengagement, say) is news to the clinician.
            result.notifications += _notify(
                session, incident, alert, f"added:{alert.kind.value}", now, channels, public_url
            )
    # Only a critical crisis pauses the AI; a possible crisis (model only) asks for a review.
    if (
        alert.kind is AlertKind.CRISIS
        and alert.severity is Severity.CRITICAL
        and not incident.ai_paused
    ):
        _control(
            session,
            incident,
            ControlAction.PAUSE_AI,
            now,
            reason="crisis_language",
            clinician_id=None,
            cause=alert.event_id,
        )
        incident.ai_paused = True
        result.controls.append(ControlAction.PAUSE_AI)
    incident.updated_at = now
    result.incident_id = incident.id
    return result


async def acknowledge(
    session: AsyncSession, *, incident_id: str, clinician_id: str, now: datetime
) -> Incident:
    incident = await get_incident(session, incident_id)
    if incident.status == Status.RESOLVED:
        raise Conflict("incident is already resolved")
    if incident.acknowledged_at is None:
        incident.acknowledged_at, incident.acknowledged_by = now, clinician_id
        if incident.status == Status.OPEN:
            incident.status = Status.ACKNOWLEDGED.value
        incident.updated_at = now
        record_event(session, incident, EscalationAction.ACKNOWLEDGED, clinician_id, now, {})
    return incident


async def join(
    session: AsyncSession, *, incident_id: str, clinician_id: str, now: datetime
) -> Incident:
    """The clinician joins the conversation: the AI pauses and the integrator is told who comes."""
    incident = await get_incident(session, incident_id)
    if incident.status == Status.RESOLVED:
        raise Conflict("incident is already resolved")
    if incident.joined_at is not None:
        return incident
    if incident.acknowledged_at is None:
        incident.acknowledged_at, incident.acknowledged_by = now, clinician_id
        record_event(session, incident, EscalationAction.ACKNOWLEDGED, clinician_id, now, {})
    incident.joined_at, incident.joined_by = now, clinician_id
    incident.status = Status.JOINED.value
    incident.updated_at = now
    if not incident.ai_paused:
        _control(
            session,
            incident,
            ControlAction.PAUSE_AI,
            now,
            reason="clinician_joining",
            clinician_id=clinician_id,
        )
        incident.ai_paused = True
    _control(
        session,
        incident,
        ControlAction.CLINICIAN_JOINING,
        now,
        reason="clinician_joining",
        clinician_id=clinician_id,
    )
    record_event(session, incident, EscalationAction.JOINED, clinician_id, now, {})
    return incident


async def resolve(
    session: AsyncSession,
    *,
    incident_id: str,
    clinician_id: str,
    outcome: Outcome,
    note: str | None,
    now: datetime,
) -> Incident:
    incident = await get_incident(session, incident_id)
    if incident.status == Status.RESOLVED:
        if incident.outcome == outcome.value:
            return incident
        raise Conflict(f"incident was already resolved as {incident.outcome}")
    incident.status = Status.RESOLVED.value
    incident.resolved_at, incident.resolved_by = now, clinician_id
    incident.outcome, incident.resolution_note = outcome.value, note
    incident.updated_at = now
    if incident.ai_paused:
        _control(
            session,
            incident,
            ControlAction.RESUME_AI,
            now,
            reason=f"resolved:{outcome.value}",
            clinician_id=clinician_id,
        )
        incident.ai_paused = False
    # The note is clinical free text: it stays in the database, not in the audit stream.
    record_event(
        session,
        incident,
        EscalationAction.RESOLVED,
        clinician_id,
        now,
        {"outcome": outcome.value, "has_note": bool(note)},
    )
    return incident


def _attach(session: AsyncSession, incident: Incident, alert: Alert, now: datetime) -> None:
    session.add(
        IncidentAlert(
            alert_event_id=str(alert.event_id),
            alert_id=str(alert.alert_id),
            incident_id=incident.id,
            kind=alert.kind.value,
            status=alert.status.value,
            severity=alert.severity.value,
            risk=alert.risk,
            occurred_at=alert.occurred_at,
            received_at=now,
            body=alert.model_dump(mode="json"),
        )
    )


def _alert_details(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": str(alert.alert_id),
        "alert_status": alert.status.value,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "risk": alert.risk,
        "rupture_type": alert.rupture_type.value,
        "crisis_categories": [c.value for c in alert.crisis_categories],
        "markers": sorted({e.marker for e in alert.evidence}),
    }


def record_event(
    session: AsyncSession,
    incident: Incident,
    action: EscalationAction,
    actor: str,
    now: datetime,
    details: dict[str, Any],
    *,
    cause: uuid.UUID | None = None,
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


def _control(
    session: AsyncSession,
    incident: Incident,
    action: ControlAction,
    now: datetime,
    *,
    reason: str,
    clinician_id: str | None,
    cause: uuid.UUID | None = None,
) -> None:
    control = ConversationControl(
        event_id=derived_id("control", incident.id, action.value, cause) if cause else uuid.uuid4(),
        conversation_id=incident.conversation_id,
        tenant_id=incident.tenant_id,
        occurred_at=now,
        action=action,
        incident_id=uuid.UUID(incident.id),
        reason=reason,
        clinician_id=clinician_id,
    )
    outbox.stage(session, topic=CONVERSATION_CONTROL, event=control, now=now)


def _notify(
    session: AsyncSession,
    incident: Incident,
    alert: Alert,
    reason: str,
    now: datetime,
    channels: Sequence[str],
    public_url: str,
) -> list[str]:
    """Queue one notification per channel. Ids, labels and a link; never conversation text."""
    payload = {
        "incident_id": incident.id,
        "tenant_id": incident.tenant_id,
        "conversation_id": incident.conversation_id,
        "reason": reason.split(":")[0],
        "severity": incident.severity,
        "kinds": list(incident.kinds),
        "alert_kind": alert.kind.value,
        "risk": alert.risk,
        "rupture_type": alert.rupture_type.value,
        "crisis_categories": [c.value for c in alert.crisis_categories],
        "markers": sorted({e.marker for e in alert.evidence}),
        "opened_at": incident.opened_at.isoformat(),
        "url": f"{public_url.rstrip('/')}/v1/incidents/{incident.id}",
    }
    queued = []
    for channel in channels:
        session.add(
            Notification(
                id=notification_key(incident_id=incident.id, channel=channel, reason=reason),
                incident_id=incident.id,
                channel=channel,
                dedup_key=f"{incident.id}:{channel}:{reason}",
                payload=payload,
                status="pending",
                next_attempt_at=now,
                created_at=now,
            )
        )
        queued.append(channel)
    return queued
