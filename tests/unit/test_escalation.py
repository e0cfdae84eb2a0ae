"""Escalation on a real SQLite file: incidents, outbox relay, notification delivery, the API."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from attune_escalation import incidents
from attune_escalation.db import (
    Incident,
    IncidentAlert,
    IncidentEvent,
    Notification,
    OutboxMessage,
)
from attune_escalation.incidents import Conflict, NotFound, Outcome
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.notify import NotifyError
from attune_escalation.notify.console import ConsoleNotifier
from attune_escalation.notify.webhook import WebhookNotifier
from attune_escalation.outbox import OUTBOX_TOPICS, OutboxRelay
from attune_runtime.clock import ManualClock
from attune_schemas import (
    AlertKind,
    AlertStatus,
    ControlAction,
    ConversationControl,
    EscalationAction,
    EscalationEvent,
    Severity,
)
from tests.factories import T0, alert
from tests.unit.escalation_support import (
    CHANNELS,
    EXCERPT,
    RETRY,
    UNKNOWN_ID,
    Api,
    FakeNotifier,
    Sessions,
    apply,
    delivery,
    notifications,
    routing,
)


async def counts(sessions: Sessions) -> dict[str, int | None]:
    out = {}
    async with sessions() as session:
        for table in (Incident, IncidentAlert, IncidentEvent, OutboxMessage, Notification):
            out[table.__tablename__] = await session.scalar(select(func.count()).select_from(table))
    return out


async def incident(sessions: Sessions, incident_id: str | None) -> Incident:
    assert incident_id is not None
    async with sessions() as session:
        return await incidents.get_incident(session, incident_id)


async def outbox(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def staged(sessions: Sessions) -> list[tuple[str, str]]:
    """(topic, action) of every outbox row in order: the messages the relay will publish."""
    out = []
    for row in await outbox(sessions):
        body = json.loads(row.payload)
        out.append((row.topic, body["action"]))
    return out


def timeline(i: Incident) -> list[str]:
    return [e.action for e in i.timeline]


async def act(sessions: Sessions, op: Any, incident_id: str, **kwargs: Any) -> Incident:
    async with sessions() as session, session.begin():
        done: Incident = await op(
            session, incident_id=incident_id, now=T0, routing=routing(), **kwargs
        )
        return done


# --- incidents.apply_alert --------------------------------------------------------------------


async def test_alert_opens_an_incident(sessions: Sessions) -> None:
    a = alert(severity=Severity.HIGH)

    result = await apply(sessions, a)

    assert result.opened
    assert not result.duplicate
    assert result.notifications == list(CHANNELS)
    assert result.controls == []
    i = await incident(sessions, result.incident_id)
    assert (i.status, i.severity, i.kinds, i.ai_paused) == ("open", "high", ["rupture"], False)
    assert (i.conversation_id, i.tenant_id, i.opened_at) == ("conv-1", "tenant-a", T0)
    assert [x.alert_event_id for x in i.alerts] == [str(a.event_id)]
    assert timeline(i) == ["opened", "escalated"]
    assert await staged(sessions) == [
        ("escalation.events", "opened"),
        ("escalation.events", "escalated"),
    ]
    queued = await notifications(sessions)
    assert [(n.channel, n.status, n.next_attempt_at) for n in queued] == [
        ("console", "pending", T0),
        ("webhook:0", "pending", T0),
    ]
    assert queued[0].payload["url"] == f"https://attune.example/console/incidents/{i.id}"


async def test_crisis_alert_pauses_the_ai(sessions: Sessions) -> None:
    result = await apply(sessions, alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL))

    assert result.controls == [ControlAction.PAUSE_AI]
    assert (await incident(sessions, result.incident_id)).ai_paused
    assert await staged(sessions) == [
        ("escalation.events", "opened"),
        ("escalation.events", "escalated"),
        ("conversation.control", "pause_ai"),
    ]
    [row] = [r for r in await outbox(sessions) if r.topic == "conversation.control"]
    control = ConversationControl.model_validate_json(row.payload)
    assert (row.key, control.reason, str(control.incident_id)) == (
        "conv-1",
        "crisis_language",
        result.incident_id,
    )


async def test_same_alert_again_is_a_duplicate(sessions: Sessions) -> None:
    a = alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL)
    await apply(sessions, a)
    before = await counts(sessions)

    again = await apply(sessions, a)

    assert again.duplicate
    assert await counts(sessions) == before
    assert before == {
        "incidents": 1,
        "incident_alerts": 1,
        "incident_events": 2,
        "outbox": 3,
        "notifications": 2,
    }


async def test_second_alert_for_the_conversation_groups_into_the_incident(
    sessions: Sessions,
) -> None:
    first = await apply(sessions, alert(kind=AlertKind.RUPTURE, severity=Severity.HIGH))

    second = await apply(sessions, alert(kind=AlertKind.DISENGAGEMENT, severity=Severity.WARNING))
    again = await apply(sessions, alert(kind=AlertKind.DISENGAGEMENT, severity=Severity.WARNING))

    assert second.incident_id == again.incident_id == first.incident_id
    assert not second.opened
    # A new kind of signal is news, sent once the group interval has passed, not at once.
    assert second.notifications == again.notifications == []
    i = await incident(sessions, first.incident_id)
    assert i.kinds == ["disengagement", "rupture"]
    assert i.severity == "high"
    assert timeline(i) == ["opened", "escalated", "alert_grouped", "alert_grouped"]
    assert len(i.alerts) == 3
    assert (await counts(sessions))["incidents"] == 1


async def test_other_conversation_gets_its_own_incident(sessions: Sessions) -> None:
    first = await apply(sessions, alert(conversation_id="conv-1"))
    second = await apply(sessions, alert(conversation_id="conv-2"))

    assert second.opened
    assert second.incident_id != first.incident_id


async def test_higher_severity_raises_the_incident_and_notifies_again(sessions: Sessions) -> None:
    first = await apply(sessions, alert(severity=Severity.WARNING))

    raised = await apply(sessions, alert(severity=Severity.HIGH))

    assert raised.notifications == list(CHANNELS)
    i = await incident(sessions, first.incident_id)
    assert i.severity == "high"
    assert timeline(i) == [
        "opened",
        "escalated",
        "alert_grouped",
        "severity_raised",
        "escalated",  # the chain for the new severity starts again from its first tier
    ]
    assert i.timeline[-2].details["from"] == "warning"
    assert i.timeline[-2].details["to"] == "high"
    assert [n.payload["reason"] for n in await notifications(sessions)].count("severity") == 2
    assert (await counts(sessions))["notifications"] == 4


async def test_crisis_on_an_open_rupture_incident_pauses_the_ai_once(sessions: Sessions) -> None:
    rupture = await apply(sessions, alert(severity=Severity.HIGH))

    crisis1 = await apply(sessions, alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL))
    crisis2 = await apply(sessions, alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL))

    assert crisis1.incident_id == crisis2.incident_id == rupture.incident_id
    assert crisis1.controls == [ControlAction.PAUSE_AI]
    assert crisis2.controls == []
    actions = [action for _, action in await staged(sessions)]
    assert actions.count("pause_ai") == 1
    i = await incident(sessions, rupture.incident_id)
    assert (i.severity, i.ai_paused) == ("critical", True)
    # Every new crisis still reaches a person.
    assert len(crisis2.notifications) == len(CHANNELS)


async def test_resolved_alert_is_recorded_on_the_incident(sessions: Sessions) -> None:
    fired = alert()
    opened = await apply(sessions, fired)

    await apply(sessions, alert(status=AlertStatus.RESOLVED, alert_id=fired.alert_id))

    i = await incident(sessions, opened.incident_id)
    assert i.status == "open"  # the router calming down does not close a clinician's incident
    assert [a.status for a in i.alerts] == ["firing", "resolved"]


async def test_resolved_alert_without_incident_opens_nothing(sessions: Sessions) -> None:
    result = await apply(sessions, alert(status=AlertStatus.RESOLVED))

    assert result.incident_id is None
    assert (await counts(sessions))["incidents"] == 0


# --- acknowledge, join, resolve ---------------------------------------------------------------


async def opened(sessions: Sessions, *, kind: AlertKind = AlertKind.RUPTURE) -> str:
    severity = Severity.CRITICAL if kind is AlertKind.CRISIS else Severity.HIGH
    result = await apply(sessions, alert(kind=kind, severity=severity))
    assert result.incident_id is not None
    return result.incident_id


async def test_acknowledge_is_idempotent(sessions: Sessions) -> None:
    iid = await opened(sessions)

    await act(sessions, incidents.acknowledge, iid, clinician_id="dr-a")
    before = await counts(sessions)
    await act(sessions, incidents.acknowledge, iid, clinician_id="dr-b")

    i = await incident(sessions, iid)
    assert (i.status, i.acknowledged_by, i.acknowledged_at) == ("acknowledged", "dr-a", T0)
    assert timeline(i) == ["opened", "escalated", "acknowledged"]
    assert await counts(sessions) == before


async def test_join_pauses_the_ai_and_announces_the_clinician(sessions: Sessions) -> None:
    iid = await opened(sessions)

    await act(sessions, incidents.join, iid, clinician_id="dr-a")
    before = await counts(sessions)
    await act(sessions, incidents.join, iid, clinician_id="dr-a")  # a double click

    i = await incident(sessions, iid)
    assert (i.status, i.joined_by, i.acknowledged_by, i.ai_paused) == (
        "joined",
        "dr-a",
        "dr-a",
        True,
    )
    assert timeline(i) == ["opened", "escalated", "acknowledged", "joined"]
    assert await staged(sessions) == [
        ("escalation.events", "opened"),
        ("escalation.events", "escalated"),
        ("escalation.events", "acknowledged"),
        ("conversation.control", "pause_ai"),
        ("conversation.control", "clinician_joining"),
        ("escalation.events", "joined"),
    ]
    assert await counts(sessions) == before
    joining = ConversationControl.model_validate_json((await outbox(sessions))[4].payload)
    assert joining.clinician_id == "dr-a"


async def test_join_when_already_paused_does_not_pause_again(sessions: Sessions) -> None:
    iid = await opened(sessions, kind=AlertKind.CRISIS)

    await act(sessions, incidents.join, iid, clinician_id="dr-a")

    controls = [a for topic, a in await staged(sessions) if topic == "conversation.control"]
    assert controls == ["pause_ai", "clinician_joining"]


async def test_resolve_resumes_a_paused_ai(sessions: Sessions) -> None:
    iid = await opened(sessions, kind=AlertKind.CRISIS)
    note = "client safe, called back, plan agreed"

    await act(
        sessions,
        incidents.resolve,
        iid,
        clinician_id="dr-a",
        outcome=Outcome.CLIENT_SAFE,
        note=note,
    )

    i = await incident(sessions, iid)
    assert (i.status, i.outcome, i.resolved_by, i.ai_paused) == (
        "resolved",
        "client_safe",
        "dr-a",
        False,
    )
    assert i.resolution_note == note
    assert (await staged(sessions))[-2:] == [
        ("conversation.control", "resume_ai"),
        ("escalation.events", "resolved"),
    ]
    # The note is clinical free text: kept in the database, never published.
    assert all(note not in row.payload for row in await outbox(sessions))
    assert i.timeline[-1].details == {"outcome": "client_safe", "has_note": True}


async def test_resolve_without_pause_does_not_resume(sessions: Sessions) -> None:
    iid = await opened(sessions)

    await act(
        sessions, incidents.resolve, iid, clinician_id="dr-a", outcome=Outcome.REPAIRED, note=None
    )

    assert "resume_ai" not in [a for _, a in await staged(sessions)]


async def test_resolve_twice_is_idempotent_with_the_same_outcome(sessions: Sessions) -> None:
    iid = await opened(sessions)
    kwargs: dict[str, Any] = {"clinician_id": "dr-a", "outcome": Outcome.REPAIRED, "note": None}
    await act(sessions, incidents.resolve, iid, **kwargs)
    before = await counts(sessions)

    await act(sessions, incidents.resolve, iid, **kwargs)

    assert await counts(sessions) == before
    with pytest.raises(Conflict):
        await act(sessions, incidents.resolve, iid, **kwargs | {"outcome": Outcome.FALSE_ALARM})
    assert (await incident(sessions, iid)).outcome == "repaired"


@pytest.mark.parametrize("op", [incidents.acknowledge, incidents.join])
async def test_acting_on_a_resolved_incident_is_a_conflict(sessions: Sessions, op: Any) -> None:
    iid = await opened(sessions)
    await act(
        sessions, incidents.resolve, iid, clinician_id="dr-a", outcome=Outcome.REPAIRED, note=None
    )
    before = await counts(sessions)

    with pytest.raises(Conflict):
        await act(sessions, op, iid, clinician_id="dr-b")
    assert await counts(sessions) == before


@pytest.mark.parametrize(
    ("op", "extra"),
    [
        (incidents.acknowledge, {}),
        (incidents.join, {}),
        (incidents.resolve, {"outcome": Outcome.REPAIRED, "note": None}),
    ],
)
async def test_unknown_incident_is_not_found(
    sessions: Sessions, op: Any, extra: dict[str, Any]
) -> None:
    with pytest.raises(NotFound):
        await act(
            sessions, op, "00000000-0000-4000-8000-000000000000", clinician_id="dr-a", **extra
        )


async def test_new_alert_after_resolution_opens_a_new_incident(sessions: Sessions) -> None:
    first = await opened(sessions)
    await act(
        sessions, incidents.resolve, first, clinician_id="dr-a", outcome=Outcome.REPAIRED, note=None
    )

    again = await apply(sessions, alert())

    assert again.opened
    assert again.incident_id != first
    assert (await incident(sessions, first)).status == "resolved"


# --- outbox relay -----------------------------------------------------------------------------


@dataclass
class Published:
    body: bytes
    topic: str
    key: bytes
    headers: dict[str, str]


class FakeBroker:
    """Records publishes; `fail_at` makes the n-th publish (0-based) raise like a broker outage."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.published: list[Published] = []
        self.fail_at = fail_at
        self.calls = 0

    async def publish(
        self, body: bytes, *, topic: str, key: bytes, headers: dict[str, str]
    ) -> None:
        self.calls += 1
        if self.fail_at is not None and self.calls - 1 >= self.fail_at:
            raise KafkaConnectionError()
        self.published.append(Published(body, topic, key, headers))


@dataclass
class FakePublisher:
    """One topic's publisher (with the deployment's prefix) on the fake broker."""

    broker: FakeBroker
    topic: str

    async def publish(self, body: bytes, *, key: bytes, headers: dict[str, str]) -> None:
        await self.broker.publish(body, topic=self.topic, key=key, headers=headers)


def relay(sessions: Sessions, broker: FakeBroker, clock: ManualClock) -> OutboxRelay:
    return OutboxRelay(
        sessions=sessions,
        publishers={t: FakePublisher(broker, f"test1.{t}") for t in OUTBOX_TOPICS},
        clock=clock,
        metrics=EscalationMetrics(CollectorRegistry()),
        poll_seconds=0.01,
    )


async def test_relay_publishes_rows_in_order_with_the_prefix(
    sessions: Sessions, clock: ManualClock
) -> None:
    iid = await opened(sessions, kind=AlertKind.CRISIS)
    await act(sessions, incidents.join, iid, clinician_id="dr-a")
    rows = await outbox(sessions)
    broker = FakeBroker()
    clock.advance(5)

    assert await relay(sessions, broker, clock).relay_once() == len(rows) == 6

    assert [(p.topic, p.key) for p in broker.published] == [
        ("test1.escalation.events", b"conv-1"),  # opened
        ("test1.escalation.events", b"conv-1"),  # escalated: tier 1 paged
        ("test1.conversation.control", b"conv-1"),  # pause_ai
        ("test1.escalation.events", b"conv-1"),  # acknowledged
        ("test1.conversation.control", b"conv-1"),  # clinician_joining
        ("test1.escalation.events", b"conv-1"),  # joined
    ]
    assert [p.body.decode() for p in broker.published] == [r.payload for r in rows]
    assert [p.headers for p in broker.published] == [{"event_type": r.topic} for r in rows]
    first = EscalationEvent.model_validate_json(broker.published[0].body)
    assert (first.action, str(first.incident_id)) == (EscalationAction.OPENED, iid)
    after = await outbox(sessions)
    assert {(r.published_at, r.attempts) for r in after} == {(T0 + timedelta(seconds=5), 1)}
    assert await relay(sessions, broker, clock).relay_once() == 0  # nothing left


async def test_relay_failure_keeps_the_rows_and_a_later_pass_publishes_them(
    sessions: Sessions, clock: ManualClock
) -> None:
    await opened(sessions, kind=AlertKind.CRISIS)  # three rows
    down = FakeBroker(fail_at=1)

    with pytest.raises(KafkaConnectionError):
        await relay(sessions, down, clock).relay_once()

    assert [(r.published_at, r.attempts) for r in await outbox(sessions)] == [(None, 0)] * 3
    up = FakeBroker()
    assert await relay(sessions, up, clock).relay_once() == 3
    # At least once: the row that got through before the outage is sent again.
    assert [p.topic for p in down.published + up.published] == [
        "test1.escalation.events",
        "test1.escalation.events",
        "test1.escalation.events",
        "test1.conversation.control",
    ]
    assert all(r.published_at == T0 for r in await outbox(sessions))


# --- notification delivery --------------------------------------------------------------------


async def test_delivered_notification_is_sent_and_on_the_timeline(
    sessions: Sessions, clock: ManualClock
) -> None:
    iid = await opened(sessions)
    console, webhook = FakeNotifier("console"), FakeNotifier("webhook:0")
    d = delivery(sessions, clock, console, webhook)

    assert await d.deliver_due() == 2
    assert await d.deliver_due() == 0

    assert [(n.status, n.attempts, n.sent_at) for n in await notifications(sessions)] == [
        ("sent", 1, T0),
        ("sent", 1, T0),
    ]
    assert [p["incident_id"] for p in console.sent + webhook.sent] == [iid, iid]
    i = await incident(sessions, iid)
    assert timeline(i) == ["opened", "escalated", "notified", "notified"]
    assert {e.details["channel"] for e in i.timeline[2:]} == {"console", "webhook:0"}
    assert [a for _, a in await staged(sessions)].count("notified") == 2


async def test_retryable_failure_backs_off_then_delivers(
    sessions: Sessions, clock: ManualClock
) -> None:
    await apply(sessions, alert(), channels=("console",))
    console = FakeNotifier("console", failures=[RETRY, RETRY])
    d = delivery(sessions, clock, console)

    assert await d.deliver_due() == 1
    [n] = await notifications(sessions)
    assert (n.status, n.attempts, n.last_error) == ("pending", 1, "http_503")
    assert n.next_attempt_at == T0 + timedelta(seconds=10)

    clock.advance(9)
    assert await d.deliver_due() == 0  # not before its time
    clock.advance(1)
    assert await d.deliver_due() == 1
    [n] = await notifications(sessions)
    assert n.next_attempt_at == T0 + timedelta(seconds=10 + 15)  # 20 s, capped at 15 s

    clock.advance(15)
    assert await d.deliver_due() == 1
    [n] = await notifications(sessions)
    assert (n.status, n.attempts, n.last_error) == ("sent", 3, None)
    assert console.attempts == 3


async def test_non_retryable_failure_fails_at_once(sessions: Sessions, clock: ManualClock) -> None:
    iid = (await apply(sessions, alert(), channels=("console",))).incident_id
    console = FakeNotifier("console", failures=[NotifyError("http_400", retryable=False)])
    d = delivery(sessions, clock, console)

    await d.deliver_due()
    clock.advance(3600)
    assert await d.deliver_due() == 0

    [n] = await notifications(sessions)
    assert (n.status, n.attempts) == ("failed", 1)
    i = await incident(sessions, iid)
    assert timeline(i) == ["opened", "escalated", "notification_failed"]
    assert i.timeline[-1].details["reason"] == "http_400"


async def test_retryable_failure_fails_after_max_attempts(
    sessions: Sessions, clock: ManualClock
) -> None:
    iid = (await apply(sessions, alert(), channels=("console",))).incident_id
    console = FakeNotifier("console", failures=[RETRY] * 5)
    d = delivery(sessions, clock, console, max_attempts=3)

    for _ in range(5):
        await d.deliver_due()
        clock.advance(60)

    assert console.attempts == 3
    [n] = await notifications(sessions)
    assert (n.status, n.attempts) == ("failed", 3)
    i = await incident(sessions, iid)
    assert timeline(i) == ["opened", "escalated", "notification_failed"]
    assert i.timeline[-1].details["attempts"] == 3


async def test_unconfigured_channel_fails(sessions: Sessions, clock: ManualClock) -> None:
    await apply(sessions, alert(), channels=("pager",))

    await delivery(sessions, clock, FakeNotifier("console")).deliver_due()

    [n] = await notifications(sessions)
    assert (n.status, n.last_error) == ("failed", "channel_not_configured")


async def test_notification_payload_never_carries_evidence_text(
    sessions: Sessions, clock: ManualClock
) -> None:
    a = alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL)
    assert a.evidence[0].excerpt == EXCERPT
    await apply(sessions, a)
    await apply(sessions, alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL))
    console, webhook = FakeNotifier("console"), FakeNotifier("webhook:0")

    await delivery(sessions, clock, console, webhook).deliver_due()

    assert len(console.sent + webhook.sent) == 4
    for payload in console.sent + webhook.sent:
        assert EXCERPT not in json.dumps(payload)
        assert payload["markers"] == ["rejecting_intervention"]  # labels, not words
    assert all(EXCERPT not in row.payload for row in await outbox(sessions))


# --- notifiers --------------------------------------------------------------------------------


PAYLOAD = {
    "incident_id": "6b0c2f5e-2f7e-4b55-9b7a-3f0e0a1d2c3b",
    "conversation_id": "conv-1",
    "reason": "opened",
    "severity": "critical",
    "alert_kind": "crisis",
    "risk": 0.97,
    "crisis_categories": ["suicidal_ideation"],
    "markers": ["passive_death_wish"],
    "url": "https://attune.example/console/incidents/6b0c2f5e-2f7e-4b55-9b7a-3f0e0a1d2c3b",
}


KEY = "0d5b1c1e-3f6a-5b7e-9c2d-4a8e6f1b3c5d"


def webhook(handler: Any) -> WebhookNotifier:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return WebhookNotifier("https://hooks.example/attune", client=client, channel="pager")


async def test_webhook_posts_the_payload() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    notifier = webhook(handler)
    await notifier.send(PAYLOAD, idempotency_key=KEY)

    assert notifier.channel == "pager"
    [request] = seen
    assert str(request.url) == "https://hooks.example/attune"
    assert json.loads(request.content) == {
        "type": "attune.incident",
        **PAYLOAD,
        "idempotency_key": KEY,
    }
    assert request.headers["Idempotency-Key"] == KEY


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [(503, "http_503", True), (429, "http_429", True), (400, "http_400", False)],
)
async def test_webhook_failure_says_whether_to_retry(
    status: int, reason: str, retryable: bool
) -> None:
    notifier = webhook(lambda _: httpx.Response(status))

    with pytest.raises(NotifyError) as info:
        await notifier.send(PAYLOAD, idempotency_key=KEY)

    assert (info.value.reason, info.value.retryable) == (reason, retryable)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "transport:ConnectError"),
    ],
)
async def test_webhook_network_errors_are_retryable(error: Exception, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(NotifyError) as info:
        await webhook(handler).send(PAYLOAD, idempotency_key=KEY)

    assert (info.value.reason, info.value.retryable) == (reason, True)


async def test_console_writes_one_line_without_evidence(
    sessions: Sessions, clock: ManualClock
) -> None:
    iid = await opened(sessions, kind=AlertKind.CRISIS)
    stream = io.StringIO()
    console = ConsoleNotifier(stream)

    [n] = [n for n in await notifications(sessions) if n.channel == "console"]
    await console.send(n.payload, idempotency_key=n.id)

    [line] = stream.getvalue().splitlines()
    assert "CRITICAL" in line
    assert iid in line
    assert "conversation=conv-1" in line
    assert line.endswith(f" key={n.id}")
    assert EXCERPT not in line


async def test_console_names_a_model_only_crisis_a_possible_crisis() -> None:
    stream = io.StringIO()
    payload = {"alert_kind": "crisis", "severity": "high", "reason": "opened"}

    await ConsoleNotifier(stream).send(
        {**payload, "markers": ["risk_burden"], "risk": 0.21}, idempotency_key=KEY
    )
    await ConsoleNotifier(stream).send({**payload, "severity": "critical"}, idempotency_key=KEY)

    possible, critical = stream.getvalue().splitlines()
    assert "HIGH] possible crisis (opened)" in possible
    assert "signals=risk_burden risk=0.21" in possible
    assert "CRITICAL] crisis (opened)" in critical


# --- the clinician API ------------------------------------------------------------------------


async def test_alert_on_the_topic_becomes_a_listed_incident(api: Api) -> None:
    await api.alert(alert(severity=Severity.HIGH))

    response = await api.http.get("/v1/incidents")

    assert response.status_code == 200
    [summary] = response.json()
    assert (summary["status"], summary["severity"], summary["conversation_id"]) == (
        "open",
        "high",
        "conv-1",
    )
    assert summary["kinds"] == ["rupture"]


async def test_incident_detail_shows_the_evidence(api: Api) -> None:
    await api.alert(alert())
    iid = await api.incident_id()

    response = await api.http.get(f"/v1/incidents/{iid}")

    assert response.status_code == 200
    body = response.json()
    assert body["alerts"][0]["evidence"][0]["excerpt"] == EXCERPT  # clinicians see the words
    assert [e["action"] for e in body["timeline"]] == ["opened", "escalated"]


async def test_acknowledge_join_resolve_through_the_api(api: Api) -> None:
    await api.alert(alert())
    iid = await api.incident_id()
    base = f"/v1/incidents/{iid}"

    ack = await api.http.post(f"{base}/ack", json={})
    join = await api.http.post(f"{base}/join", json={})
    resolve = await api.http.post(f"{base}/resolve", json={"outcome": "repaired", "note": "ok"})

    assert [r.status_code for r in (ack, join, resolve)] == [200, 200, 200]
    assert ack.json()["status"] == "acknowledged"
    assert (join.json()["status"], join.json()["ai_paused"]) == ("joined", True)
    final = resolve.json()
    assert (final["status"], final["outcome"], final["ai_paused"]) == (
        "resolved",
        "repaired",
        False,
    )
    assert [e["action"] for e in final["timeline"]] == [
        "opened",
        "escalated",
        "acknowledged",
        "joined",
        "resolved",
    ]
    # Response times are observed once per incident: the join after the ack adds none.
    metrics = api.service.parts.delivery.metrics
    assert metrics.time_to_acknowledge.labels("high")._sum.get() == 0  # acknowledged at once
    assert _count(metrics.time_to_acknowledge, "high") == 1
    assert _count(metrics.time_to_resolve, "high") == 1
    assert (await api.http.get("/v1/incidents")).json() == []  # no longer active
    [resolved] = (await api.http.get("/v1/incidents", params={"status": "resolved"})).json()
    assert resolved["id"] == iid

    # The integrator hears it through the outbox: pause, who is coming, resume.
    await api.service.parts.relay.relay_once()
    actions = [ConversationControl.model_validate_json(m.body).action for m in api.controls]
    assert actions == [
        ControlAction.PAUSE_AI,
        ControlAction.CLINICIAN_JOINING,
        ControlAction.RESUME_AI,
    ]


async def test_unknown_incident_is_404(api: Api) -> None:
    missing = f"/v1/incidents/{UNKNOWN_ID}"

    assert (await api.http.get(missing)).status_code == 404
    assert (await api.http.post(f"{missing}/ack", json={})).status_code == 404


async def test_conflicting_action_is_409(api: Api) -> None:
    await api.alert(alert())
    base = f"/v1/incidents/{await api.incident_id()}"
    await api.http.post(f"{base}/resolve", json={"outcome": "repaired"})

    other_outcome = await api.http.post(f"{base}/resolve", json={"outcome": "false_alarm"})
    join = await api.http.post(f"{base}/join", json={})

    assert other_outcome.status_code == 409
    assert join.status_code == 409
    assert "already resolved" in join.json()["detail"]


async def test_reassign_to_a_user_of_the_tenant_pages_them(api: Api) -> None:
    await api.alert(alert())
    iid = await api.incident_id()

    moved = await api.http.post(f"/v1/incidents/{iid}/reassign", json={"to": "supervisor@tenant-a"})

    assert moved.status_code == 200, moved.text
    assert moved.json()["timeline"][-1]["details"] == {"to": "supervisor@tenant-a"}


@pytest.mark.parametrize(
    "to",
    [
        "nobody@tenant-a",  # no such user
        "clinician@tenant-b",  # a user, of another tenant
    ],
)
async def test_reassign_to_anyone_else_is_422_naming_the_field(api: Api, to: str) -> None:
    await api.alert(alert())
    iid = await api.incident_id()

    refused = await api.http.post(f"/v1/incidents/{iid}/reassign", json={"to": to})

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "body.to", "reason": "names no active user of this tenant"}
    ]
    assert to not in refused.text  # the answer never echoes the value sent
    timeline = (await api.http.get(f"/v1/incidents/{iid}")).json()["timeline"]
    assert "reassigned" not in [e["action"] for e in timeline]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("resolve", {"outcome": "cured"}),
        ("resolve", {"clinician_id": "dr-a"}),
        ("ack", {"clinician_id": "dr a"}),
        ("ack", {"clinician_id": "dr-a", "role": "admin"}),
    ],
)
async def test_bad_body_is_422(api: Api, path: str, body: dict[str, str]) -> None:
    await api.alert(alert())
    iid = await api.incident_id()

    response = await api.http.post(f"/v1/incidents/{iid}/{path}", json=body)

    assert response.status_code == 422
    assert (await api.http.get(f"/v1/incidents/{iid}")).json()["status"] == "open"


async def test_delivery_worker_pass_notifies_through_the_app(api: Api) -> None:
    await api.alert(alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL))

    assert await api.service.parts.delivery.deliver_due() == 1

    [payload] = api.notifier.sent
    assert payload["severity"] == "critical"
    assert payload["url"].startswith("https://attune.example/console/incidents/")


def _count(histogram: Any, severity: str) -> float:
    [sample] = [
        s
        for m in histogram.collect()
        for s in m.samples
        if s.name.endswith("_count") and s.labels["severity"] == severity
    ]
    return float(sample.value)
