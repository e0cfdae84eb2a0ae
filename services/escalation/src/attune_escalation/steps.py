"""Escalation steps: timers are rows; the scheduler runs each due step once.

An incident has at most one timer per purpose (`escalation_timers`). A step runs in its own
transaction, claimed with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (several replicas
share the table) and only while the token it read is still the row's: a duplicate or stale run
(another replica ran it first, an acknowledgement changed the plan) does nothing. After a
restart every overdue row is simply due: it runs on the first pass, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_escalation import oncall
from attune_escalation.db import EscalationTimer, Incident, TeamCursor
from attune_escalation.lifecycle import Status, census
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.notification_queue import enqueue
from attune_escalation.policies import EscalationConfig, Target
from attune_escalation.routing import Routing
from attune_escalation.timeline import record_event
from attune_runtime.clock import Clock
from attune_schemas import EscalationAction, Severity

log = structlog.get_logger(__name__)


class Purpose(StrEnum):
    ESCALATION = "escalation"  # page the next tier, or remind after an acknowledgement
    UPDATE = "update"  # tell who was paged what was added since (the group interval)


class Action(StrEnum):
    PAGE = "page"
    RENOTIFY = "renotify"
    UPDATE = "update"
    EXHAUSTED = "exhausted"


async def set_timer(
    session: AsyncSession,
    incident: Incident,
    *,
    purpose: Purpose,
    action: Action,
    due: datetime,
    tier: int = 0,
    round_: int = 0,
) -> EscalationTimer:
    """Create or replace the incident's timer for `purpose`, with a fresh token."""
    timer = await session.get(EscalationTimer, (incident.id, purpose.value))
    if timer is None:
        timer = EscalationTimer(incident_id=incident.id, purpose=purpose.value)
        session.add(timer)
    timer.action, timer.tier, timer.round = action.value, tier, round_
    timer.due_at, timer.token = due, str(uuid.uuid4())
    return timer


async def timer_of(
    session: AsyncSession, incident: Incident, purpose: Purpose
) -> EscalationTimer | None:
    return await session.get(EscalationTimer, (incident.id, purpose.value))


async def clear_timers(session: AsyncSession, incident: Incident) -> None:
    await session.execute(delete(EscalationTimer).where(EscalationTimer.incident_id == incident.id))


async def recipients(
    session: AsyncSession, config: EscalationConfig, target: Target, now: datetime, tenant_id: str
) -> list[str]:
    """The clinician a target names at `now`: a schedule's on-call (with the shifts the
    tenant's clinicians took), a person, a team's next."""
    if target.clinician is not None:
        return [target.clinician]
    if target.schedule is not None:
        schedule = config.schedules.get(target.schedule)
        if schedule is None:
            return []
        return [
            await oncall.on_call(
                session, tenant_id=tenant_id, name=target.schedule, schedule=schedule, at=now
            )
        ]
    members = config.teams.get(target.team or "", [])
    if not members:
        return []
    # Replicas may page the same team at once: create the row without a race, then lock it.
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(TeamCursor).values(team=target.team, position=0).on_conflict_do_nothing()
    )
    cursor = await session.get(
        TeamCursor, target.team, with_for_update=True, populate_existing=True
    )
    assert cursor is not None
    chosen = members[cursor.position % len(members)]
    cursor.position = (cursor.position + 1) % len(members)
    return [chosen]


async def page(
    session: AsyncSession,
    incident: Incident,
    *,
    tier: int,
    round_: int,
    now: datetime,
    routing: Routing,
    key: str,
    reason: str,
) -> list[str]:
    """Page one tier of the incident's chain now and set the timer for its deadline."""
    chain = routing.chain_of(incident)
    step = chain.tiers[tier]
    who: list[str] = []
    for target in step.notify:
        named = await recipients(session, routing.config, target, now, incident.tenant_id)
        who += [c for c in named if c not in who]
    queued = await enqueue(
        session,
        incident,
        reason=reason,
        key=f"page:{round_}:{tier}:{key}",
        now=now,
        routing=routing,
        recipients=who,
        extra={"tier": tier + 1, "round": round_ + 1},
        first_page=incident.first_paged_at is None,
    )
    incident.assignees = who
    incident.first_paged_at = incident.first_paged_at or now
    incident.updated_at = now
    record_event(
        session,
        incident,
        EscalationAction.ESCALATED,
        "system",
        now,
        {
            "policy": chain.policy,
            "tier": tier + 1,
            "round": round_ + 1,
            "recipients": who,
            "channels": queued,
        },
        cause=f"{round_}:{tier}:{key}",
    )
    deadline = now + timedelta(seconds=step.ack_deadline_seconds)
    if tier + 1 < len(chain.tiers):
        nxt = (Action.PAGE, tier + 1, round_)
    elif round_ + 1 < chain.repeat:
        nxt = (Action.PAGE, 0, round_ + 1)
    else:
        nxt = (Action.EXHAUSTED, tier, round_)
    action, next_tier, next_round = nxt
    await set_timer(
        session,
        incident,
        purpose=Purpose.ESCALATION,
        action=action,
        due=deadline,
        tier=next_tier,
        round_=next_round,
    )
    log.info(
        "tier_paged",
        incident_id=incident.id,
        tier=tier + 1,
        round=round_ + 1,
        recipients=who,
        channels=queued,
    )
    return queued


async def remind_after_ack(
    session: AsyncSession, incident: Incident, *, now: datetime, routing: Routing
) -> None:
    """Acknowledged: no more tiers; the acknowledger is reminded until it is resolved."""
    renotify = timedelta(seconds=routing.chain_of(incident).renotify_seconds)
    await set_timer(
        session, incident, purpose=Purpose.ESCALATION, action=Action.RENOTIFY, due=now + renotify
    )


async def run_step(
    session: AsyncSession, timer: EscalationTimer, *, now: datetime, routing: Routing
) -> str:
    """Run a claimed step; returns what it did (for metrics and logs)."""
    incident = await session.get(Incident, timer.incident_id)
    assert incident is not None
    status = Status(incident.status)
    action = Action(timer.action)
    if status is Status.RESOLVED:
        await session.delete(timer)
        return "cleared"
    if action is Action.PAGE:
        if status is not Status.OPEN:
            await session.delete(timer)
            return "cleared"
        reason = "opened" if incident.first_paged_at is None else "escalated"
        await page(
            session,
            incident,
            tier=timer.tier,
            round_=timer.round,
            now=now,
            routing=routing,
            key=timer.token,
            reason=reason,
        )
        return f"paged_tier_{timer.tier + 1}"
    if action is Action.EXHAUSTED:
        chain = routing.chain_of(incident)
        if timer.round < chain.repeat:  # said once, when the last round runs out
            record_event(
                session,
                incident,
                EscalationAction.CHAIN_EXHAUSTED,
                "system",
                now,
                {"policy": chain.policy},
                cause=timer.token,
            )
            log.error("escalation_chain_exhausted", incident_id=incident.id)
        # Nobody has answered: the last tier is paged again at each of its deadlines, for as
        # long as it takes. A human is always reached.
        await page(
            session,
            incident,
            tier=len(chain.tiers) - 1,
            round_=chain.repeat,
            now=now,
            routing=routing,
            key=timer.token,
            reason="escalated",
        )
        return "exhausted"
    who = list(incident.assignees or [])
    if action is Action.RENOTIFY:
        await enqueue(
            session,
            incident,
            reason="renotify",
            key=f"renotify:{timer.token}",
            now=now,
            routing=routing,
            recipients=who,
        )
        record_event(
            session,
            incident,
            EscalationAction.RENOTIFIED,
            "system",
            now,
            {"recipients": who},
            cause=timer.token,
        )
        await remind_after_ack(session, incident, now=now, routing=routing)
        return "renotified"
    await enqueue(
        session,
        incident,
        reason="update",
        key=f"update:{timer.token}",
        now=now,
        routing=routing,
        recipients=who,
    )
    await session.delete(timer)
    return "updated"


class Scheduler:
    """Runs due steps, one transaction each; wakes on a poll interval or when told."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        routing: Routing,
        clock: Clock,
        metrics: EscalationMetrics,
        poll_seconds: float,
        # Small batches: on SQLite a batch holds the only write lock, and the alert consumer
        # (a crisis opening an incident) waits for it.
        batch: int = 20,
    ) -> None:
        self.sessions = sessions
        self.routing = routing
        self.clock = clock
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.wakeup = asyncio.Event()
        self.on_step: asyncio.Event | None = None  # delivery's and the relay's wake-up
        self.reported_at: datetime | None = None

    async def report(self, *, every: timedelta = timedelta(seconds=5)) -> None:
        """Set the incident gauges (open by severity and state, oldest unacknowledged)."""
        now = self.clock.now()
        if self.reported_at is not None and now - self.reported_at < every:
            return
        self.reported_at = now
        async with self.sessions() as session:
            found = await census(session)
        for severity in Severity:
            for status in (Status.OPEN, Status.ACKNOWLEDGED, Status.JOINED):
                self.metrics.open_incidents.labels(severity.value, status.value).set(
                    found.counts.get((severity.value, status.value), 0)
                )
            oldest = found.oldest_open.get(severity.value)
            age = (now - oldest).total_seconds() if oldest is not None else 0.0
            self.metrics.oldest_unacknowledged.labels(severity.value).set(max(0.0, age))

    async def run_due(self) -> int:
        """Run every step due now; returns how many ran (a stale or claimed one is skipped).

        Steps run in batches, one transaction per batch and a savepoint per step: a step that
        fails is rolled back alone and stays due for the next pass.
        """
        ran = 0
        while True:
            async with self.sessions() as session, session.begin():
                due = (
                    await session.execute(
                        select(
                            EscalationTimer.incident_id,
                            EscalationTimer.purpose,
                            EscalationTimer.token,
                        )
                        .where(EscalationTimer.due_at <= self.clock.now())
                        .order_by(EscalationTimer.due_at)
                        .limit(self.batch)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                done = [
                    r
                    for incident_id, purpose, token in due
                    if (r := await self._claim_and_run(session, incident_id, purpose, token))
                ]
            for outcome, lateness in done:
                self._observe(outcome, lateness)
            ran += len(done)
            if len(due) < self.batch or not done:
                break
        if ran and self.on_step is not None:
            self.on_step.set()
        return ran

    async def _run_one(self, incident_id: str, purpose: str, token: str) -> int:
        """One step in a transaction of its own (what a pass does for each row it claims)."""
        async with self.sessions() as session, session.begin():
            result = await self._claim_and_run(session, incident_id, purpose, token)
        if result is None:
            return 0
        self._observe(*result)
        return 1

    async def _claim_and_run(
        self, session: AsyncSession, incident_id: str, purpose: str, token: str
    ) -> tuple[str, float] | None:
        # Claim by swapping the token we read: nothing happens unless it is still the row's
        # (a replica ran it first, or an acknowledgement changed the plan since we looked).
        claimed = await session.execute(
            update(EscalationTimer)
            .where(
                EscalationTimer.incident_id == incident_id,
                EscalationTimer.purpose == purpose,
                EscalationTimer.token == token,
            )
            .values(token=str(uuid.uuid4()))
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        timer = await session.get(EscalationTimer, (incident_id, purpose), populate_existing=True)
        assert timer is not None
        now = self.clock.now()
        lateness = (now - timer.due_at).total_seconds()
        try:
            async with session.begin_nested():
                outcome = await run_step(session, timer, now=now, routing=self.routing)
        except Exception as exc:  # rolled back alone; the row stays due for the next pass
            self.metrics.steps.labels("failed").inc()
            log.warning("step_failed", incident_id=incident_id, error=type(exc).__name__)
            return None
        return outcome, lateness

    def _observe(self, outcome: str, lateness: float) -> None:
        self.metrics.steps.labels(outcome).inc()
        if outcome.startswith("paged_tier_"):
            self.metrics.escalations.labels(outcome.removeprefix("paged_tier_")).inc()
        self.metrics.step_lateness.observe(max(0.0, lateness))

    async def run(self) -> None:
        while True:
            try:
                await self.run_due()
                await self.report()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("scheduler_error", error=type(exc).__name__)
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self.wakeup.wait()
