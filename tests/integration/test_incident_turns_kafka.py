"""The incident's conversation timeline on a real broker and a real database (SQLite and
PostgreSQL): turns from two alerts kept once each, the live conversation joining while the
incident is open, another conversation never stored, and retention deleting the text."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from attune_escalation import turns
from attune_escalation.db import IncidentTurn
from attune_escalation.migrate import upgrade_async
from attune_escalation.retention import purge
from attune_schemas import AlertKind, MessageSent, Sender, Severity, encode
from tests.factories import alert, recent_turns
from tests.integration.services import escalation

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("not reached in time")


async def test_the_timeline_is_kept_once_follows_the_live_conversation_and_expires(
    bootstrap: str, prefix: str, producer: AIOKafkaProducer, database_url: str
) -> None:
    await upgrade_async(database_url)
    now = datetime.now(UTC)
    said = (
        (Sender.AI, "Have you tried a gratitude journal?"),
        (Sender.CLIENT, "That's not helpful."),
        (Sender.AI, "What would help right now?"),
        (Sender.CLIENT, "whatever"),
    )
    rupture = alert(conversation_id="c-t", at=now).model_copy(
        update={"recent_turns": recent_turns(*said[:3], until=now - timedelta(seconds=10))}
    )
    later = alert(
        conversation_id="c-t", kind=AlertKind.DISENGAGEMENT, severity=Severity.WARNING, at=now
    ).model_copy(update={"recent_turns": recent_turns(*said[1:], first=2, until=now)})

    def message(conversation: str, message_id: str, text: str) -> MessageSent:
        return MessageSent(
            event_id=uuid.uuid4(),
            conversation_id=conversation,
            tenant_id="tenant-a",
            occurred_at=now + timedelta(seconds=5),
            message_id=message_id,
            sender=Sender.CLINICIAN,
            text=text,
        )

    async with escalation(bootstrap, prefix, database_url, console_notifications=False) as (
        svc,
        client,
    ):
        sessions = svc.parts.sessions

        async def kept() -> list[tuple[str, str | None]]:
            listed = (await client.get("/v1/incidents")).json()
            if not listed:
                return []
            async with sessions() as session:
                return [(t.message_id, t.text) for t in await turns.of(session, listed[0]["id"])]

        async def has(n: int) -> bool:
            return len(await kept()) >= n

        for a in (rupture, later, later):  # the second alert redelivered
            await producer.send_and_wait(f"{prefix}alerts", encode(a), key=b"c-t")
        await eventually(lambda: has(4))
        for m in (
            message("c-other", "x1", "elsewhere"),
            message("c-t", "m5", "I'm Sam, with you."),
        ):
            await producer.send_and_wait(
                f"{prefix}conversation.events", encode(m), key=m.conversation_id.encode()
            )
        await eventually(lambda: has(5))

        assert await kept() == [
            ("m1", "Have you tried a gratitude journal?"),
            ("m2", "That's not helpful."),
            ("m3", "What would help right now?"),
            ("m4", "whatever"),
            ("m5", "I'm Sam, with you."),
        ]
        iid = (await client.get("/v1/incidents")).json()[0]["id"]
        resolved = await client.post(f"/v1/incidents/{iid}/resolve", json={"outcome": "repaired"})
        assert resolved.status_code == 200
        async with sessions() as session, session.begin():
            done = await purge(session, now=now + timedelta(days=31), keep_for=timedelta(days=30))
        async with sessions() as session:
            stored = (await session.scalars(select(IncidentTurn))).all()

    assert done.turns == 5
    assert len(stored) == 5 and all(row.text is None for row in stored)  # c-other: never stored
