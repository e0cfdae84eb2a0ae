"""The incident lifecycle under any sequence of alerts, clinician actions and time (Hypothesis).

Whatever happens, a conversation has at most one active incident; an open incident always
has a step scheduled (past the end of its chain, the last tier again); an acknowledged or
joined one is reminded; a resolved one has no timer left; the AI is paused and resumed
alternately, never twice in a row; and the status only moves as the lifecycle table allows.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from attune_escalation import incidents
from attune_escalation.db import (
    EscalationTimer,
    Incident,
    IncidentEvent,
    OutboxMessage,
    make_engine,
    make_sessions,
)
from attune_escalation.lifecycle import TRANSITIONS, Status
from attune_runtime.clock import ManualClock
from attune_schemas import AlertKind, Severity
from tests.factories import T0, alert
from tests.unit.escalation_desk import Desk

T = TypeVar("T")
CONVERSATIONS = ("conv-1", "conv-2")
CLINICIANS = ("dr-ada", "dr-ben")


class Lifecycle(RuleBasedStateMachine):
    template: Path

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp())
        shutil.copyfile(self.template, self.dir / "db.sqlite")
        self.engine = make_engine(f"sqlite+aiosqlite:///{self.dir / 'db.sqlite'}")
        self.clock = ManualClock(T0)
        self.desk = Desk(make_sessions(self.engine), self.clock)
        self.at = 0.0
        self.seen: dict[str, Status] = {}

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def later(self, seconds: float) -> float:
        self.at += seconds
        return self.at

    async def _incidents(self) -> list[Incident]:
        async with self.desk.sessions() as session:
            return list((await session.scalars(select(Incident))).all())

    def active(self, conversation_id: str) -> Incident | None:
        found = [
            i
            for i in self.run(self._incidents())
            if i.conversation_id == conversation_id and i.status != "resolved"
        ]
        return found[0] if found else None

    @rule(
        conversation=st.sampled_from(CONVERSATIONS),
        kind=st.sampled_from(list(AlertKind)),
        severity=st.sampled_from(list(Severity)),
        gap=st.floats(0, 30),
    )
    def an_alert(self, conversation: str, kind: AlertKind, severity: Severity, gap: float) -> None:
        a = alert(conversation_id=conversation, kind=kind, severity=severity)
        self.run(self.desk.push(a, at=self.later(gap)))

    @rule(seconds=st.sampled_from([1, 5, 60, 120, 300, 900, 3600]))
    def time_passes(self, seconds: float) -> None:
        self.run(self.desk.tick(to=self.later(seconds)))

    def _act(self, conversation: str, op: Any, **kwargs: Any) -> None:
        incident = self.active(conversation)
        if incident is None:
            return
        try:
            self.run(self.desk.act(op, incident.id, at=self.later(1), **kwargs))
        except incidents.Conflict:
            # Refused moves are the ones the table does not allow.
            return

    @rule(conversation=st.sampled_from(CONVERSATIONS), who=st.sampled_from(CLINICIANS))
    def acknowledge(self, conversation: str, who: str) -> None:
        self._act(conversation, incidents.acknowledge, clinician_id=who)

    @rule(conversation=st.sampled_from(CONVERSATIONS), who=st.sampled_from(CLINICIANS))
    def join(self, conversation: str, who: str) -> None:
        self._act(conversation, incidents.join, clinician_id=who)

    @rule(conversation=st.sampled_from(CONVERSATIONS), who=st.sampled_from(CLINICIANS))
    def hand_back(self, conversation: str, who: str) -> None:
        self._act(conversation, incidents.hand_back, clinician_id=who)

    @rule(conversation=st.sampled_from(CONVERSATIONS), to=st.sampled_from(CLINICIANS))
    def reassign(self, conversation: str, to: str) -> None:
        self._act(conversation, incidents.reassign, clinician_id="dr-lead", to=to)

    @rule(
        conversation=st.sampled_from(CONVERSATIONS),
        outcome=st.sampled_from(list(incidents.Outcome)),
    )
    def resolve(self, conversation: str, outcome: incidents.Outcome) -> None:
        self._act(
            conversation, incidents.resolve, clinician_id="dr-ada", outcome=outcome, note=None
        )

    @invariant()
    def one_active_incident_per_conversation(self) -> None:
        active = [i.conversation_id for i in self.run(self._incidents()) if i.status != "resolved"]
        assert len(active) == len(set(active))

    @invariant()
    def status_moves_only_as_the_table_allows(self) -> None:
        for i in self.run(self._incidents()):
            now = Status(i.status)
            before = self.seen.get(i.id)
            assert before is None or now == before or now in TRANSITIONS[before]
            self.seen[i.id] = now

    @invariant()
    def timers_match_the_status(self) -> None:
        async def check() -> None:
            async with self.desk.sessions() as session:
                for i in (await session.scalars(select(Incident))).all():
                    timer = await session.get(EscalationTimer, (i.id, "escalation"))
                    actions = (
                        await session.scalars(
                            select(IncidentEvent.action).where(IncidentEvent.incident_id == i.id)
                        )
                    ).all()
                    if i.status == "resolved":
                        assert timer is None
                    elif i.status == "open":
                        # Open means someone will be paged: there is always a next step.
                        assert timer is not None, actions
                        assert timer.action in ("page", "exhausted")
                    else:
                        assert timer is not None and timer.action == "renotify"

        self.run(check())

    @invariant()
    def the_ai_is_paused_and_resumed_alternately(self) -> None:
        async def check() -> None:
            async with self.desk.sessions() as session:
                rows = (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.topic == "conversation.control")
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            for conversation in CONVERSATIONS:
                actions = [
                    a
                    for r in rows
                    if r.key == conversation
                    and (a := json.loads(r.payload)["action"]) in ("pause_ai", "resume_ai")
                ]
                assert all(x != y for x, y in itertools.pairwise(actions)), actions
                assert not actions or actions[0] == "pause_ai"

        self.run(check())


def test_the_incident_lifecycle_holds_under_any_sequence(migrated: Path) -> None:
    Lifecycle.template = migrated
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
