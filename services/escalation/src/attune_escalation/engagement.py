"""The client's engagement over a conversation, for the console's chart: numbers only.

Every assessment on `rupture.assessments` carries the client's reply length and latency against
the client's own baseline in that conversation (the classifier's `Engagement`). Escalation keeps
those numbers per conversation for `ENGAGEMENT_WINDOW` back from the newest, so an incident page
can show how engagement moved before and during the rupture. No text is stored. A record that
cannot be read is the router's to dead-letter (it reads the same topic); here it is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import EngagementPoint
from attune_schemas import RuptureAssessment

ENGAGEMENT_WINDOW = timedelta(hours=24)
CHART_POINTS = 40


async def record(session: AsyncSession, a: RuptureAssessment) -> bool:
    """Store the assessment's engagement (once per assessment); False when already there or
    when it says nothing about the client's replies."""
    e = a.engagement
    if e.reply_length_ratio is None and e.reply_latency_ratio is None:
        return False
    if await session.get(EngagementPoint, str(a.event_id)) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                EngagementPoint(
                    assessment_id=str(a.event_id),
                    tenant_id=a.tenant_id,
                    conversation_id=a.conversation_id,
                    at=a.occurred_at,
                    reply_length_ratio=e.reply_length_ratio,
                    reply_latency_ratio=e.reply_latency_ratio,
                    minimal_response_streak=e.minimal_response_streak,
                )
            )
    except IntegrityError:
        return False  # a replica stored it first
    await session.execute(
        delete(EngagementPoint).where(
            EngagementPoint.tenant_id == a.tenant_id,
            EngagementPoint.conversation_id == a.conversation_id,
            EngagementPoint.at < a.occurred_at - ENGAGEMENT_WINDOW,
        )
    )
    return True


@dataclass(frozen=True)
class Point:
    at: datetime
    length: float | None
    latency: float | None
    streak: int


async def trend(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, until: datetime | None
) -> list[Point]:
    """The conversation's last CHART_POINTS client replies (up to `until`), oldest first."""
    query = select(EngagementPoint).where(
        EngagementPoint.tenant_id == tenant_id, EngagementPoint.conversation_id == conversation_id
    )
    if until is not None:
        query = query.where(EngagementPoint.at <= until)
    rows = (
        await session.scalars(query.order_by(EngagementPoint.at.desc()).limit(CHART_POINTS))
    ).all()
    return [
        Point(r.at, r.reply_length_ratio, r.reply_latency_ratio, r.minimal_response_streak)
        for r in reversed(rows)
    ]
