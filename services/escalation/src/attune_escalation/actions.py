"""What clinicians do to an incident: acknowledge, join, hand back, reassign, resolve. One
transaction each.

Acknowledging stops the chain (no further tiers are paged) and starts the reminders;
resolving clears every timer and tells the channels that were paged, so a pager incident
closes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation import feedback, steps
from attune_escalation.db import Incident
from attune_escalation.lifecycle import Conflict, Outcome, Status, get_incident, move, status_of
from attune_escalation.notification_queue import enqueue, paged_channels
from attune_escalation.routing import Routing
from attune_escalation.timeline import control, record_event
from attune_schemas import ControlAction, EscalationAction


async def acknowledge(
    session: AsyncSession,
    *,
    incident_id: str,
    clinician_id: str,
    now: datetime,
    routing: Routing,
) -> Incident:
    incident = await get_incident(session, incident_id)
    if incident.acknowledged_at is None:
        await _acknowledge(session, incident, clinician_id, now, routing)
    elif status_of(incident) is Status.RESOLVED:
        raise Conflict("incident is already resolved")
    return incident


async def _acknowledge(
    session: AsyncSession, incident: Incident, clinician_id: str, now: datetime, routing: Routing
) -> None:
    move(incident, Status.ACKNOWLEDGED)
    incident.acknowledged_at, incident.acknowledged_by = now, clinician_id
    incident.assignees = [clinician_id]
    incident.updated_at = now
    record_event(session, incident, EscalationAction.ACKNOWLEDGED, clinician_id, now, {})
    await steps.remind_after_ack(session, incident, now=now, routing=routing)


async def join(
    session: AsyncSession,
    *,
    incident_id: str,
    clinician_id: str,
    now: datetime,
    routing: Routing,
) -> Incident:
    """The clinician joins the conversation: the AI pauses and the integrator is told who comes."""
    incident = await get_incident(session, incident_id)
    if status_of(incident) is Status.RESOLVED:
        raise Conflict("incident is already resolved")
    if incident.joined_at is not None:
        return incident
    if incident.acknowledged_at is None:
        await _acknowledge(session, incident, clinician_id, now, routing)
    move(incident, Status.JOINED)
    incident.joined_at, incident.joined_by = now, clinician_id
    incident.assignees = [clinician_id]
    incident.updated_at = now
    if not incident.ai_paused:
        control(
            session,
            incident,
            ControlAction.PAUSE_AI,
            now,
            reason="clinician_joining",
            clinician_id=clinician_id,
        )
        incident.ai_paused = True
    control(
        session,
        incident,
        ControlAction.CLINICIAN_JOINING,
        now,
        reason="clinician_joining",
        clinician_id=clinician_id,
    )
    record_event(session, incident, EscalationAction.JOINED, clinician_id, now, {})
    return incident


async def hand_back(
    session: AsyncSession,
    *,
    incident_id: str,
    clinician_id: str,
    now: datetime,
    routing: Routing,
) -> Incident:
    """The clinician gives the conversation back to the AI: it resumes, the incident stays open
    (acknowledged by this clinician, reminders running) until it is resolved."""
    incident = await get_incident(session, incident_id)
    status = status_of(incident)
    if status is Status.RESOLVED:
        raise Conflict("incident is already resolved")
    if status is not Status.JOINED and not incident.ai_paused:
        return incident  # nothing to hand back: the AI is already talking
    if incident.acknowledged_at is None:
        await _acknowledge(session, incident, clinician_id, now, routing)
    if status is Status.JOINED:
        move(incident, Status.ACKNOWLEDGED)
    incident.joined_at = incident.joined_by = None
    incident.updated_at = now
    if incident.ai_paused:
        control(
            session,
            incident,
            ControlAction.RESUME_AI,
            now,
            reason="handed_back",
            clinician_id=clinician_id,
        )
        incident.ai_paused = False
    record_event(session, incident, EscalationAction.HANDED_BACK, clinician_id, now, {})
    return incident


async def reassign(
    session: AsyncSession,
    *,
    incident_id: str,
    clinician_id: str,
    to: str,
    now: datetime,
    routing: Routing,
) -> Incident:
    """Hand the incident to `to`: paged now; unacknowledged after the first tier's deadline,
    the chain resumes at its second tier."""
    incident = await get_incident(session, incident_id)
    move(incident, Status.OPEN)
    incident.acknowledged_at = incident.acknowledged_by = None
    incident.assignees = [to]
    incident.updated_at = now
    event = record_event(
        session, incident, EscalationAction.REASSIGNED, clinician_id, now, {"to": to}
    )
    await enqueue(
        session,
        incident,
        reason="reassigned",
        key=f"reassign:{event.event_id}",
        now=now,
        routing=routing,
        recipients=[to],
    )
    chain = routing.chain_of(incident)
    await steps.set_timer(
        session,
        incident,
        purpose=steps.Purpose.ESCALATION,
        action=steps.Action.PAGE,
        due=now + timedelta(seconds=chain.tiers[0].ack_deadline_seconds),
        tier=min(1, len(chain.tiers) - 1),
    )
    return incident


async def resolve(
    session: AsyncSession,
    *,
    incident_id: str,
    clinician_id: str,
    outcome: Outcome,
    note: str | None,
    now: datetime,
    routing: Routing,
    verdicts: Sequence[feedback.Given] = (),
) -> Incident:
    incident = await get_incident(session, incident_id)
    if status_of(incident) is Status.RESOLVED:
        if incident.outcome == outcome.value:
            return incident
        raise Conflict(f"incident was already resolved as {incident.outcome}")
    given = await feedback.record(session, incident, verdicts, clinician_id=clinician_id, now=now)
    move(incident, Status.RESOLVED)
    incident.resolved_at, incident.resolved_by = now, clinician_id
    incident.outcome, incident.resolution_note = outcome.value, note
    incident.updated_at = now
    await steps.clear_timers(session, incident)
    if incident.ai_paused:
        control(
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
        {"outcome": outcome.value, "has_note": bool(note)} | ({"verdicts": given} if given else {}),
    )
    await enqueue(
        session,
        incident,
        reason="resolved",
        key="resolved",
        now=now,
        routing=routing,
        recipients=list(incident.assignees or []),
        extra={"outcome": outcome.value},
        channels=await paged_channels(session, incident),
    )
    return incident
