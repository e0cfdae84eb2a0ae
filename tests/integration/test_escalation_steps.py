"""Timers that survive, on SQLite and PostgreSQL: restart with deadlines pending, replicas racing.

The escalation store is real (a SQLite file, or a database of the PostgreSQL server
ATTUNE_TEST_POSTGRES_URL names); time is the injected clock.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from attune_escalation import incidents
from attune_escalation.db import IncidentEvent, OutboxMessage, make_engine, make_sessions
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.migrate import upgrade_async
from attune_escalation.outbox import OUTBOX_TOPICS, OutboxRelay
from attune_escalation.timeline import control
from attune_runtime.clock import ManualClock
from attune_schemas import AlertKind, ControlAction, Severity
from tests.factories import T0, alert
from tests.unit.escalation_desk import Desk
from tests.unit.escalation_support import Sessions

pytestmark = pytest.mark.integration


@asynccontextmanager
async def store(url: str) -> AsyncIterator[Sessions]:
    """One process's connection pool: disposing it is what a killed replica leaves behind."""
    engine = make_engine(url)
    try:
        yield make_sessions(engine)
    finally:
        await engine.dispose()


async def open_crises(desk: Desk, n: int) -> list[str]:
    ids = []
    for i in range(n):
        a = alert(conversation_id=f"c-{i}", kind=AlertKind.CRISIS, severity=Severity.CRITICAL)
        async with desk.sessions() as session, session.begin():
            result = await incidents.apply_alert(
                session, alert=a, now=desk.clock.now(), routing=desk.routing
            )
        assert result.incident_id is not None
        ids.append(result.incident_id)
    return ids


async def escalations(sessions: Sessions) -> Counter[tuple[str, Any]]:
    async with sessions() as session:
        rows = (
            await session.scalars(select(IncidentEvent).where(IncidentEvent.action == "escalated"))
        ).all()
    return Counter((e.incident_id, (e.details["round"], e.details["tier"])) for e in rows)


async def test_after_a_restart_every_overdue_step_runs_once_on_the_first_pass(
    database_url: str,
) -> None:
    await upgrade_async(database_url)
    clock = ManualClock(T0)
    async with store(database_url) as before:
        ids = await open_crises(Desk(before, clock), 100)
    # Killed with 100 tier-2 deadlines pending (due at 120 s); back at 600 s.
    clock.set(T0 + timedelta(seconds=600))
    async with store(database_url) as after:
        desk = Desk(after, clock)

        assert await desk.scheduler.run_due() == 100
        assert await desk.scheduler.run_due() == 0
        assert await desk.scheduler.run_due() == 0

        paged = await escalations(after)
        assert set(paged) == {(i, (1, t)) for i in ids for t in (1, 2)}
        assert set(paged.values()) == {1}
        late = [p for p in await desk.pages() if p.tier == 2]
        assert len(late) == 100 and {p.at for p in late} == {600}


@pytest.mark.postgres
async def test_two_replicas_never_run_the_same_step_twice(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one replica; replicas share PostgreSQL")
    await upgrade_async(database_url)
    clock = ManualClock(T0)
    async with store(database_url) as first, store(database_url) as second:
        one, two = Desk(first, clock), Desk(second, clock)
        ids = await open_crises(one, 200)
        clock.set(T0 + timedelta(seconds=120))

        ran = await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())

        assert sum(ran) == 200
        paged = await escalations(first)
        assert set(paged) == {(i, (1, t)) for i in ids for t in (1, 2)}
        assert set(paged.values()) == {1}


class SlowBroker:
    """Publishes with a pause, so two relays would interleave if both were allowed to run."""

    def __init__(self) -> None:
        self.published: list[tuple[bytes, str]] = []

    async def publish(self, body: bytes, *, key: bytes, headers: Any) -> None:
        await asyncio.sleep(0.001)
        self.published.append((key, json.loads(body)["action"]))


@pytest.mark.postgres
async def test_two_outbox_relays_keep_each_conversations_control_events_in_order(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one replica; replicas share PostgreSQL")
    await upgrade_async(database_url)
    clock = ManualClock(T0)
    async with store(database_url) as sessions:
        desk = Desk(sessions, clock)
        ids = await open_crises(desk, 3)
        async with sessions() as session, session.begin():
            for _ in range(20):  # a backlog of pause/resume pairs per conversation
                for iid in ids:
                    incident = await incidents.get_incident(session, iid)
                    for action in (ControlAction.RESUME_AI, ControlAction.PAUSE_AI):
                        control(
                            session, incident, action, clock.now(), reason="t", clinician_id=None
                        )
        async with sessions() as session:
            staged = [
                (r.key.encode(), json.loads(r.payload)["action"])
                for r in (
                    await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                ).all()
            ]
        broker = SlowBroker()
        async with store(database_url) as other:
            relays = [
                OutboxRelay(
                    sessions=s,
                    publishers=dict.fromkeys(OUTBOX_TOPICS, broker),  # one fake for every topic
                    clock=clock,
                    metrics=EscalationMetrics(CollectorRegistry()),
                    poll_seconds=0.01,
                    batch=7,
                )
                for s in (sessions, other)
            ]

            async def drain(relay: OutboxRelay) -> None:
                while await relay.pending():
                    await relay.relay_once()
                    await asyncio.sleep(0)

            await asyncio.gather(*(drain(r) for r in relays))

    for key in {k for k, _ in staged}:
        assert [a for k, a in broker.published if k == key] == [a for k, a in staged if k == key]


async def test_a_crisis_timeline_reads_the_same_on_either_database(database_url: str) -> None:
    """Tier 1 at once, tier 2 at its deadline, acknowledged, reminded, resolved: both stores."""
    await upgrade_async(database_url)
    async with store(database_url) as sessions:
        desk = Desk(sessions, ManualClock(T0))
        opened = await desk.push(alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL), at=0)
        assert opened.incident_id is not None
        await desk.tick(to=120)
        await desk.act(incidents.acknowledge, opened.incident_id, at=150, clinician_id="dr-cy")
        await desk.tick(to=1050)
        await desk.act(
            incidents.resolve,
            opened.incident_id,
            at=1100,
            clinician_id="dr-cy",
            outcome=incidents.Outcome.CLIENT_SAFE,
            note=None,
        )
        await desk.tick(to=5000)

        pages = [(p.at, p.reason, p.tier, p.recipients) for p in await desk.pages()]
    assert pages == [
        (0, "opened", 1, ["dr-ada"]),
        (120, "escalated", 2, ["dr-cy"]),
        (1050, "renotify", None, ["dr-cy"]),
        (1100, "resolved", None, ["dr-cy"]),
    ]
