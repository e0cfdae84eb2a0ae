"""The clinician API: list and read incidents with their evidence; acknowledge, join, resolve."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_escalation import incidents
from attune_escalation.db import Incident
from attune_escalation.http_errors import StrictJsonRoute, error_responses
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.routing import Routing
from attune_runtime.clock import Clock
from attune_schemas.common import Identifier

log = structlog.get_logger(__name__)


class ClinicianAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clinician_id: Identifier


class Reassignment(ClinicianAction):
    to: Identifier = Field(description="The clinician the incident is handed to.")


class Resolution(ClinicianAction):
    outcome: incidents.Outcome
    # No NUL: PostgreSQL text cannot hold it. In the pattern, so the contract says so too.
    note: Annotated[str, Field(max_length=4000, pattern=r"^[^\x00]*$")] | None = None


class IncidentSummary(BaseModel):
    id: str
    tenant_id: str
    conversation_id: str
    status: str
    severity: str
    kinds: list[str]
    risk: float
    ai_paused: bool
    opened_at: datetime
    updated_at: datetime
    acknowledged_by: str | None
    joined_by: str | None
    resolved_by: str | None
    outcome: str | None


class IncidentDetail(IncidentSummary):
    acknowledged_at: datetime | None
    joined_at: datetime | None
    resolved_at: datetime | None
    resolution_note: str | None
    alerts: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


def summary(i: Incident) -> IncidentSummary:
    return IncidentSummary(
        id=i.id,
        tenant_id=i.tenant_id,
        conversation_id=i.conversation_id,
        status=i.status,
        severity=i.severity,
        kinds=list(i.kinds),
        risk=i.risk,
        ai_paused=i.ai_paused,
        opened_at=i.opened_at,
        updated_at=i.updated_at,
        acknowledged_by=i.acknowledged_by,
        joined_by=i.joined_by,
        resolved_by=i.resolved_by,
        outcome=i.outcome,
    )


def detail(i: Incident) -> IncidentDetail:
    return IncidentDetail(
        **summary(i).model_dump(),
        acknowledged_at=i.acknowledged_at,
        joined_at=i.joined_at,
        resolved_at=i.resolved_at,
        resolution_note=i.resolution_note,
        alerts=[{"received_at": a.received_at.isoformat(), **a.body} for a in i.alerts],
        timeline=[
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "action": e.action,
                "actor": e.actor,
                "severity": e.severity,
                "details": e.details,
            }
            for e in i.timeline
        ],
    )


StatusFilter = Literal["active", "open", "acknowledged", "joined", "resolved", "all"]

# Names an error answer may show; any other key a client sent is shown as `*`, not echoed.
FIELD_NAMES = frozenset(
    {*ClinicianAction.model_fields, *Resolution.model_fields, *Reassignment.model_fields}
    | {"incident_id", "status", "conversation_id", "limit"}
)
ACTION_ERRORS = error_responses(400, 404, 409, 413, 422)


def router(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: EscalationMetrics,
    on_commit: Callable[[], None],
    routing: Routing,
) -> APIRouter:
    api = APIRouter(prefix="/v1/incidents", tags=["incidents"], route_class=StrictJsonRoute)

    @api.get("", response_model=list[IncidentSummary], responses=error_responses(422))
    async def list_incidents(
        status: StatusFilter = "active",
        conversation_id: Identifier | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[IncidentSummary]:
        query = select(Incident).order_by(Incident.opened_at.desc()).limit(limit)
        if status == "active":
            query = query.where(Incident.status != incidents.Status.RESOLVED.value)
        elif status != "all":
            query = query.where(Incident.status == status)
        if conversation_id is not None:
            query = query.where(Incident.conversation_id == conversation_id)
        async with sessions() as session:
            return [summary(i) for i in (await session.scalars(query)).all()]

    @api.get("/{incident_id}", response_model=IncidentDetail, responses=error_responses(404, 422))
    async def get_incident(incident_id: UUID) -> IncidentDetail:
        async with sessions() as session:
            try:
                return detail(await incidents.get_incident(session, str(incident_id)))
            except incidents.NotFound:
                raise HTTPException(404, "incident not found") from None

    async def act(
        name: str,
        incident_id: str,
        clinician_id: str,
        op: Callable[[AsyncSession], Awaitable[Incident]],
    ) -> IncidentDetail:
        before: tuple[datetime | None, datetime | None] = (None, None)
        try:
            async with sessions() as session:
                async with session.begin():
                    known = await session.get(Incident, incident_id)
                    if known is not None:
                        before = (known.acknowledged_at, known.resolved_at)
                    incident = await op(session)
                    incident_id_ = incident.id
                async with sessions() as fresh:
                    result = detail(await incidents.get_incident(fresh, incident_id_))
        except incidents.NotFound:
            raise HTTPException(404, "incident not found") from None
        except incidents.Conflict as exc:
            raise HTTPException(409, str(exc)) from None
        metrics.actions.labels(name).inc()
        # Response times, once per incident: a repeated action changes no timestamp.
        if before[0] is None and result.acknowledged_at is not None:
            ack = (result.acknowledged_at - result.opened_at).total_seconds()
            metrics.time_to_acknowledge.labels(result.severity).observe(ack)
        if before[1] is None and result.resolved_at is not None:
            resolve = (result.resolved_at - result.opened_at).total_seconds()
            metrics.time_to_resolve.labels(result.severity).observe(resolve)
        log.info(
            "clinician_action", action=name, incident_id=incident_id, clinician_id=clinician_id
        )
        on_commit()
        return result

    @api.post("/{incident_id}/ack", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def acknowledge(incident_id: UUID, body: ClinicianAction) -> IncidentDetail:
        iid = str(incident_id)
        return await act(
            "acknowledge",
            iid,
            body.clinician_id,
            lambda s: incidents.acknowledge(
                s, incident_id=iid, clinician_id=body.clinician_id, now=clock.now(), routing=routing
            ),
        )

    @api.post("/{incident_id}/join", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def join(incident_id: UUID, body: ClinicianAction) -> IncidentDetail:
        iid = str(incident_id)
        return await act(
            "join",
            iid,
            body.clinician_id,
            lambda s: incidents.join(
                s, incident_id=iid, clinician_id=body.clinician_id, now=clock.now(), routing=routing
            ),
        )

    @api.post("/{incident_id}/resolve", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def resolve(incident_id: UUID, body: Resolution) -> IncidentDetail:
        iid = str(incident_id)
        return await act(
            "resolve",
            iid,
            body.clinician_id,
            lambda s: incidents.resolve(
                s,
                incident_id=iid,
                clinician_id=body.clinician_id,
                outcome=body.outcome,
                note=body.note,
                now=clock.now(),
                routing=routing,
            ),
        )

    @api.post("/{incident_id}/reassign", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def reassign(incident_id: UUID, body: Reassignment) -> IncidentDetail:
        iid = str(incident_id)
        return await act(
            "reassign",
            iid,
            body.clinician_id,
            lambda s: incidents.reassign(
                s,
                incident_id=iid,
                clinician_id=body.clinician_id,
                to=body.to,
                now=clock.now(),
                routing=routing,
            ),
        )

    return api
