"""Alerts dated too far ahead, or before the epoch, are dead-lettered and change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from attune_escalation.db import Incident, Notification
from attune_runtime.clock import ManualClock
from attune_schemas import DeadLetter, EventTimeBounds
from tests.factories import T0, alert
from tests.unit.escalation_support import Api

BOUNDS = EventTimeBounds(max_future=timedelta(minutes=5), epoch=datetime(2020, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("occurred_at", "reason"),
    [
        (T0 + timedelta(minutes=5), None),
        (T0 + timedelta(minutes=5, seconds=1), "occurred_in_future"),
        (T0 + timedelta(days=7), "occurred_in_future"),
        (datetime(2020, 1, 1, tzinfo=UTC), None),
        (datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC), "occurred_before_epoch"),
        (datetime(1970, 1, 1, tzinfo=UTC), "occurred_before_epoch"),
    ],
)
def test_bounds(occurred_at: datetime, reason: str | None) -> None:
    error = BOUNDS.rejection(occurred_at, now=T0)

    assert (error.reason if error else None) == reason
    if error:
        assert [e.field for e in error.errors] == ["occurred_at"]


async def incidents(api: Api) -> list[Incident]:
    async with api.service.parts.sessions() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.conversation_id)))


async def pending(api: Api) -> list[tuple[str, datetime]]:
    async with api.service.parts.sessions() as session:
        rows = await session.scalars(select(Notification).order_by(Notification.id))
        return [(n.id, n.next_attempt_at) for n in rows]


@pytest.mark.parametrize(
    ("occurred_at", "reason"),
    [
        (T0 + timedelta(days=7), "occurred_in_future"),
        (datetime(1970, 1, 1, tzinfo=UTC), "occurred_before_epoch"),
    ],
)
async def test_an_untimely_alert_is_dead_lettered_and_opens_nothing(
    api: Api, occurred_at: datetime, reason: str
) -> None:
    bad = alert(conversation_id="conv-b", at=occurred_at)

    await api.alert(bad)

    assert await incidents(api) == []
    [msg] = api.dead_letters
    letter = DeadLetter.model_validate_json(msg.body)
    assert (letter.reason, letter.service, letter.key) == (reason, "escalation", "conv-b")
    assert [e.field for e in letter.errors] == ["occurred_at"]
    assert json.loads(letter.payload)["event_id"] == str(bad.event_id)


async def test_an_alert_cannot_move_another_incidents_time(api: Api, clock: ManualClock) -> None:
    await api.alert(alert(conversation_id="conv-a"))
    [before] = await incidents(api)
    timers = await pending(api)
    clock.advance(30)

    await api.alert(alert(conversation_id="conv-b", at=T0 + timedelta(days=7)))
    await api.alert(alert(conversation_id="conv-b", at=T0 + timedelta(minutes=4)))

    a, b = await incidents(api)
    assert (a.id, a.opened_at, a.updated_at) == (before.id, before.opened_at, before.updated_at)
    assert [t for t in await pending(api) if t in timers] == timers
    assert b.opened_at == clock.now()  # the service clock, not the alert's own time
    assert len(api.dead_letters) == 1
