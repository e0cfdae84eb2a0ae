"""Every notification carries an idempotency key that survives retries and restarts."""

from __future__ import annotations

import asyncio
from typing import Any

from attune_escalation.notify import notification_key
from attune_runtime.clock import ManualClock
from attune_schemas import AlertKind, Severity
from tests.factories import alert
from tests.unit.escalation_support import (
    RETRY,
    FakeNotifier,
    Sessions,
    apply,
    delivery,
    notifications,
)


async def test_every_attempt_carries_the_same_key_derived_from_the_notification(
    sessions: Sessions, clock: ManualClock
) -> None:
    a = alert()
    iid = (await apply(sessions, a, channels=("console",))).incident_id
    assert iid is not None
    console = FakeNotifier("console", failures=[RETRY, RETRY])
    d = delivery(sessions, clock, console)

    for _ in range(3):
        await d.deliver_due()
        clock.advance(60)

    # The first tier's page of the incident opened by this alert.
    key = notification_key(incident_id=iid, channel="console", reason=f"page:0:0:{a.event_id}")
    assert console.keys == [key, key, key]
    [n] = await notifications(sessions)
    assert (n.id, n.status) == (key, "sent")


async def test_each_channel_and_each_reason_to_notify_has_its_own_key(
    sessions: Sessions, clock: ManualClock
) -> None:
    first = alert(severity=Severity.HIGH)
    await apply(sessions, first)
    await apply(sessions, first)  # redelivered: no new notification, no new key
    await apply(sessions, alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL))

    rows = await notifications(sessions)

    assert len(rows) == 4  # opened and severity raised, each on console and webhook:0
    assert len({n.id for n in rows}) == 4


class Hanging(FakeNotifier):
    """A receiver that takes the request and never answers, until the process is killed."""

    def __init__(self, channel: str) -> None:
        super().__init__(channel)
        self.entered = asyncio.Event()

    async def send(self, payload: Any, *, idempotency_key: str) -> None:
        self.keys.append(idempotency_key)
        self.entered.set()
        await asyncio.Event().wait()


async def test_a_delivery_killed_mid_send_is_sent_again_after_restart_with_the_same_key(
    sessions: Sessions, clock: ManualClock
) -> None:
    await apply(sessions, alert(), channels=("webhook:0",))
    hanging = Hanging("webhook:0")
    worker = asyncio.create_task(delivery(sessions, clock, hanging).deliver_due())
    await hanging.entered.wait()
    worker.cancel()  # the process dies with the request in flight
    await asyncio.gather(worker, return_exceptions=True)

    [n] = await notifications(sessions)
    assert (n.status, n.attempts) == ("pending", 0)  # the attempt never committed

    restarted = FakeNotifier("webhook:0")
    assert await delivery(sessions, clock, restarted).deliver_due() == 1

    assert hanging.keys == restarted.keys == [n.id]
    [n] = await notifications(sessions)
    assert (n.status, n.attempts) == ("sent", 1)
