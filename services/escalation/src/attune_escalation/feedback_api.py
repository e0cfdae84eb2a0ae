"""The admin's export of the clinicians' verdicts: training examples and precision labels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import AuditTrail
from attune_auth.guard import Admin, source_of
from attune_escalation import feedback
from attune_escalation.http_errors import StrictJsonRoute, error_responses
from attune_runtime.clock import Clock


class FeedbackExport(BaseModel):
    examples: list[dict[str, Any]] = Field(
        description="Rows in the corpus format of models/ (models/corpus/FORMAT.md): client text."
    )
    verdicts: list[dict[str, Any]] = Field(
        description="Every verdict with its alert kind and model version; ids only."
    )
    skipped: int = Field(description="Verdicts with no example (text deleted, or no label).")


def router(
    *, sessions: async_sessionmaker[AsyncSession], clock: Clock, audit: AuditTrail
) -> APIRouter:
    api = APIRouter(prefix="/v1/feedback", tags=["feedback"], route_class=StrictJsonRoute)

    @api.get("", response_model=FeedbackExport, responses=error_responses(401, 403))
    async def export_feedback(who: Admin, request: Request) -> FeedbackExport:
        """The caller's tenant's verdicts; the export holds client text, so it is audited."""
        async with sessions() as session:
            found = await feedback.export(session, tenant_id=who.tenant_id)
        await audit.append(
            who,
            at=clock.now(),
            action="feedback_exported",
            target="feedback",
            source=source_of(request),
            details={"examples": len(found.examples), "verdicts": len(found.verdicts)},
        )
        return FeedbackExport(
            examples=found.examples, verdicts=found.verdicts, skipped=found.skipped
        )

    return api
