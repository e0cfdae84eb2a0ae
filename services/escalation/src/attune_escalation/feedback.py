"""Clinicians' verdicts on the alerts of an incident: stored with the model that raised them.

A verdict is given per alert (one alert id per episode: its firing and resolved events share
it) when the incident is resolved, in the same transaction. The stored row carries ids, the
kind, the model version and the verdict: no conversation text. The text a training example
needs is read from the incident's alerts when the feedback is exported, so whatever retention
has deleted is not exported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import AlertVerdict, Incident, IncidentAlert
from attune_escalation.lifecycle import Verdict


class UnknownAlert(ValueError):
    """A verdict names an alert that is not part of the incident."""


@dataclass(frozen=True)
class Given:
    """One verdict as the clinician gave it."""

    alert_id: str
    verdict: Verdict
    markers: tuple[str, ...] | None = None


def alerts_by_id(incident: Incident) -> dict[str, IncidentAlert]:
    """The incident's alerts, one per alert id: the last event of each episode."""
    found: dict[str, IncidentAlert] = {}
    for a in incident.alerts:
        found[a.alert_id] = a
    return found


def check(incident: Incident, verdicts: Sequence[Given]) -> None:
    known = alerts_by_id(incident)
    unknown = sorted({v.alert_id for v in verdicts} - known.keys())
    if unknown:
        raise UnknownAlert(f"alerts not part of this incident: {', '.join(unknown)}")


async def record(
    session: AsyncSession,
    incident: Incident,
    verdicts: Sequence[Given],
    *,
    clinician_id: str,
    now: datetime,
) -> int:
    """Store the verdicts (the last one given for an alert wins); returns how many."""
    check(incident, verdicts)
    known = alerts_by_id(incident)
    for v in {v.alert_id: v for v in verdicts}.values():
        alert = known[v.alert_id]
        await session.merge(
            AlertVerdict(
                incident_id=incident.id,
                alert_id=v.alert_id,
                tenant_id=incident.tenant_id,
                kind=alert.kind,
                rupture_type=str(alert.body.get("rupture_type", "none")),
                model_version=str(alert.body.get("model_version", "unknown")),
                verdict=v.verdict.value,
                markers=list(v.markers) if v.markers is not None else None,
                clinician=clinician_id,
                at=now,
            )
        )
    return len({v.alert_id for v in verdicts})
