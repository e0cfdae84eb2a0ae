"""What the console's pages show, built from an incident: queue rows and the incident page.

Only what the incident holds is shown: the conversation's recent messages kept with it
(`turns`), the alerts' evidence highlighted inside them, the triggering AI turn, the escalation
timeline. A flagged message the kept turns do not reach is shown by its evidence alone. Text
that retention deleted is shown as deleted, never guessed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation import engagement
from attune_escalation.console import clinical
from attune_escalation.db import Incident, IncidentTurn
from attune_escalation.feedback import alerts_by_id
from attune_escalation.lifecycle import Status
from attune_escalation.retention import REDACTED
from attune_schemas import SEVERITY_RANK, Severity


@dataclass(frozen=True)
class QueueRow:
    id: str
    severity: str
    status: str
    kinds: tuple[str, ...]
    kind_names: str
    crisis: bool
    opened_at: datetime
    waiting_seconds: int
    ai_paused: bool
    owner: str | None

    @property
    def fingerprint(self) -> tuple[str, str, str, bool, str | None, tuple[str, ...]]:
        return (self.id, self.severity, self.status, self.ai_paused, self.owner, self.kinds)


def queue_row(i: Incident, now: datetime) -> QueueRow:
    kinds = tuple(i.kinds)
    return QueueRow(
        id=i.id,
        severity=i.severity,
        status=i.status,
        kinds=kinds,
        kind_names=", ".join(clinical.KINDS.get(k, k) for k in kinds),
        crisis="crisis" in kinds,
        opened_at=i.opened_at,
        waiting_seconds=max(0, int((now - i.opened_at).total_seconds())),
        ai_paused=i.ai_paused,
        owner=i.joined_by or i.acknowledged_by,
    )


async def queue(session: AsyncSession, tenant_id: str, now: datetime) -> list[QueueRow]:
    """The tenant's open incidents: most severe first, then the longest waiting."""
    found = await session.scalars(
        select(Incident).where(
            Incident.tenant_id == tenant_id, Incident.status != Status.RESOLVED.value
        )
    )
    rows = [queue_row(i, now) for i in found.all()]
    return sorted(rows, key=lambda r: (-SEVERITY_RANK[Severity(r.severity)], r.opened_at, r.id))


@dataclass(frozen=True)
class Span:
    marker: str
    name: str
    family: str
    family_name: str
    excerpt: str | None  # None: deleted after retention, or a signal with no text
    source: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Piece:
    """A run of a message's text; `family` names the evidence it highlights, if any."""

    text: str
    family: str | None = None


SENDERS = {"client": "Client", "ai": "AI", "clinician": "Clinician"}
# Where spans of two families overlap, the graver one colours the overlap.
_GRAVITY = {"crisis": 0, "confrontation": 1, "withdrawal": 2}


@dataclass
class Turn:
    """One message of the conversation as the incident holds it."""

    message_id: str
    sender: str  # client | ai | clinician
    spans: list[Span] = field(default_factory=list)
    trigger: bool = False  # the AI turn that most likely set the rupture off
    trigger_excerpt: str | None = None
    seconds_before: float | None = None
    at: datetime | None = None
    kept: bool = False  # the incident keeps this message's text (`text` None: deleted)
    text: str | None = None

    @property
    def sender_name(self) -> str:
        return SENDERS.get(self.sender, self.sender)

    @property
    def flagged(self) -> bool:
        return self.sender == "client" and bool(self.spans)

    def _bounds(self, s: Span) -> tuple[int, int] | None:
        """Where the span sits in the kept text, when it fits inside it (a span without offsets:
        where its excerpt first appears)."""
        if self.text is None:
            return None
        if s.start is None or s.end is None:
            at = self.text.find(s.excerpt) if s.excerpt else -1
            return (at, at + len(s.excerpt or "")) if at >= 0 else None
        return (s.start, s.end) if 0 <= s.start < s.end <= len(self.text) else None

    @property
    def pieces(self) -> list[Piece]:
        """The kept text cut where evidence spans begin and end, each run with its family."""
        text = self.text or ""
        spans = [(b, s.family) for s in self.spans if (b := self._bounds(s)) is not None]
        cuts = sorted({0, len(text), *(c for b, _ in spans for c in b)})
        out: list[Piece] = []
        for a, z in itertools.pairwise(cuts):
            over = [f for (start, end), f in spans if start <= a < end]
            family = min(over, key=lambda f: _GRAVITY.get(f, len(_GRAVITY))) if over else None
            if out and out[-1].family == family:
                out[-1] = Piece(out[-1].text + text[a:z], family)
            else:
                out.append(Piece(text[a:z], family))
        return out

    @property
    def outside(self) -> list[Span]:
        """Spans not highlighted in the kept text (it was cut short, or not kept): quoted."""
        return [s for s in self.spans if not (self.kept and self._bounds(s))]


@dataclass(frozen=True)
class AlertView:
    alert_id: str
    kind: str
    kind_name: str
    severity: str
    status: str
    risk: float
    rupture_type: str
    model_version: str
    categories: tuple[str, ...]
    family: str  # the marker family the verdict's marker corrections choose from


@dataclass(frozen=True)
class MarkerCount:
    name: str
    family_name: str
    count: int


@dataclass(frozen=True)
class Entry:
    at: datetime
    what: str
    actor: str
    details: str


@dataclass
class IncidentPage:
    incident: Incident
    waiting_seconds: int
    crisis: bool
    kind_names: str
    turns: list[Turn]
    signals: list[Span]
    markers: list[MarkerCount]
    alerts: list[AlertView]
    timeline: list[Entry]
    rupture_type: str
    repair_for: str
    repair: tuple[clinical.RepairMove, ...]


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value == REDACTED:
        return None
    return value


def _span(e: dict[str, Any]) -> Span:
    marker, family = str(e.get("marker", "")), str(e.get("family", ""))
    return Span(
        marker=marker,
        name=clinical.marker_name(marker),
        family=family,
        family_name=clinical.FAMILIES.get(family, family),
        excerpt=_text(e.get("excerpt")),
        source=str(e.get("source", "rule")),
        start=e.get("start") if isinstance(e.get("start"), int) else None,
        end=e.get("end") if isinstance(e.get("end"), int) else None,
    )


def _details(d: dict[str, Any]) -> str:
    """Timeline details are ids and counts (never text): shown as they are, in a short line."""
    parts = []
    for key in ("tier", "round", "recipients", "to", "from", "outcome", "channel", "kind"):
        if d.get(key) not in (None, [], ""):
            value = d[key]
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{key.replace('_', ' ')}: {shown}")
    return "; ".join(parts)


def _timeline(kept: list[IncidentTurn], flagged: dict[str, Turn]) -> list[Turn]:
    """The kept turns in order with what the alerts say about them; flagged messages the kept
    turns do not reach (older than the window) come first, in the order they were flagged."""
    ordered = []
    for k in kept:
        t = flagged.pop(k.message_id, None) or Turn(k.message_id, k.sender)
        t.sender, t.at, t.kept, t.text = k.sender, k.at, True, k.text
        ordered.append(t)
    return [*flagged.values(), *ordered]


def incident_page(
    i: Incident, now: datetime, kept: list[IncidentTurn] | None = None
) -> IncidentPage:
    turns: dict[str, Turn] = {}
    signals: list[Span] = []
    counts: dict[tuple[str, str], int] = {}
    rupture_type = "none"
    for a in i.alerts:  # oldest first: the conversation in the order it was flagged
        body = a.body
        trigger = body.get("triggering_turn")
        if isinstance(trigger, dict) and trigger.get("message_id"):
            t = turns.setdefault(str(trigger["message_id"]), Turn(str(trigger["message_id"]), "ai"))
            t.trigger = True
            t.trigger_excerpt = _text(trigger.get("excerpt"))
            t.seconds_before = float(trigger.get("seconds_before", 0))
        for e in body.get("evidence", []):
            span = _span(e)
            counts[(span.name, span.family_name)] = counts.get((span.name, span.family_name), 0) + 1
            if span.source == "behaviour" or not e.get("message_id"):
                if span not in signals:
                    signals.append(span)
                continue
            turn = turns.setdefault(str(e["message_id"]), Turn(str(e["message_id"]), "client"))
            if span not in turn.spans:
                turn.spans.append(span)
        # Confrontation takes precedence, as in the annotation guide: its repair comes first.
        if body.get("rupture_type") == "confrontation" or (
            body.get("rupture_type") == "withdrawal" and rupture_type == "none"
        ):
            rupture_type = str(body["rupture_type"])
    kinds = list(i.kinds)
    repair_for, repair = clinical.repair_moves(rupture_type, kinds)
    alerts = []
    for alert_id, a in alerts_by_id(i).items():
        body = a.body
        rt = str(body.get("rupture_type", "none"))
        alerts.append(
            AlertView(
                alert_id=alert_id,
                kind=a.kind,
                kind_name=clinical.KINDS.get(a.kind, a.kind),
                severity=a.severity,
                status=a.status,
                risk=a.risk,
                rupture_type=clinical.RUPTURE_TYPES.get(rt, rt),
                model_version=str(body.get("model_version", "")),
                categories=tuple(
                    clinical.CRISIS_CATEGORIES.get(c, c) for c in body.get("crisis_categories", [])
                ),
                family=rt if rt in ("withdrawal", "confrontation") else "",
            )
        )
    return IncidentPage(
        incident=i,
        waiting_seconds=max(0, int((now - i.opened_at).total_seconds())),
        crisis="crisis" in kinds,
        kind_names=", ".join(clinical.KINDS.get(k, k) for k in kinds),
        turns=_timeline(kept or [], turns),
        signals=signals,
        markers=[MarkerCount(n, f, c) for (n, f), c in counts.items()],
        alerts=alerts,
        timeline=[
            Entry(e.at, clinical.ACTIONS.get(e.action, e.action), e.actor, _details(e.details))
            for e in i.timeline
        ],
        rupture_type=rupture_type,
        repair_for=repair_for,
        repair=repair,
    )


# --- The engagement chart: reply length and latency against the client's own baseline ----------

W, H, PAD = 520, 200, 28
Y_MAX = 4.0  # ratios above are drawn at the top edge (the table has the values)


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: str  # SVG polyline points
    dots: list[tuple[float, float]]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline_y: float
    top_y: float
    bottom_y: float
    left_x: float
    right_x: float
    series: list[Series]
    opened_x: float | None
    summary: str
    rows: list[tuple[str, str, str, int]]  # time, length ×, latency ×, minimal streak


def _y(value: float) -> float:
    return round(H - PAD - (min(value, Y_MAX) / Y_MAX) * (H - 2 * PAD), 1)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _change(name: str, values: list[float]) -> str:
    if not values:
        return f"no {name} measured"
    return f"{name} from {values[0]:.1f}× to {values[-1]:.1f}× the client's usual"


def chart(points: list[engagement.Point], opened_at: datetime) -> Chart | None:
    """The SVG geometry of the engagement trend; None with fewer than two replies measured."""
    if len(points) < 2:
        return None
    step = (W - 2 * PAD) / (len(points) - 1)
    xs = [round(PAD + i * step, 1) for i in range(len(points))]
    series = []
    for name, css, values in (
        ("Reply length", "length", [p.length for p in points]),
        ("Reply time", "latency", [p.latency for p in points]),
    ):
        dots = [(x, _y(v)) for x, v in zip(xs, values, strict=True) if v is not None]
        series.append(Series(name, css, " ".join(f"{x},{y}" for x, y in dots), dots))
    opened = next((x for x, p in zip(xs, points, strict=True) if p.at >= opened_at), None)
    lengths = [p.length for p in points if p.length is not None]
    latencies = [p.latency for p in points if p.latency is not None]
    summary = (
        f"Over the client's last {len(points)} replies: {_change('reply length', lengths)}; "
        f"{_change('reply time', latencies)}."
    )
    return Chart(
        width=W,
        height=H,
        baseline_y=_y(1.0),
        top_y=_y(Y_MAX),
        bottom_y=_y(0.0),
        left_x=PAD,
        right_x=W - PAD,
        series=series,
        opened_x=opened,
        summary=summary,
        rows=[
            (p.at.strftime("%H:%M:%S"), _ratio(p.length), _ratio(p.latency), p.streak)
            for p in points
        ],
    )
