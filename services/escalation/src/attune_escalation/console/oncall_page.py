"""What the on-call page shows: each of the tenant's schedules, who is on call now and next,
in the schedule's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.oncall import Source
from attune_escalation.oncall_api import TurnAnswer, on_call_now
from attune_escalation.policies import EscalationConfig

SOURCES = {
    Source.ROTATION: "by the rotation",
    Source.OVERRIDE: "by an override in the schedule",
    Source.TAKEN: "shift taken",
}


@dataclass(frozen=True)
class Shown:
    clinician: str
    why: str
    at: str  # `until` for now, `from` for next, in the schedule's time zone
    mine: bool


@dataclass(frozen=True)
class ScheduleRow:
    name: str
    time_zone: str
    now: Shown
    next: Shown


def local(at: datetime | None, zone: str) -> str:
    if at is None:
        return "no change planned"
    return at.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M %Z")


def shown(t: TurnAnswer, at: datetime | None, zone: str, me: str) -> Shown:
    return Shown(t.clinician, SOURCES[t.source], local(at, zone), t.clinician == me)


async def rows(
    session: AsyncSession, config: EscalationConfig, tenant_id: str, me: str, now: datetime
) -> list[ScheduleRow]:
    return [
        ScheduleRow(
            name=s.schedule,
            time_zone=s.time_zone,
            now=shown(s.now, s.now.until, s.time_zone, me),
            next=shown(s.next, s.next.start, s.time_zone, me),
        )
        for s in await on_call_now(session, config, tenant_id, now)
    ]
