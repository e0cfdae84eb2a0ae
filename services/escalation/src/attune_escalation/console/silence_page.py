"""What the silences page shows: the tenant's silences in clinical words, and a form that an
incident page can pre-fill (its conversation, its non-crisis kind)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation import silences
from attune_escalation.console import clinical
from attune_escalation.db import Incident, Silence

# The form's choices: how long a silence lasts (label, seconds); the API allows up to 30 days.
DURATIONS: tuple[tuple[str, int], ...] = (
    ("1 hour", 3600),
    ("4 hours", 4 * 3600),
    ("8 hours", 8 * 3600),
    ("1 day", 86400),
    ("3 days", 3 * 86400),
    ("7 days", 7 * 86400),
)
# Kinds a silence may name; a crisis is never silenced, so it is not offered.
KINDS = {k: v for k, v in clinical.KINDS.items() if k != "crisis"}
SHOWN = 100
ORDER = {silences.State.ACTIVE: 0, silences.State.PENDING: 1, silences.State.EXPIRED: 2}


@dataclass(frozen=True)
class SilenceRow:
    id: str
    matches: str
    conversation_id: str | None
    state: str
    state_name: str
    created_by: str
    starts_at: datetime
    ends_at: datetime
    comment: str
    expired_by: str | None

    @property
    def can_expire(self) -> bool:
        return self.state != silences.State.EXPIRED


@dataclass(frozen=True)
class Prefill:
    conversation_id: str = ""
    kind: str = ""
    incident_id: str = ""


def row(s: Silence, now: datetime) -> SilenceRow:
    state = silences.state_of(s, now)
    return SilenceRow(
        id=s.id,
        matches=clinical.silence_matches(s.kind, s.severity, s.conversation_id),
        conversation_id=s.conversation_id,
        state=state.value,
        state_name=clinical.SILENCE_STATES[state.value],
        created_by=s.created_by,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        comment=s.comment,
        expired_by=s.expired_by,
    )


async def rows(session: AsyncSession, tenant_id: str, now: datetime) -> list[SilenceRow]:
    """In force first, then those that start later, then the most recently ended."""
    found = await silences.listed(
        session, tenant_id=tenant_id, now=now, include_expired=True, limit=SHOWN
    )
    shown = [row(s, now) for s in found]
    return sorted(shown, key=lambda r: ORDER[silences.State(r.state)])


async def prefill(session: AsyncSession, tenant_id: str, incident_id: str) -> Prefill | None:
    """The form for silencing an incident's conversation; None when it is not the tenant's."""
    incident = await session.get(Incident, incident_id)
    if incident is None or incident.tenant_id != tenant_id:
        return None
    kind = next((k for k in incident.kinds if k in KINDS), "")
    return Prefill(conversation_id=incident.conversation_id, kind=kind, incident_id=incident.id)
