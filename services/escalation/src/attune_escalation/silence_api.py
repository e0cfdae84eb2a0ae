"""The silences API: supervisors and admins create and expire silences; clinicians list them.

The creator is the token's user and the tenant the token's tenant, never the body's. Another
tenant's silence is not found.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import ActionAudit
from attune_auth.guard import Clinician, Supervisor, source_of
from attune_escalation import silences
from attune_escalation.api import NO_NUL
from attune_escalation.db import Silence
from attune_escalation.http_errors import StrictJsonRoute, error_responses
from attune_runtime.clock import Clock
from attune_schemas import SilenceMatchers
from attune_schemas.common import UtcDatetime

log = structlog.get_logger(__name__)


class NewSilence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: SilenceMatchers = Field(
        description="What to silence in the caller's tenant: `kind` (rupture or disengagement)"
        " is required unless `severity` is warning; crisis and critical are refused."
    )
    starts_at: UtcDatetime | None = Field(default=None, description="Default (and earliest): now.")
    ends_at: UtcDatetime = Field(description="At most 30 days after the start.")
    comment: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)] = Field(
        description="Why (no conversation text, please)."
    )


class SilenceAnswer(BaseModel):
    id: str
    tenant_id: str
    matchers: SilenceMatchers
    starts_at: datetime
    ends_at: datetime
    state: silences.State
    created_by: str
    created_at: datetime
    comment: str
    expired_at: datetime | None
    expired_by: str | None


def answer(s: Silence, now: datetime) -> SilenceAnswer:
    return SilenceAnswer(
        id=s.id,
        tenant_id=s.tenant_id,
        matchers=silences.matchers_of(s),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        state=silences.state_of(s, now),
        created_by=s.created_by,
        created_at=s.created_at,
        comment=s.comment,
        expired_at=s.expired_at,
        expired_by=s.expired_by,
    )


FIELD_NAMES = frozenset(
    {*NewSilence.model_fields, *SilenceMatchers.model_fields, "silence_id", "state"}
)


def router(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    on_commit: Callable[[], None],
    audit: ActionAudit,
) -> APIRouter:
    """As for incidents, `audit` decides where each change's audit record is written."""
    api = APIRouter(prefix="/v1/silences", tags=["silences"], route_class=StrictJsonRoute)

    @api.post(
        "",
        status_code=201,
        response_model=SilenceAnswer,
        responses=error_responses(400, 401, 403, 413, 422),
    )
    async def create(body: NewSilence, who: Supervisor, request: Request) -> SilenceAnswer:
        now = clock.now()
        try:
            async with sessions() as session, session.begin():
                created = await silences.create(
                    session,
                    tenant_id=who.tenant_id,
                    created_by=who.subject,
                    matchers=body.matchers,
                    starts_at=body.starts_at,
                    ends_at=body.ends_at,
                    comment=body.comment,
                    now=now,
                )
                audited = audit.by(
                    session,
                    who,
                    at=now,
                    action="silence_created",
                    target=f"silence:{created.id}",
                    source=source_of(request),
                    details={"ends_at": created.ends_at.isoformat()},
                )
        except silences.Refused as refused:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", *refused.field.split(".")),
                        "msg": refused.reason,
                    }
                ]
            ) from None
        on_commit()
        log.info("silence_created", silence_id=created.id, actor=who.actor)
        await audited.committed()
        return answer(created, now)

    @api.get("", response_model=list[SilenceAnswer], responses=error_responses(401, 403, 422))
    async def list_silences(
        who: Clinician,
        state: Literal["current", "all"] = "current",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[SilenceAnswer]:
        now = clock.now()
        async with sessions() as session:
            found = await silences.listed(
                session,
                tenant_id=who.tenant_id,
                now=now,
                include_expired=state == "all",
                limit=limit,
            )
        return [answer(s, now) for s in found]

    @api.post(
        "/{silence_id}/expire",
        response_model=SilenceAnswer,
        responses=error_responses(401, 403, 404, 422),
    )
    async def expire(silence_id: UUID, who: Supervisor, request: Request) -> SilenceAnswer:
        now = clock.now()
        try:
            async with sessions() as session, session.begin():
                expired = await silences.expire(
                    session,
                    silence_id=str(silence_id),
                    tenant_id=who.tenant_id,
                    by=who.subject,
                    now=now,
                )
                audited = audit.by(
                    session,
                    who,
                    at=now,
                    action="silence_expired",
                    target=f"silence:{expired.id}",
                    source=source_of(request),
                )
        except silences.NotFound:
            raise HTTPException(404, "silence not found") from None
        on_commit()
        log.info("silence_expired", silence_id=expired.id, actor=who.actor)
        await audited.committed()
        return answer(expired, now)

    return api
