"""The recent messages of an incident's conversation, for the console's timeline.

Alerts carry the conversation's recent turns (client and AI, as the classifier's window keeps
them) when they fire. Escalation keeps them with the incident the alert joins, once per message
id whichever alert carried it, so the incident page shows one timeline. Only conversations with
an incident have turns here; retention deletes their text with the rest of the incident's text.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import Incident, IncidentTurn
from attune_schemas import RecentTurn


async def keep(session: AsyncSession, incident: Incident, turns: tuple[RecentTurn, ...]) -> int:
    """Store the turns the incident does not hold yet; returns how many were new."""
    if not turns:
        return 0
    held = set(
        await session.scalars(
            select(IncidentTurn.message_id).where(
                IncidentTurn.incident_id == incident.id,
                IncidentTurn.message_id.in_({t.message_id for t in turns}),
            )
        )
    )
    new = [t for t in {t.message_id: t for t in turns}.values() if t.message_id not in held]
    session.add_all(
        IncidentTurn(
            incident_id=incident.id,
            message_id=t.message_id,
            sender=t.sender.value,
            at=t.at,
            text=t.text,
        )
        for t in new
    )
    return len(new)


async def of(session: AsyncSession, incident_id: str) -> list[IncidentTurn]:
    """The incident's turns, oldest first."""
    found = await session.scalars(
        select(IncidentTurn)
        .where(IncidentTurn.incident_id == incident_id)
        .order_by(IncidentTurn.at, IncidentTurn.message_id)
    )
    return list(found.all())
