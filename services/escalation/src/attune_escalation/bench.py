"""`make bench-escalation`: how late deadline pages run with 10,000 open incidents, and how long
a crisis alert takes to reach its first page, each against a baseline measured in the same run.

The real scheduler, delivery workers and database (a SQLite file, one replica) run on the
wall clock. Deadlines: N open incidents whose tier-2 deadlines fall due spread over
`--spread` seconds; lateness = when the page was queued − when it was due. Crisis: alerts
applied as the consumer applies them while that load runs; latency = alert applied → the
console channel's send, with a second channel that takes 2 s to answer every request.
Baseline: the same measurements with 100 open incidents and no slow channel.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_escalation import incidents
from attune_escalation.db import (
    EscalationTimer,
    IncidentEvent,
    Notification,
    make_engine,
    make_sessions,
)
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.migrate import upgrade_async
from attune_escalation.notify.delivery import Delivery
from attune_escalation.policies import EscalationConfig, Policy, Tier
from attune_escalation.routing import Routing
from attune_escalation.steps import Scheduler
from attune_runtime.clock import SystemClock
from attune_schemas import Alert, AlertKind, AlertStatus, Evidence, MarkerFamily, Severity

Sessions = async_sessionmaker[AsyncSession]


def crisis_alert(conversation_id: str, *, severity: Severity = Severity.CRITICAL) -> Alert:
    return Alert(
        event_id=uuid.uuid4(),
        conversation_id=conversation_id,
        tenant_id="bench",
        occurred_at=datetime.now(UTC),
        alert_id=uuid.uuid4(),
        status=AlertStatus.FIRING,
        kind=AlertKind.CRISIS,
        severity=severity,
        risk=0.97,
        assessment_ids=(uuid.uuid4(),),
        evidence=(
            Evidence(marker="plan", family=MarkerFamily.CRISIS, message_id="m1", excerpt="-"),
        ),
        model_version="bench",
    )


class Console:
    """Records when each page reached it (the clinician's terminal)."""

    channel = "console"

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        self.arrived.setdefault(str(payload["conversation_id"]), time.monotonic())


class SlowWebhook:
    """A pager that takes `seconds` to answer every request."""

    channel = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        await asyncio.sleep(self.seconds)


@dataclass
class Result:
    open_incidents: int
    lateness: list[float]
    crisis_latency: list[float]


def routing(channels: tuple[str, ...]) -> Routing:
    tiers = [Tier(ack_deadline_seconds=3600), Tier(ack_deadline_seconds=3600)]
    config = EscalationConfig(policies=[Policy(name="bench", tiers=tiers)])
    return Routing(
        config=config, channels=channels, public_url="http://bench", group_wait=timedelta(0)
    )


async def seed(sessions: Sessions, route: Routing, n: int, spread: float, lead: float) -> None:
    """N open incidents, tier 1 paged; their tier-2 deadlines spread over [lead, lead+spread]."""
    now = datetime.now(UTC)
    for start in range(0, n, 500):
        async with sessions() as session, session.begin():
            for i in range(start, min(n, start + 500)):
                await incidents.apply_alert(
                    session, alert=crisis_alert(f"open-{i}"), now=now, routing=route
                )
    async with sessions() as session, session.begin():
        await session.execute(update(Notification).values(status="sent", sent_at=now))
        ids = (await session.scalars(select(EscalationTimer.incident_id))).all()
        rng = random.Random(7)
        base = datetime.now(UTC) + timedelta(seconds=lead)
        for incident_id in ids:
            due = base + timedelta(seconds=rng.uniform(0, spread))
            await session.execute(
                update(EscalationTimer)
                .where(EscalationTimer.incident_id == incident_id)
                .values(due_at=due)
            )


async def run(n: int, *, spread: float, crises: int, slow: float | None, url: str) -> Result:
    await upgrade_async(url)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    clock = SystemClock()
    metrics = EscalationMetrics(CollectorRegistry())
    console = Console()
    notifiers: dict[str, Any] = {"console": console}
    if slow is not None:
        notifiers["slow"] = SlowWebhook(slow)
    route = routing(tuple(notifiers))
    lead = 5.0
    await seed(sessions, route, n, spread, lead)
    async with sessions() as session:
        due = {
            t.incident_id: t.due_at for t in (await session.scalars(select(EscalationTimer))).all()
        }
    scheduler = Scheduler(
        sessions=sessions, routing=route, clock=clock, metrics=metrics, poll_seconds=0.5
    )
    delivery = Delivery(
        sessions=sessions,
        notifiers=notifiers,
        clock=clock,
        metrics=metrics,
        max_attempts=3,
        backoff_seconds=1,
        backoff_max_seconds=5,
        poll_seconds=0.5,
    )
    scheduler.on_step = delivery.wakeup
    workers = [asyncio.create_task(scheduler.run()), asyncio.create_task(delivery.run())]
    applied: dict[str, float] = {}
    try:
        await asyncio.sleep(lead)
        gap = spread / max(1, crises)
        for i in range(crises):  # crisis alerts arrive while the deadlines fall due
            cid = f"crisis-{i}"
            applied[cid] = time.monotonic()
            async with sessions() as session, session.begin():
                await incidents.apply_alert(
                    session, alert=crisis_alert(cid), now=clock.now(), routing=route
                )
            delivery.wakeup.set()
            await asyncio.sleep(gap)
        deadline = time.monotonic() + spread + 120
        while time.monotonic() < deadline:
            async with sessions() as session:
                left = (
                    await session.scalars(
                        select(EscalationTimer.incident_id).where(
                            EscalationTimer.incident_id.in_(list(due)),
                            EscalationTimer.due_at <= max(due.values()),
                        )
                    )
                ).all()
            if not left and all(c in console.arrived for c in applied):
                break
            await asyncio.sleep(0.5)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    async with sessions() as session:
        paged = (
            await session.scalars(select(IncidentEvent).where(IncidentEvent.action == "escalated"))
        ).all()
    await engine.dispose()
    lateness = [
        (e.at - due[e.incident_id]).total_seconds()
        for e in paged
        if e.details.get("tier") == 2 and e.incident_id in due
    ]
    latency = [console.arrived[c] - t for c, t in applied.items() if c in console.arrived]
    return Result(n, lateness, latency)


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def report(name: str, base: list[float], load: list[float], unit: str = "ms") -> None:
    for q in (50, 99):
        b, v = pct(base, q) * 1000, pct(load, q) * 1000
        print(f"  {name} p{q}: {v:8.1f} {unit}   baseline {b:8.1f} {unit}   ratio {v / b:6.2f}x")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:

        def url(name: str) -> str:
            return f"sqlite+aiosqlite:///{Path(tmp) / name}.db"

        base = await run(
            100, spread=args.spread, crises=args.crises, slow=None, url=url("baseline")
        )
        load = await run(
            args.incidents, spread=args.spread, crises=args.crises, slow=2.0, url=url("load")
        )
    print(
        f"deadline pages: {len(load.lateness)} tier-2 deadlines over {args.spread:.0f} s with "
        f"{load.open_incidents} open incidents (baseline: {len(base.lateness)} with 100)"
    )
    report("lateness", base.lateness, load.lateness)
    print(
        f"crisis alert -> first page (console), {len(load.crisis_latency)} crises during that "
        "load, a second channel answering in 2 s (baseline: no load, no slow channel)"
    )
    report("latency", base.crisis_latency, load.crisis_latency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the deadlines span")
    parser.add_argument("--crises", type=int, default=100)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
