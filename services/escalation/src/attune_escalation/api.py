"""The clinician API: list and read incidents with their evidence; acknowledge, join, hand back,
reassign, resolve (with a verdict per alert)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import ActionAudit, AuditTrail
from attune_auth.db import User
from attune_auth.guard import Clinician, guard_of, source_of
from attune_auth.principal import Principal
from attune_escalation import feedback, incidents
from attune_escalation.db import Incident
from attune_escalation.http_errors import StrictJsonRoute, error_responses
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.routing import Routing
from attune_runtime.clock import Clock
from attune_schemas.common import Identifier

log = structlog.get_logger(__name__)


# No NUL: PostgreSQL text cannot hold it. In the pattern, so the contract says so too.
NO_NUL = r"^[^\x00]*$"


class ClinicianAction(BaseModel):
    """The clinician is whoever the token names; the body only says why (for the audit)."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=500, pattern=NO_NUL)] | None = Field(
        default=None, description="Why, for the audit trail (no conversation text, please)."
    )


class Reassignment(ClinicianAction):
    to: Identifier = Field(description="The clinician the incident is handed to.")


MarkerName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")]


class AlertVerdict(BaseModel):
    """What one alert of the incident was, in the clinician's judgement: a training label."""

    model_config = ConfigDict(extra="forbid")
    alert_id: UUID
    verdict: incidents.Verdict
    markers: Annotated[list[MarkerName], Field(max_length=20)] | None = Field(
        default=None, description="The markers actually present, when they differ (optional)."
    )


class Resolution(ClinicianAction):
    outcome: incidents.Outcome
    note: Annotated[str, Field(max_length=4000, pattern=NO_NUL)] | None = None
    verdicts: Annotated[list[AlertVerdict], Field(max_length=100)] = Field(
        default_factory=list, description="A verdict per alert of the incident (optional)."
    )

    def given(self) -> list[feedback.Given]:
        return [
            feedback.Given(
                str(v.alert_id), v.verdict, tuple(v.markers) if v.markers is not None else None
            )
            for v in self.verdicts
        ]


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


# ack and join need no body; one may say why.
OptionalAction = Annotated[ClinicianAction | None, Body()]

StatusFilter = Literal["active", "open", "acknowledged", "joined", "resolved", "all"]

# Names an error answer may show; any other key a client sent is shown as `*`, not echoed.
FIELD_NAMES = frozenset(
    {*ClinicianAction.model_fields, *Resolution.model_fields, *Reassignment.model_fields}
    | {*AlertVerdict.model_fields}
    | {"incident_id", "status", "conversation_id", "limit"}
)
ACTION_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)


async def own_incident(session: AsyncSession, incident_id: str, who: Principal) -> Incident:
    """The incident if it belongs to the caller's tenant; another tenant's is not found."""
    incident = await incidents.get_incident(session, incident_id)
    if incident.tenant_id != who.tenant_id:
        raise incidents.NotFound(incident_id)
    return incident


async def audited_read(
    sessions: async_sessionmaker[AsyncSession],
    audit: AuditTrail,
    clock: Clock,
    incident_id: str,
    who: Principal,
    request: Request,
) -> Incident:
    """The caller's tenant's incident with its evidence, the read audited; else 404."""
    async with sessions() as session:
        try:
            found = await own_incident(session, incident_id, who)
        except incidents.NotFound:
            raise HTTPException(404, "incident not found") from None
    # Reading the evidence is reading what the client wrote: audited like any action.
    await audit.append(
        who,
        at=clock.now(),
        action="incident_read",
        target=f"incident:{incident_id}",
        source=source_of(request),
    )
    return found


async def check_assignee(request: Request, who: Principal, to: str, field: str = "to") -> None:
    """`to` must be an active user of the caller's tenant; otherwise 422 on `body.<field>`."""
    async with guard_of(request).sessions() as identity:
        user = await identity.scalar(
            select(User).where(
                User.username == to, User.tenant_id == who.tenant_id, User.active.is_(True)
            )
        )
    if user is None:
        reason = "names no active user of this tenant"
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", field), "msg": reason}]
        )


def router(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: EscalationMetrics,
    on_commit: Callable[[], None],
    audit: ActionAudit,
    routing: Routing,
) -> APIRouter:
    """`audit` decides where each action's audit record is written: in the action's own
    transaction when the audit trail is in this database (no acknowledged incident without its
    record), else after it."""
    api = APIRouter(prefix="/v1/incidents", tags=["incidents"], route_class=StrictJsonRoute)

    @api.get("", response_model=list[IncidentSummary], responses=error_responses(401, 403, 422))
    async def list_incidents(
        who: Clinician,
        status: StatusFilter = "active",
        conversation_id: Identifier | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[IncidentSummary]:
        query = (
            select(Incident)
            .where(Incident.tenant_id == who.tenant_id)
            .order_by(Incident.opened_at.desc())
            .limit(limit)
        )
        if status == "active":
            query = query.where(Incident.status != incidents.Status.RESOLVED.value)
        elif status != "all":
            query = query.where(Incident.status == status)
        if conversation_id is not None:
            query = query.where(Incident.conversation_id == conversation_id)
        async with sessions() as session:
            return [summary(i) for i in (await session.scalars(query)).all()]

    @api.get(
        "/{incident_id}",
        response_model=IncidentDetail,
        responses=error_responses(401, 403, 404, 422),
    )
    async def get_incident(incident_id: UUID, who: Clinician, request: Request) -> IncidentDetail:
        return detail(
            await audited_read(sessions, audit.trail, clock, str(incident_id), who, request)
        )

    async def act(
        name: str,
        incident_id: str,
        who: Principal,
        request: Request,
        body: ClinicianAction | None,
        op: Callable[[AsyncSession], Awaitable[Incident]],
    ) -> IncidentDetail:
        before: tuple[datetime | None, datetime | None] = (None, None)
        try:
            async with sessions() as session:
                async with session.begin():
                    known = await own_incident(session, incident_id, who)
                    before = (known.acknowledged_at, known.resolved_at)
                    incident = await op(session)
                    incident_id_ = incident.id
                    audited = audit.by(
                        session,
                        who,
                        at=clock.now(),
                        action=f"incident_{name}",
                        target=f"incident:{incident_id}",
                        reason=body.reason if body else None,
                        source=source_of(request),
                        details=_audit_details(name, incident.outcome, body),
                    )
                async with sessions() as fresh:
                    result = detail(await incidents.get_incident(fresh, incident_id_))
        except incidents.NotFound:
            raise HTTPException(404, "incident not found") from None
        except incidents.Conflict as exc:
            raise HTTPException(409, str(exc)) from None
        except feedback.UnknownAlert as exc:
            raise HTTPException(422, str(exc)) from None
        metrics.actions.labels(name).inc()
        # Response times, once per incident: a repeated action changes no timestamp.
        if before[0] is None and result.acknowledged_at is not None:
            ack = (result.acknowledged_at - result.opened_at).total_seconds()
            metrics.time_to_acknowledge.labels(result.severity).observe(ack)
        if before[1] is None and result.resolved_at is not None:
            resolve = (result.resolved_at - result.opened_at).total_seconds()
            metrics.time_to_resolve.labels(result.severity).observe(resolve)
        log.info("clinician_action", action=name, incident_id=incident_id, actor=who.actor)
        on_commit()
        await audited.committed()
        return result

    @api.post("/{incident_id}/ack", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def acknowledge(
        incident_id: UUID, who: Clinician, request: Request, body: OptionalAction = None
    ) -> IncidentDetail:
        iid = str(incident_id)
        return await act(
            "acknowledge",
            iid,
            who,
            request,
            body,
            lambda s: incidents.acknowledge(
                s, incident_id=iid, clinician_id=who.subject, now=clock.now(), routing=routing
            ),
        )

    @api.post("/{incident_id}/join", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def join(
        incident_id: UUID, who: Clinician, request: Request, body: OptionalAction = None
    ) -> IncidentDetail:
        iid = str(incident_id)
        return await act(
            "join",
            iid,
            who,
            request,
            body,
            lambda s: incidents.join(
                s, incident_id=iid, clinician_id=who.subject, now=clock.now(), routing=routing
            ),
        )

    @api.post("/{incident_id}/resolve", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def resolve(
        incident_id: UUID, body: Resolution, who: Clinician, request: Request
    ) -> IncidentDetail:
        iid = str(incident_id)
        return await act(
            "resolve",
            iid,
            who,
            request,
            body,
            lambda s: incidents.resolve(
                s,
                incident_id=iid,
                clinician_id=who.subject,
                outcome=body.outcome,
                note=body.note,
                now=clock.now(),
                routing=routing,
                verdicts=body.given(),
            ),
        )

    @api.post("/{incident_id}/handback", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def hand_back(
        incident_id: UUID, who: Clinician, request: Request, body: OptionalAction = None
    ) -> IncidentDetail:
        """Give the conversation back to the AI (`resume_ai`); the incident stays open."""
        iid = str(incident_id)
        return await act(
            "hand_back",
            iid,
            who,
            request,
            body,
            lambda s: incidents.hand_back(
                s, incident_id=iid, clinician_id=who.subject, now=clock.now(), routing=routing
            ),
        )

    @api.post("/{incident_id}/reassign", response_model=IncidentDetail, responses=ACTION_ERRORS)
    async def reassign(
        incident_id: UUID, body: Reassignment, who: Clinician, request: Request
    ) -> IncidentDetail:
        iid = str(incident_id)

        async def op(session: AsyncSession) -> Incident:
            # Checked once the incident is known to be the caller's: another tenant's is a 404.
            await check_assignee(request, who, body.to)
            return await incidents.reassign(
                session,
                incident_id=iid,
                clinician_id=who.subject,
                to=body.to,
                now=clock.now(),
                routing=routing,
            )

        return await act("reassign", iid, who, request, body, op)

    return api


def _audit_details(name: str, outcome: str | None, body: ClinicianAction | None) -> dict[str, Any]:
    """Ids and labels only: the outcome and the verdicts of a resolution."""
    if name != "resolve":
        return {}
    verdicts = body.verdicts if isinstance(body, Resolution) else []
    if not verdicts:
        return {"outcome": outcome}
    return {"outcome": outcome, "verdicts": [v.verdict.value for v in verdicts]}
