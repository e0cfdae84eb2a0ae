"""An escalation desk for timeline tests: alerts in, the scheduler run on an injected clock.

`push(at=…)`, `ack(at=…)`, `tick(to=…)` move one clock in seconds after T0; `pages()` reads
back what was queued for the channels, so a test reads like the timeline it checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from attune_escalation import incidents
from attune_escalation.db import Incident, Notification
from attune_escalation.grouping import AlertResult
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.policies import EscalationConfig
from attune_escalation.routing import Routing
from attune_escalation.steps import Scheduler
from attune_runtime.clock import ManualClock
from attune_schemas import Alert
from tests.factories import T0
from tests.unit.escalation_support import PUBLIC_URL, Sessions

POLICIES = """
clinicians:
  dr-ada: {email: ada@clinic-a.example}
  dr-ben: {email: ben@clinic-a.example}
  dr-cy: {email: cy@clinic-a.example}
  dr-dee: {email: dee@clinic-a.example}
teams:
  crisis-team: [dr-cy, dr-dee]
schedules:
  clinic-a-primary:
    time_zone: Europe/London
    rotation: {participants: [dr-ada, dr-ben], start_date: 2026-03-02, handoff: "09:00",
               shift_days: 1}
policies:
  - name: clinic-a-urgent
    tenants: [tenant-a]
    severities: [critical, high]
    repeat: 2
    renotify_seconds: 900
    channels: [console]
    tiers:
      - notify: [{schedule: clinic-a-primary}]
        ack_deadline_seconds: 120
      - notify: [{team: crisis-team}]
        ack_deadline_seconds: 300
  - name: everyone-else
    tiers:
      - ack_deadline_seconds: 600
"""


def config(text: str = POLICIES) -> EscalationConfig:
    return EscalationConfig.model_validate(yaml.safe_load(text))


@dataclass(frozen=True)
class Page:
    at: float  # seconds after T0
    channel: str
    reason: str
    tier: int | None
    recipients: list[str]
    kinds: list[str]


class Desk:
    def __init__(
        self,
        sessions: Sessions,
        clock: ManualClock,
        *,
        policies: EscalationConfig | None = None,
        channels: tuple[str, ...] = ("console",),
        group_wait: float = 5.0,
        group_interval: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.routing = Routing(
            config=policies or config(),
            channels=channels,
            public_url=PUBLIC_URL,
            group_wait=timedelta(seconds=group_wait),
            group_interval=timedelta(seconds=group_interval),
        )
        self.scheduler = self.scheduler_for(sessions)

    def scheduler_for(self, sessions: Sessions) -> Scheduler:
        return Scheduler(
            sessions=sessions,
            routing=self.routing,
            clock=self.clock,
            metrics=EscalationMetrics(CollectorRegistry()),
            poll_seconds=0.01,
        )

    def _at(self, at: float) -> None:
        when = T0 + timedelta(seconds=at)
        assert when >= self.clock.now(), "a timeline only moves forward"
        self.clock.set(when)

    async def push(self, alert: Alert, *, at: float) -> AlertResult:
        """An alert arrives; the scheduler then runs whatever is due (as the service does)."""
        self._at(at)
        async with self.sessions() as session, session.begin():
            result = await incidents.apply_alert(
                session, alert=alert, now=self.clock.now(), routing=self.routing
            )
        await self.scheduler.run_due()
        return result

    async def tick(self, *, to: float) -> int:
        self._at(to)
        return await self.scheduler.run_due()

    async def act(self, op: Any, incident_id: str, *, at: float, **kwargs: Any) -> Incident:
        self._at(at)
        async with self.sessions() as session, session.begin():
            done: Incident = await op(
                session,
                incident_id=incident_id,
                now=self.clock.now(),
                routing=self.routing,
                **kwargs,
            )
        return done

    async def pages(self, channel: str | None = "console") -> list[Page]:
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(Notification).order_by(Notification.created_at, Notification.id)
                )
            ).all()
        return [
            Page(
                at=(n.created_at - T0).total_seconds(),
                channel=n.channel,
                reason=n.payload["reason"],
                tier=n.payload.get("tier"),
                recipients=n.payload["recipients"],
                kinds=n.payload["kinds"],
            )
            for n in rows
            if channel is None or n.channel == channel
        ]

    async def incident(self, incident_id: str | None) -> Incident:
        assert incident_id is not None
        async with self.sessions() as session:
            return await incidents.get_incident(session, incident_id)
