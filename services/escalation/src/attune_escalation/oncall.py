"""Who is on call, per tenant: a schedule's rotation and file overrides, and the shifts that
clinicians took at run time ("take this shift", the `shift_takeovers` table).

Schedules are configuration shared by the tenants whose policies name them; a takeover belongs
to the tenant of whoever made it, so it changes who is paged for that tenant's incidents only.
The newest takeover covering an instant wins over the file's overrides and the rotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import ShiftTakeover, new_id
from attune_escalation.schedules import Schedule


class Which(StrEnum):
    CURRENT = "current"  # from now until the rotation's current shift ends
    NEXT = "next"  # the rotation's whole next shift


class Source(StrEnum):
    ROTATION = "rotation"
    OVERRIDE = "override"  # written in the policy file
    TAKEN = "taken"  # taken at run time


@dataclass(frozen=True)
class Turn:
    """Who is on call from `start` (and why); `until`: when that changes, if known."""

    clinician: str
    source: Source
    start: datetime
    until: datetime | None = None


def who(schedule: Schedule, takeovers: Sequence[ShiftTakeover], at: datetime) -> Turn:
    """On call at `at`: the newest takeover covering it, else the file's override, else the
    rotation. `takeovers` in any order."""
    covering = [t for t in takeovers if t.starts_at <= at < t.ends_at]
    if covering:
        newest = max(covering, key=lambda t: (t.created_at, t.id))
        return Turn(newest.clinician, Source.TAKEN, at)
    for override in schedule.overrides:
        if override.start <= at < override.end:
            return Turn(override.clinician, Source.OVERRIDE, at)
    return Turn(schedule.shift_at(at).clinician, Source.ROTATION, at)


def now_and_next(
    schedule: Schedule, takeovers: Sequence[ShiftTakeover], now: datetime
) -> tuple[Turn, Turn]:
    """Who is on call now and until when, and who comes next (from then)."""
    current = who(schedule, takeovers, now)
    # Who is on call only changes at a hand-off or where an override or takeover begins or ends.
    edges = {t.starts_at for t in takeovers} | {t.ends_at for t in takeovers}
    edges |= {o.start for o in schedule.overrides} | {o.end for o in schedule.overrides}
    handoff = schedule.shift_at(now).end
    first_handoff = handoff
    for _ in range(len(schedule.rotation.participants) + 1):
        edges.add(handoff)
        handoff = schedule.shift_at(handoff).end
    for edge in sorted(e for e in edges if e > now):
        then = who(schedule, takeovers, edge)
        if then.clinician != current.clinician:
            return Turn(current.clinician, current.source, now, edge), then
    # One participant and nothing overridden: the same clinician's next shift.
    return (
        Turn(current.clinician, current.source, now, first_handoff),
        who(schedule, takeovers, first_handoff),
    )


async def takeovers(
    session: AsyncSession, *, tenant_id: str, schedule: str, after: datetime
) -> list[ShiftTakeover]:
    """The tenant's takeovers of `schedule` that end after `after`."""
    found = await session.scalars(
        select(ShiftTakeover).where(
            ShiftTakeover.tenant_id == tenant_id,
            ShiftTakeover.schedule == schedule,
            ShiftTakeover.ends_at > after,
        )
    )
    return list(found.all())


async def on_call(
    session: AsyncSession, *, tenant_id: str, name: str, schedule: Schedule, at: datetime
) -> str:
    """Whom a page from schedule `name` reaches at `at` for the tenant's incident."""
    taken = await takeovers(session, tenant_id=tenant_id, schedule=name, after=at)
    return who(schedule, taken, at).clinician


def take(
    session: AsyncSession,
    *,
    tenant_id: str,
    name: str,
    schedule: Schedule,
    clinician: str,
    which: Which,
    by: str,
    now: datetime,
) -> ShiftTakeover:
    """`clinician` takes the current shift (from now on) or the next one."""
    shift = schedule.shift_at(now)
    if which is Which.CURRENT:
        starts, ends = now, shift.end
    else:
        following = schedule.shift_at(shift.end)
        starts, ends = following.start, following.end
    taken = ShiftTakeover(
        id=new_id(),
        tenant_id=tenant_id,
        schedule=name,
        clinician=clinician,
        starts_at=starts,
        ends_at=ends,
        created_by=by,
        created_at=now,
    )
    session.add(taken)
    return taken
