"""A silence made through the escalation API reaches the router over Kafka and mutes a matching
rupture alert, which escalation still records; expiring it lifts the silence. Real broker, real
database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from attune_auth.principal import Role
from attune_escalation.db import Notification
from attune_escalation.migrate import upgrade_async
from attune_runtime.clock import SystemClock
from attune_schemas import encode
from tests.factories import assessment
from tests.identity import user_bearer
from tests.integration.services import escalation, router
from tests.unit.escalation_support import FakeNotifier

pytestmark = pytest.mark.integration


async def eventually(check: Any, within: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)
    return found


async def test_a_silence_from_the_api_mutes_a_rupture_in_the_router_until_it_is_expired(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer, database_url: str
) -> None:
    await upgrade_async(database_url)
    supervisor = user_bearer("tenant-a", Role.SUPERVISOR, SystemClock())
    assessments = f"{prefix}rupture.assessments"
    pager = FakeNotifier("console")
    async with (
        escalation(bootstrap, prefix, database_url, notifiers=[pager]) as (esc, client),
        router(bootstrap, prefix) as rtr,
    ):
        feed = rtr.parts.silences
        assert feed is not None
        made = await client.post(
            "/v1/silences",
            json={
                "matchers": {"kind": "rupture", "conversation_id": "c-quiet"},
                "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "comment": "integration rehearsal",
            },
            headers=supervisor,
        )
        assert made.status_code == 201, made.text
        sid = made.json()["id"]

        # Through escalation's outbox, the compacted topic, into the router's book.
        await eventually(lambda: _known(feed, sid))
        rupture = assessment(conversation_id="c-quiet", at=datetime.now(UTC), rupture=0.99)
        await producer.send_and_wait(assessments, encode(rupture), key=b"c-quiet")
        alerts = await reader(f"{prefix}alerts")
        [muted] = await alerts.wait_for(lambda v: len(v) >= 1)
        assert (muted["kind"], muted["silenced_by"]) == ("rupture", sid)

        # Recorded, with who muted it; nobody paged.
        recorded = await eventually(lambda: _incidents(client, "c-quiet"))
        [incident] = recorded
        detail = (await client.get(f"/v1/incidents/{incident['id']}")).json()
        assert detail["status"] == "resolved"
        assert [(e["action"], e["actor"]) for e in detail["timeline"]] == [
            ("opened", "system"),
            ("silenced", f"silence:{sid}"),
        ]
        assert await _pages(esc) == 0

        # Expired: the rupture, still going, goes out unsilenced and pages.
        expired = await client.post(f"/v1/silences/{sid}/expire", headers=supervisor)
        assert expired.status_code == 200 and expired.json()["state"] == "expired"
        await eventually(lambda: _expired(feed, sid))
        still = assessment(conversation_id="c-quiet", at=datetime.now(UTC), rupture=0.97)
        await producer.send_and_wait(assessments, encode(still), key=b"c-quiet")
        values = await alerts.wait_for(lambda v: len(v) >= 2)
        assert values[1]["alert_id"] == muted["alert_id"]
        assert values[1]["silenced_by"] is None
        both = await eventually(
            lambda: _incidents(client, "c-quiet", at_least=2)  # the muted one and a paging one
        )
        assert {i["status"] for i in both} == {"resolved", "open"}
        assert await eventually(lambda: _pages(esc)) >= 1
        assert rtr.parts.policy.silences.active(datetime.now(UTC)) == []


async def _known(feed: Any, sid: str) -> bool:
    return any(str(s) == sid for s in feed.book.silences)


async def _expired(feed: Any, sid: str) -> bool:
    return any(str(k) == sid and s.expired_by is not None for k, s in feed.book.silences.items())


async def _incidents(client: Any, conversation: str, at_least: int = 1) -> list[Any] | None:
    found = (
        await client.get("/v1/incidents", params={"status": "all", "conversation_id": conversation})
    ).json()
    return found if len(found) >= at_least else None


async def _pages(esc: Any) -> int:
    async with esc.parts.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification)) or 0)
