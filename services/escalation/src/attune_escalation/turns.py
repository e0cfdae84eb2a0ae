"""The recent messages of an incident's conversation, for the console's timeline.

Alerts carry the conversation's recent turns (client and AI, as the classifier's window keeps
them) when they fire. Escalation keeps them with the incident the alert joins, once per message
id whichever alert carried it, so the incident page shows one timeline. While the incident is
open, the conversation's new messages (`conversation.events`) join it as they arrive, so a
clinician who joined sees the live conversation. Only conversations with an open incident have
turns here: any other conversation's message is read and dropped, never stored. Retention
deletes their text with the rest of the incident's text.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation.db import Incident, IncidentTurn
from attune_escalation.lifecycle import Status
from attune_schemas import MessageSent, RecentTurn

TEXT_KEEP = 400  # characters of a message kept, as the classifier's window keeps them


async def keep(session: AsyncSession, incident_id: str, turns: tuple[RecentTurn, ...]) -> int:
    """Store the turns the incident does not hold yet; returns how many were new."""
    if not turns:
        return 0
    held = set(
        await session.scalars(
            select(IncidentTurn.message_id).where(
                IncidentTurn.incident_id == incident_id,
                IncidentTurn.message_id.in_({t.message_id for t in turns}),
            )
        )
    )
    new = [t for t in {t.message_id: t for t in turns}.values() if t.message_id not in held]
    rows = [
        IncidentTurn(
            incident_id=incident_id,
            message_id=t.message_id,
            sender=t.sender.value,
            at=t.at,
            text=t.text,
        )
        for t in new
    ]
    try:
        async with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:
        # The alert consumer and the conversation consumer may store the same message at
        # once: one at a time, skipping what the other stored.
        stored = 0
        for row in rows:
            try:
                async with session.begin_nested():
                    session.add(row)
                stored += 1
            except IntegrityError:
                continue
        return stored
    return len(rows)


async def follow(session: AsyncSession, event: MessageSent) -> bool:
    """Add a new message to its conversation's open incident, if there is one; True if added.

    Only messages from the incident's kept turns on (or from its opening, when it keeps none)
    join it: a replay of older traffic does not reach further back than the alerts did.
    """
    found = (
        await session.execute(
            select(Incident.id, Incident.opened_at).where(
                Incident.tenant_id == event.tenant_id,
                Incident.conversation_id == event.conversation_id,
                Incident.status != Status.RESOLVED.value,
            )
        )
    ).first()
    if found is None:
        return False
    incident_id, opened_at = found
    since = await session.scalar(
        select(func.min(IncidentTurn.at)).where(IncidentTurn.incident_id == incident_id)
    )
    if event.occurred_at < (since or opened_at):
        return False
    turn = RecentTurn(
        message_id=event.message_id,
        sender=event.sender,
        at=event.occurred_at,
        text=event.text[:TEXT_KEEP],
    )
    return await keep(session, incident_id, (turn,)) == 1


async def of(session: AsyncSession, incident_id: str) -> list[IncidentTurn]:
    """The incident's turns, oldest first."""
    found = await session.scalars(
        select(IncidentTurn)
        .where(IncidentTurn.incident_id == incident_id)
        .order_by(IncidentTurn.at, IncidentTurn.message_id)
    )
    return list(found.all())
