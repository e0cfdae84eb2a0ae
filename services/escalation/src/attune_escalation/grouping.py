"""Alerts into incidents: the first opens one, later ones for the conversation group into it.

A new incident's first page waits `group_wait` so it carries what arrives with it (a possible
crisis for review, the rupture, then the disengagement seconds later: one page); a crisis
(critical: explicit crisis language) never waits. After the first page, later additions are
sent to whoever was paged at most once per `group_interval`, while new crisis evidence or a
raised severity reaches a person at once.

An alert a silence muted (`silenced_by`) is recorded and pages nobody: on the conversation's
active incident if there is one, else on an incident of its own, closed as it opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation import steps, turns
from attune_escalation.db import Incident, IncidentAlert
from attune_escalation.lifecycle import Status, active_incident, move, status_of
from attune_escalation.notification_queue import enqueue
from attune_escalation.routing import Routing
from attune_escalation.timeline import control, record_event
from attune_runtime.ids import derived_id
from attune_schemas import (
    SEVERITY_RANK,
    Alert,
    AlertKind,
    AlertStatus,
    ControlAction,
    EscalationAction,
    Severity,
)


@dataclass
class AlertResult:
    incident_id: str | None
    duplicate: bool = False
    opened: bool = False
    silenced: bool = False  # recorded, nobody paged
    notifications: list[str] = field(default_factory=list)
    paged_tier: int | None = None  # a tier paged at once (1: the first)
    controls: list[ControlAction] = field(default_factory=list)


async def apply_alert(
    session: AsyncSession, *, alert: Alert, now: datetime, routing: Routing
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
        await _attach(session, incident, alert, now)
        _grouped(session, incident, alert, now)
        return AlertResult(incident_id=incident.id)

    if alert.silenced_by is not None:
        return await _silenced(session, incident, alert, now, routing)
    result = AlertResult(incident_id=None)
    if incident is None:
        incident = await _open(session, alert, now, routing)
        result.opened = True
        if _urgent(alert) or routing.group_wait <= timedelta(0):
            result.notifications += await _page_now(
                session, incident, alert, now, routing, "opened"
            )
            result.paged_tier = 1
        else:
            await steps.set_timer(
                session,
                incident,
                purpose=steps.Purpose.ESCALATION,
                action=steps.Action.PAGE,
                due=now + routing.group_wait,
            )
    else:
        await _group(session, incident, alert, now, routing, result)
    # Only a critical crisis pauses the AI; a possible crisis (model only) asks for a review.
    if (
        alert.kind is AlertKind.CRISIS
        and alert.severity is Severity.CRITICAL
        and not incident.ai_paused
    ):
        control(
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


async def _silenced(
    session: AsyncSession,
    incident: Incident | None,
    alert: Alert,
    now: datetime,
    routing: Routing,
) -> AlertResult:
    """Record a muted alert: no page, no timer, no pause; the silence is the actor."""
    opened = incident is None
    if incident is None:
        incident = await _open(session, alert, now, routing)
        move(incident, Status.RESOLVED)
        incident.resolved_at, incident.resolved_by = now, f"silence:{alert.silenced_by}"
    else:
        await _attach(session, incident, alert, now)
    record_event(
        session,
        incident,
        EscalationAction.SILENCED,
        f"silence:{alert.silenced_by}",
        now,
        {**_alert_details(alert), "silence_id": str(alert.silenced_by)},
        cause=alert.event_id,
    )
    incident.updated_at = now
    return AlertResult(incident_id=incident.id, opened=opened, silenced=True)


async def _open(session: AsyncSession, alert: Alert, now: datetime, routing: Routing) -> Incident:
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
        chain=routing.chain_for(alert.tenant_id, alert.severity).model_dump(mode="json"),
        assignees=[],
    )
    session.add(incident)
    await session.flush()
    await _attach(session, incident, alert, now)
    record_event(
        session,
        incident,
        EscalationAction.OPENED,
        "system",
        now,
        {**_alert_details(alert), "policy": routing.chain_of(incident).policy},
        cause=alert.event_id,
    )
    return incident


async def _group(
    session: AsyncSession,
    incident: Incident,
    alert: Alert,
    now: datetime,
    routing: Routing,
    result: AlertResult,
) -> None:
    await _attach(session, incident, alert, now)
    new_kind = alert.kind.value not in incident.kinds
    incident.kinds = sorted({*incident.kinds, alert.kind.value})
    incident.risk = max(incident.risk, alert.risk)
    _grouped(session, incident, alert, now)
    # Until the first page goes out, what arrives joins it; a crisis does not wait for it.
    now_or_with_the_first_page = _urgent(alert) or incident.first_paged_at is not None
    if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[Severity(incident.severity)]:
        previous = incident.severity
        incident.severity = alert.severity.value
        # A graver incident follows the policy for its new severity, from its first tier.
        incident.chain = routing.chain_for(incident.tenant_id, alert.severity).model_dump(
            mode="json"
        )
        record_event(
            session,
            incident,
            EscalationAction.SEVERITY_RAISED,
            "system",
            now,
            {"from": previous, "to": alert.severity.value, "alert_id": str(alert.alert_id)},
            cause=alert.event_id,
        )
        if now_or_with_the_first_page:
            await _page_or_tell(session, incident, alert, now, routing, "severity", result)
        return
    if alert.kind is AlertKind.CRISIS and now_or_with_the_first_page:
        # New crisis evidence always reaches a person, whatever the incident's state.
        await _page_or_tell(session, incident, alert, now, routing, "crisis", result)
        return
    # News for whoever was paged, sent once per group interval with all that came since.
    if (
        new_kind
        and incident.first_paged_at is not None
        and await steps.timer_of(session, incident, steps.Purpose.UPDATE) is None
    ):
        await steps.set_timer(
            session,
            incident,
            purpose=steps.Purpose.UPDATE,
            action=steps.Action.UPDATE,
            due=now + routing.group_interval,
        )


async def _page_or_tell(
    session: AsyncSession,
    incident: Incident,
    alert: Alert,
    now: datetime,
    routing: Routing,
    reason: str,
    result: AlertResult,
) -> None:
    """Page the chain's first tier now if the incident is open and its severity was raised, or
    nobody was paged yet; otherwise tell whoever was paged (the deadline keeps running)."""
    restart = reason == "severity" or incident.first_paged_at is None
    if status_of(incident) is Status.OPEN and restart:
        result.notifications += await _page_now(session, incident, alert, now, routing, reason)
        result.paged_tier = 1
        return
    result.notifications += await enqueue(
        session,
        incident,
        reason=reason,
        key=f"{reason}:{alert.alert_id}",
        now=now,
        routing=routing,
        recipients=list(incident.assignees or []),
    )


async def _page_now(
    session: AsyncSession,
    incident: Incident,
    alert: Alert,
    now: datetime,
    routing: Routing,
    reason: str,
) -> list[str]:
    return await steps.page(
        session,
        incident,
        tier=0,
        round_=0,
        now=now,
        routing=routing,
        key=str(alert.event_id),
        reason=reason,
    )


def _urgent(alert: Alert) -> bool:
    """Explicit crisis language: paged at once, never gathered into a group."""
    return alert.kind is AlertKind.CRISIS and alert.severity is Severity.CRITICAL


def _grouped(session: AsyncSession, incident: Incident, alert: Alert, now: datetime) -> None:
    record_event(
        session,
        incident,
        EscalationAction.ALERT_GROUPED,
        "system",
        now,
        _alert_details(alert),
        cause=alert.event_id,
    )


async def _attach(session: AsyncSession, incident: Incident, alert: Alert, now: datetime) -> None:
    # The recent turns are kept once per message (`turns`), not again in every alert's body.
    await turns.keep(session, incident.id, alert.recent_turns)
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
            body=alert.model_dump(mode="json", exclude={"recent_turns"}),
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
