"""The on-call API: who is on call now and next for each of the tenant's schedules, and
"take this shift".

A clinician takes a shift for themself; a supervisor (or admin) may assign it to an active user
of their tenant. The tenant is the token's, and so is who made the change. A schedule that no
policy of the caller's tenant pages is not found.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Body, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import ActionAudit
from attune_auth.guard import Clinician, Forbidden, source_of
from attune_auth.principal import Principal, Role
from attune_escalation import oncall
from attune_escalation.api import check_assignee
from attune_escalation.db import ShiftTakeover
from attune_escalation.http_errors import StrictJsonRoute, error_responses
from attune_escalation.policies import EscalationConfig
from attune_escalation.schedules import Schedule
from attune_runtime.clock import Clock
from attune_schemas.common import Identifier

log = structlog.get_logger(__name__)


class TurnAnswer(BaseModel):
    clinician: str
    source: oncall.Source = Field(
        description="rotation, override (from the policy file) or taken (at run time)."
    )
    start: datetime
    until: datetime | None = Field(description="When someone else is on call, if known.")


class ScheduleOnCall(BaseModel):
    schedule: str
    time_zone: str
    now: TurnAnswer
    next: TurnAnswer


class TakeShift(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shift: oncall.Which = Field(
        default=oncall.Which.CURRENT,
        description="current: from now until the current shift's hand-off; next: the next shift.",
    )
    clinician: Identifier | None = Field(
        default=None,
        description="Who takes it; default the caller. Naming someone else needs a supervisor.",
    )


class ShiftTaken(BaseModel):
    id: str
    tenant_id: str
    schedule: str
    clinician: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime


FIELD_NAMES = frozenset({*TakeShift.model_fields, "schedule"})


def turn(t: oncall.Turn) -> TurnAnswer:
    return TurnAnswer(clinician=t.clinician, source=t.source, start=t.start, until=t.until)


def taken(t: ShiftTakeover) -> ShiftTaken:
    return ShiftTaken(
        id=t.id,
        tenant_id=t.tenant_id,
        schedule=t.schedule,
        clinician=t.clinician,
        starts_at=t.starts_at,
        ends_at=t.ends_at,
        created_by=t.created_by,
        created_at=t.created_at,
    )


async def on_call_now(
    session: AsyncSession, config: EscalationConfig, tenant_id: str, now: datetime
) -> list[ScheduleOnCall]:
    """Each of the tenant's schedules: who is on call now, until when, and who is next."""
    found: list[ScheduleOnCall] = []
    for name in config.schedules_for(tenant_id):
        schedule = config.schedules[name]
        took = await oncall.takeovers(session, tenant_id=tenant_id, schedule=name, after=now)
        current, following = oncall.now_and_next(schedule, took, now)
        found.append(
            ScheduleOnCall(
                schedule=name,
                time_zone=schedule.time_zone,
                now=turn(current),
                next=turn(following),
            )
        )
    return found


def tenant_schedule(config: EscalationConfig, who: Principal, name: str) -> Schedule:
    if name not in config.schedules_for(who.tenant_id):
        raise HTTPException(404, "schedule not found")
    return config.schedules[name]


def router(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    config: EscalationConfig,
    on_commit: Callable[[], None],
    audit: ActionAudit,
) -> APIRouter:
    """As for incidents, `audit` decides where each change's audit record is written."""
    api = APIRouter(prefix="/v1/oncall", tags=["on-call"], route_class=StrictJsonRoute)

    @api.get("", response_model=list[ScheduleOnCall], responses=error_responses(401, 403))
    async def list_on_call(who: Clinician) -> list[ScheduleOnCall]:
        async with sessions() as session:
            return await on_call_now(session, config, who.tenant_id, clock.now())

    @api.post(
        "/{schedule}/take",
        status_code=201,
        response_model=ShiftTaken,
        responses=error_responses(400, 401, 403, 404, 413, 422),
    )
    async def take(
        schedule: Annotated[str, Path(max_length=128)],
        who: Clinician,
        request: Request,
        body: Annotated[TakeShift | None, Body()] = None,
    ) -> ShiftTaken:
        """Take the current (or next) shift of a schedule: its pages for the caller's tenant
        go to the taker for that shift."""
        body = body or TakeShift()
        found = tenant_schedule(config, who, schedule)
        clinician = body.clinician or who.subject
        if clinician != who.subject:
            if who.role is None or not who.role.covers(Role.SUPERVISOR):
                raise Forbidden(
                    "a clinician takes shifts for themself; assigning needs a supervisor"
                )
            await check_assignee(request, who, clinician, field="clinician")
        now = clock.now()
        async with sessions() as session, session.begin():
            made = oncall.take(
                session,
                tenant_id=who.tenant_id,
                name=schedule,
                schedule=found,
                clinician=clinician,
                which=body.shift,
                by=who.subject,
                now=now,
            )
            audited = audit.by(
                session,
                who,
                at=now,
                action="shift_taken",
                target=f"schedule:{schedule}",
                source=source_of(request),
                details={
                    "clinician": clinician,
                    "shift": body.shift.value,
                    "starts_at": made.starts_at.isoformat(),
                    "ends_at": made.ends_at.isoformat(),
                },
            )
        on_commit()
        log.info("shift_taken", schedule=schedule, clinician=clinician, actor=who.actor)
        await audited.committed()
        return taken(made)

    return api
