"""A silence made through the escalation API reaches the router over Kafka and mutes a matching
rupture alert, which escalation still records; expiring it lifts the silence; a restarted router
rebuilds a silenced episode silenced. Real broker, real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from attune_auth.principal import Role
from attune_escalation.db import Notification
from attune_escalation.migrate import upgrade_async
from attune_router.silence_feed import SilenceFeed
from attune_runtime.clock import SystemClock
from attune_runtime.replay import WarmUp
from attune_schemas import AlertKind, Silence, SilenceMatchers, encode
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


async def test_a_silenced_episode_is_rebuilt_silenced_after_a_router_restart(
    bootstrap: str,
    prefix: str,
    reader: Any,
    producer: AIOKafkaProducer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    quiet = Silence(
        event_id=uuid.uuid4(),
        silence_id=uuid.uuid4(),
        tenant_id="tenant-a",
        matchers=SilenceMatchers(conversation_id="c-muted", kind=AlertKind.RUPTURE),
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(minutes=1),
        created_by="supervisor@tenant-a",
        created_at=now - timedelta(minutes=1),
        comment="restart rehearsal",
    )
    await producer.send_and_wait(
        f"{prefix}silences", encode(quiet), key=str(quiet.silence_id).encode()
    )
    assessments = f"{prefix}rupture.assessments"
    async with router(bootstrap, prefix):
        rupture = assessment(conversation_id="c-muted", at=now, rupture=0.99)
        await producer.send_and_wait(assessments, encode(rupture), key=b"c-muted")
        alerts = await reader(f"{prefix}alerts")
        [muted] = await alerts.wait_for(lambda v: len(v) >= 1)
        assert muted["silenced_by"] == str(quiet.silence_id)

    # Restarted, the silences arrive only once the assessments' partitions are assigned (a
    # slow read of the silences topic, made certain): the rebuild must wait for them all the same.
    assigned = asyncio.Event()
    on_assigned, apply = WarmUp.on_partitions_assigned, SilenceFeed.apply
    late: set[asyncio.Task[None]] = set()

    async def assigning(warm_up: WarmUp, partitions: set[Any]) -> None:
        assigned.set()
        await on_assigned(warm_up, partitions)

    def arriving_late(feed: SilenceFeed, records: Any) -> None:
        async def after_assignment() -> None:
            await assigned.wait()
            apply(feed, records)

        task = asyncio.create_task(after_assignment())  # waiters wake in order: order holds
        late.add(task)
        task.add_done_callback(late.discard)

    monkeypatch.setattr(WarmUp, "on_partitions_assigned", assigning)
    monkeypatch.setattr(SilenceFeed, "apply", arriving_late)
    async with router(bootstrap, prefix) as rtr:
        await eventually(lambda: _replayed(rtr))
        episode = rtr.parts.policy.states[("tenant-a", "c-muted")].open[AlertKind.RUPTURE]
        assert episode.silenced_by == quiet.silence_id
        # The rupture outlasts its silence: it goes out again, unsilenced, and pages.
        still = assessment(conversation_id="c-muted", at=now + timedelta(minutes=2), rupture=0.95)
        await producer.send_and_wait(assessments, encode(still), key=b"c-muted")
        values = await alerts.wait_for(lambda v: len(v) >= 2)
    assert (values[1]["alert_id"], values[1]["silenced_by"]) == (muted["alert_id"], None)


async def _replayed(rtr: Any) -> bool:
    return bool(rtr.parts.warm_up.replayed)
