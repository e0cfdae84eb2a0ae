"""The incident lifecycle as a state machine: open (triggered) → acknowledged → joined → resolved.

`move` is the only way a status changes; a move the table does not allow is a `Conflict`.
Reassigning sends an acknowledged incident back to open: the new clinician must acknowledge.
Handing the conversation back to the AI sends a joined incident back to acknowledged: still
owned, still open, reminders running.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import Incident


class Status(StrEnum):
    OPEN = "open"  # triggered: paging the chain until someone acknowledges
    ACKNOWLEDGED = "acknowledged"
    JOINED = "joined"  # a clinician took the conversation; the AI is paused
    RESOLVED = "resolved"


class Outcome(StrEnum):
    """How the clinician closed the incident."""

    REPAIRED = "repaired"
    CLIENT_SAFE = "client_safe"
    REFERRED = "referred"
    EMERGENCY_SERVICES = "emergency_services"
    NO_RESPONSE = "no_response"
    FALSE_ALARM = "false_alarm"


class Verdict(StrEnum):
    """What the clinician says one alert was: the label the model learns from."""

    TRUE_RUPTURE = "true_rupture"
    FALSE_ALARM = "false_alarm"
    CRISIS_CONFIRMED = "crisis_confirmed"
    WRONG_TYPE = "wrong_type"  # something was wrong, but not what the alert said


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.JOINED, Status.RESOLVED}),
    Status.ACKNOWLEDGED: frozenset({Status.OPEN, Status.JOINED, Status.RESOLVED}),
    Status.JOINED: frozenset({Status.ACKNOWLEDGED, Status.RESOLVED}),
    Status.RESOLVED: frozenset(),
}


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


def status_of(incident: Incident) -> Status:
    return Status(incident.status)


def move(incident: Incident, to: Status) -> None:
    current = status_of(incident)
    if to not in TRANSITIONS[current]:
        if current is Status.RESOLVED:
            raise Conflict("incident is already resolved")
        raise Conflict(f"an incident that is {current.value} cannot become {to.value}")
    incident.status = to.value


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


@dataclass(frozen=True)
class Census:
    """Unresolved incidents by (severity, status), and the oldest unacknowledged by severity."""

    counts: Counter[tuple[str, str]]
    oldest_open: dict[str, datetime]


async def census(session: AsyncSession) -> Census:
    rows = await session.execute(
        select(Incident.severity, Incident.status, func.count(), func.min(Incident.opened_at))
        .where(Incident.status != Status.RESOLVED.value)
        .group_by(Incident.severity, Incident.status)
    )
    counts: Counter[tuple[str, str]] = Counter()
    oldest: dict[str, datetime] = {}
    for severity, status, n, first in rows.all():
        counts[(severity, status)] = n
        if status == Status.OPEN.value:
            oldest[severity] = first
    return Census(counts, oldest)
