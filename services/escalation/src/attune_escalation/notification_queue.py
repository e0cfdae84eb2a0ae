"""The notification queue: one row per channel per reason to notify, delivered by `Delivery`.

Notifications carry ids, labels, who is paged and a link; never conversation text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import Incident, IncidentAlert, Notification
from attune_escalation.notify import notification_key
from attune_escalation.routing import Routing
from attune_runtime import tracing
from attune_schemas import SEVERITY_RANK, Severity


async def payload(
    session: AsyncSession, incident: Incident, *, reason: str, public_url: str
) -> dict[str, Any]:
    """What a notification says: the incident's labels and the signals of all its alerts."""
    bodies = (
        await session.scalars(
            select(IncidentAlert.body)
            .where(IncidentAlert.incident_id == incident.id)
            .order_by(IncidentAlert.received_at)
        )
    ).all()
    firing = [b for b in bodies if b.get("status") == "firing"] or list(bodies)
    lead: dict[str, Any] = max(
        firing, key=lambda b: (SEVERITY_RANK[Severity(b["severity"])], b["risk"]), default={}
    )
    return {
        "incident_id": incident.id,
        "tenant_id": incident.tenant_id,
        "conversation_id": incident.conversation_id,
        "reason": reason,
        "severity": incident.severity,
        "status": incident.status,
        "kinds": list(incident.kinds),
        "alert_kind": lead.get("kind"),
        "risk": incident.risk,
        "rupture_type": lead.get("rupture_type"),
        "crisis_categories": sorted({c for b in firing for c in b.get("crisis_categories", [])}),
        "markers": sorted({e["marker"] for b in firing for e in b.get("evidence", [])}),
        "alerts": len(bodies),
        "opened_at": incident.opened_at.isoformat(),
        # The clinician's way in: the console's page of the incident (its id, never text).
        "url": f"{public_url.rstrip('/')}/console/incidents/{incident.id}",
    }


async def enqueue(
    session: AsyncSession,
    incident: Incident,
    *,
    reason: str,
    key: str,
    now: datetime,
    routing: Routing,
    recipients: list[str],
    extra: dict[str, Any] | None = None,
    channels: list[str] | None = None,
    first_page: bool = False,
) -> list[str]:
    """Queue one notification per channel of the incident; `key` makes each one unique.

    A key seen before (a step run twice) queues nothing again. Delivery goes by severity, and
    within a severity an incident nobody has been told of yet (`first_page`) goes before the
    re-pages and reminders of older ones: under a burst of deadlines a new crisis must not
    wait behind them.
    """
    body = await payload(session, incident, reason=reason, public_url=routing.public_url)
    body["recipients"] = recipients
    body.update(extra or {})
    wanted = routing.channels_for(incident) if channels is None else channels
    keys = {channel: f"{incident.id}:{channel}:{key}" for channel in wanted}
    seen = set(
        (
            await session.scalars(
                select(Notification.dedup_key).where(Notification.dedup_key.in_(keys.values()))
            )
        ).all()
    )
    queued = []
    for channel, dedup_key in keys.items():
        if dedup_key in seen:
            continue
        session.add(
            Notification(
                id=notification_key(incident_id=incident.id, channel=channel, reason=key),
                incident_id=incident.id,
                channel=channel,
                dedup_key=dedup_key,
                payload=body,
                status="pending",
                priority=2 * SEVERITY_RANK[Severity(incident.severity)] + int(first_page),
                next_attempt_at=now,
                created_at=now,
                traceparent=tracing.current(),
            )
        )
        queued.append(channel)
    return queued


async def paged_channels(session: AsyncSession, incident: Incident) -> list[str]:
    """Channels that were sent something for this incident (to close what they opened)."""
    rows = await session.scalars(
        select(Notification.channel).where(Notification.incident_id == incident.id).distinct()
    )
    return sorted(rows.all())
