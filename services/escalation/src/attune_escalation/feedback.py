"""Clinicians' verdicts on the alerts of an incident: stored with the model that raised them.

A verdict is given per alert (one alert id per episode: its firing and resolved events share
it) when the incident is resolved, in the same transaction. The stored row carries ids, the
kind, the model version and the verdict: no conversation text. The text a training example
needs is read when the feedback is exported, so whatever retention has deleted is not exported:
the whole flagged client message and the AI turn before it when the incident keeps the
conversation's turns (`turns`), else the alert's marked spans and trigger excerpt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.console.clinical import CONFRONTATION_MARKERS, WITHDRAWAL_MARKERS
from attune_escalation.db import AlertVerdict, Incident, IncidentAlert, IncidentTurn
from attune_escalation.lifecycle import Verdict
from attune_escalation.retention import REDACTED


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


# --- Export: the verdicts as training examples in the corpus format of models/ -------------

CONFIRMED = frozenset({Verdict.TRUE_RUPTURE.value, Verdict.CRISIS_CONFIRMED.value})
RUPTURE_FAMILIES = ("withdrawal", "confrontation")


@dataclass(frozen=True)
class Export:
    examples: list[dict[str, Any]]  # models/corpus/FORMAT.md rows: client text, mind it
    verdicts: list[dict[str, Any]]  # every verdict, ids and labels only (precision by kind)
    skipped: int  # verdicts with no example: text deleted, or no label to learn


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value != REDACTED


def _flagged_message(body: dict[str, Any], families: tuple[str, ...]) -> tuple[str, str] | None:
    """The client's message that raised the alert: its id and the excerpts of its spans."""
    evidence = [
        e
        for e in body.get("evidence", [])
        if e.get("family") in families and e.get("message_id") and _has_text(e.get("excerpt"))
    ]
    if not evidence:
        return None
    last = str(evidence[-1]["message_id"])
    spans = sorted(
        (e for e in evidence if e["message_id"] == last), key=lambda e: e.get("start") or 0
    )
    return last, " … ".join(dict.fromkeys(str(e["excerpt"]) for e in spans))


def _label(v: AlertVerdict, body: dict[str, Any], markers: list[str]) -> str | None:
    """The corpus label a verdict teaches; None when it does not say which."""
    if v.verdict == Verdict.FALSE_ALARM.value:
        return "none"
    if v.verdict == Verdict.CRISIS_CONFIRMED.value or (
        v.verdict == Verdict.TRUE_RUPTURE.value and v.kind == "crisis"
    ):
        return "crisis" if body.get("crisis_categories") else None
    families = {_family(m) for m in markers}
    if "confrontation" in families:
        return "confrontation"
    if "withdrawal" in families:
        return "withdrawal"
    if v.verdict == Verdict.TRUE_RUPTURE.value and v.rupture_type in RUPTURE_FAMILIES:
        return v.rupture_type
    return None


def _family(marker: str) -> str:
    if marker in CONFRONTATION_MARKERS:
        return "confrontation"
    return "withdrawal" if marker in WITHDRAWAL_MARKERS else ""


def example(
    v: AlertVerdict, alert: IncidentAlert, kept: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """One corpus row (models/corpus/FORMAT.md) from a verdict and its alert, or None.

    `kept`: the incident's turns still holding their text, by message id: the whole flagged
    message and the whole triggering AI turn are taught when they are there.
    """
    kept = kept or {}
    body = alert.body
    fired = [
        str(e["marker"]) for e in body.get("evidence", []) if e.get("family") in RUPTURE_FAMILIES
    ]
    markers = list(v.markers) if v.markers is not None else list(dict.fromkeys(fired))
    label = _label(v, body, markers)
    families = ("crisis",) if v.kind == "crisis" else RUPTURE_FAMILIES
    flagged = _flagged_message(body, families) or _flagged_message(
        body, (*RUPTURE_FAMILIES, "crisis")
    )
    if label is None or flagged is None:
        return None
    message_id, spans = flagged
    trigger = body.get("triggering_turn") or {}
    said = kept.get(str(trigger.get("message_id"))) or trigger.get("excerpt")
    context = [{"sender": "ai", "text": said}] if _has_text(said) else []
    return {
        "id": f"feedback-{v.alert_id}",
        "group": f"feedback-{v.incident_id}",
        "label": label,
        "markers": [] if label == "none" else [m for m in markers if _family(m)],
        "crisis_categories": list(body.get("crisis_categories", [])) if label == "crisis" else [],
        "register": "chat",
        "topic": "clinician feedback",
        "context": context,
        "text": kept.get(message_id) or spans,
        "latency_s": trigger.get("seconds_before") if context else None,
        # An alert a clinician called a false alarm looked like a positive: a hard negative.
        "hard_negative": label == "none",
        "note": f"Clinician verdict {v.verdict} on a {v.kind} alert of model {v.model_version}.",
    }


def verdict_row(v: AlertVerdict) -> dict[str, Any]:
    return {
        "incident_id": v.incident_id,
        "alert_id": v.alert_id,
        "tenant_id": v.tenant_id,
        "kind": v.kind,
        "rupture_type": v.rupture_type,
        "model_version": v.model_version,
        "verdict": v.verdict,
        "confirmed": v.verdict in CONFIRMED,
        "markers": v.markers,
        "at": v.at.isoformat(),
    }


async def export(session: AsyncSession, *, tenant_id: str | None = None) -> Export:
    """Every verdict (of one tenant, or all), oldest first, and the examples they teach."""
    query = select(AlertVerdict, IncidentAlert).join(
        IncidentAlert,
        (IncidentAlert.incident_id == AlertVerdict.incident_id)
        & (IncidentAlert.alert_id == AlertVerdict.alert_id),
    )
    if tenant_id is not None:
        query = query.where(AlertVerdict.tenant_id == tenant_id)
    latest: dict[tuple[str, str], tuple[AlertVerdict, IncidentAlert]] = {}
    for v, a in (await session.execute(query.order_by(IncidentAlert.received_at))).all():
        latest[(v.incident_id, v.alert_id)] = (v, a)  # the alert's last event holds it all
    pairs = sorted(latest.values(), key=lambda p: (p[0].at, p[0].alert_id))
    kept: dict[str, dict[str, str]] = {}
    if pairs:
        held = await session.scalars(
            select(IncidentTurn).where(
                IncidentTurn.incident_id.in_({v.incident_id for v, _ in pairs}),
                IncidentTurn.text.is_not(None),
            )
        )
        for t in held:
            kept.setdefault(t.incident_id, {})[t.message_id] = str(t.text)
    examples = [e for v, a in pairs if (e := example(v, a, kept.get(v.incident_id))) is not None]
    return Export(examples, [verdict_row(v) for v, _ in pairs], len(pairs) - len(examples))
