"""The client's engagement over a conversation, for the console's chart: numbers only.

Every assessment on `rupture.assessments` carries the client's reply length and latency against
the client's own baseline in that conversation (the classifier's `Engagement`). Escalation keeps
those numbers per conversation for `ENGAGEMENT_WINDOW` back from the newest, so an incident page
can show how engagement moved before and during the rupture. No text is stored. A record that
cannot be read is the router's to dead-letter (it reads the same topic); here it is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import EngagementPoint
from attune_schemas import RuptureAssessment

ENGAGEMENT_WINDOW = timedelta(hours=24)
CHART_POINTS = 40


async def record(session: AsyncSession, assessments: Sequence[RuptureAssessment]) -> int:
    """Store each assessment's engagement, once per assessment; how many were new.

    A batch costs a few statements whatever its size (the chart reads every assessment): which
    are stored already, the new rows, and what aged out of their conversations. An assessment
    that says nothing about the client's replies is not stored. A replica that stored one
    first fails this transaction: it is retried, and then skips it.
    """
    wanted = {
        str(a.event_id): a
        for a in assessments
        if a.engagement.reply_length_ratio is not None
        or a.engagement.reply_latency_ratio is not None
    }
    if not wanted:
        return 0
    stored = set(
        await session.scalars(
            select(EngagementPoint.assessment_id).where(EngagementPoint.assessment_id.in_(wanted))
        )
    )
    new = [a for event_id, a in wanted.items() if event_id not in stored]
    if not new:
        return 0
    await session.execute(insert(EngagementPoint), [_row(a) for a in new])
    newest: dict[tuple[str, str], datetime] = {}
    for a in new:
        key = (a.tenant_id, a.conversation_id)
        newest[key] = max(newest.get(key, a.occurred_at), a.occurred_at)
    await session.execute(
        delete(EngagementPoint).where(
            or_(
                *(
                    and_(
                        EngagementPoint.tenant_id == tenant_id,
                        EngagementPoint.conversation_id == conversation_id,
                        EngagementPoint.at < at - ENGAGEMENT_WINDOW,
                    )
                    for (tenant_id, conversation_id), at in newest.items()
                )
            )
        )
    )
    return len(new)


def _row(a: RuptureAssessment) -> dict[str, Any]:
    e = a.engagement
    return {
        "assessment_id": str(a.event_id),
        "tenant_id": a.tenant_id,
        "conversation_id": a.conversation_id,
        "at": a.occurred_at,
        "reply_length_ratio": e.reply_length_ratio,
        "reply_latency_ratio": e.reply_latency_ratio,
        "minimal_response_streak": e.minimal_response_streak,
    }


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
