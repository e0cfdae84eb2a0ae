"""Every channel against a real local receiver that parses what it gets: the signed webhook, a
Slack-compatible webhook (Block Kit), PagerDuty Events v2, email through a real SMTP server
(aiosmtpd). And delivery: one channel's slowness never holds up another; critical goes first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from attune_escalation.db import make_engine, make_sessions
from attune_escalation.migrate import upgrade_async
from attune_escalation.notify import NotifyError
from attune_escalation.notify.email import EmailNotifier
from attune_escalation.notify.pagerduty import PagerDutyNotifier
from attune_escalation.notify.slack import SlackNotifier
from attune_escalation.notify.webhook import WebhookNotifier
from attune_runtime.clock import ManualClock
from attune_schemas import AlertKind, Severity
from tests.factories import T0, alert
from tests.integration.escalation_process import free_port
from tests.integration.webhook_receiver import WebhookReceiver
from tests.unit.escalation_support import EXCERPT, FakeNotifier, Sessions, apply, delivery

pytestmark = pytest.mark.integration

PAYLOAD: dict[str, Any] = {
    "incident_id": "6b0c2f5e-2f7e-4b55-9b7a-3f0e0a1d2c3b",
    "tenant_id": "clinic-a",
    "conversation_id": "conv-9",
    "reason": "opened",
    "severity": "critical",
    "status": "open",
    "kinds": ["crisis"],
    "alert_kind": "crisis",
    "risk": 0.97,
    "crisis_categories": ["suicidal_ideation"],
    "markers": ["passive_death_wish"],
    "recipients": ["dr-ada"],
    "tier": 1,
    "opened_at": T0.isoformat(),
    "url": "https://attune.example/console/incidents/6b0c2f5e-2f7e-4b55-9b7a-3f0e0a1d2c3b",
}
KEY = "0d5b1c1e-3f6a-5b7e-9c2d-4a8e6f1b3c5d"


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'escalation.db'}"
    await upgrade_async(url)
    engine = make_engine(url)
    yield make_sessions(engine)
    await engine.dispose()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start()
    yield r
    r.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as c:
        yield c


def verify(secret: str, headers: dict[str, str], raw: bytes, *, now: float) -> bool:
    """The receiver's check, as the README documents it."""
    timestamp = headers["X-Attune-Timestamp"]
    if abs(now - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256)
    return hmac.compare_digest(headers["X-Attune-Signature"], f"v1={expected.hexdigest()}")


async def test_the_webhook_is_signed_and_a_receiver_can_verify_it(
    receiver: WebhookReceiver, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    notifier = WebhookNotifier(
        receiver.url, client=client, channel="integrator", secret="s3cret", clock=clock
    )

    await notifier.send(PAYLOAD, idempotency_key=KEY)

    [got] = receiver.deliveries
    assert got.body == {"type": "attune.incident", **PAYLOAD, "idempotency_key": KEY}
    now = clock.now().timestamp()
    assert verify("s3cret", got.headers, got.raw, now=now)
    assert not verify("other", got.headers, got.raw, now=now)
    assert not verify("s3cret", got.headers, got.raw.replace(b"dr-ada", b"dr-eve"), now=now)
    assert not verify("s3cret", got.headers, got.raw, now=now + 301)  # a replay, too late


async def test_slack_gets_block_kit_naming_severity_kind_waiting_time_and_a_link(
    receiver: WebhookReceiver, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=3, seconds=7))
    notifier = SlackNotifier(receiver.url, client=client, clock=clock, channel="clinic-a-slack")

    await notifier.send({**PAYLOAD, "excerpt": EXCERPT}, idempotency_key=KEY)

    [got] = receiver.deliveries
    message = got.body
    header, section, actions, context = message["blocks"]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Attune: CRITICAL crisis: needs a clinician"
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in section["fields"]}
    assert fields["*Severity*"] == "critical"
    assert fields["*Kind*"] == "crisis"
    assert fields["*Waiting*"] == "3m 07s"
    assert fields["*Paged*"] == "dr-ada (tier 1)"
    [button] = actions["elements"]
    assert button["url"] == PAYLOAD["url"]
    assert PAYLOAD["incident_id"] in context["elements"][0]["text"]
    assert message["text"].endswith("Attune: CRITICAL crisis: needs a clinician")
    assert EXCERPT not in got.raw.decode()  # labels and links, never conversation text


async def test_pagerduty_triggers_and_resolves_one_alert_by_a_stable_dedup_key(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    notifier = PagerDutyNotifier("routing-key-1", client=client, url=receiver.url)

    await notifier.send(PAYLOAD, idempotency_key=KEY)
    await notifier.send({**PAYLOAD, "reason": "escalated", "tier": 2}, idempotency_key="k2")
    await notifier.send({**PAYLOAD, "reason": "acknowledged"}, idempotency_key="k3")
    await notifier.send({**PAYLOAD, "reason": "resolved"}, idempotency_key="k4")

    events = [d.body for d in receiver.deliveries]
    assert [e["event_action"] for e in events] == ["trigger", "trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in events} == {f"attune-{PAYLOAD['incident_id']}"}
    assert {e["routing_key"] for e in events} == {"routing-key-1"}
    trigger = events[0]
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["source"] == "attune/clinic-a"
    assert trigger["links"] == [{"href": PAYLOAD["url"], "text": "Open incident"}]
    assert "payload" not in events[3]


async def test_pagerduty_says_which_failures_to_retry(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    notifier = PagerDutyNotifier("k", client=client, url=receiver.url)
    for status, retryable in ((429, True), (503, True), (400, False)):
        receiver.answer = status
        with pytest.raises(NotifyError) as info:
            await notifier.send(PAYLOAD, idempotency_key=KEY)
        assert info.value.retryable is retryable


class Inbox:
    """An aiosmtpd handler that parses every message it accepts (or refuses with 550)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.refuse = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "550 mailbox unavailable"
        content = envelope.original_content or b""
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def mailer(controller: Controller, **kw: Any) -> EmailNotifier:
    return EmailNotifier(
        host="127.0.0.1",
        port=controller.port,
        sender="attune@clinic-a.example",
        addresses={"dr-ada": "ada@clinic-a.example", "dr-ben": "ben@clinic-a.example"},
        to=kw.pop("to", ["duty@clinic-a.example"]),
        timeout=5,
        channel="clinic-a-email",
    )


async def test_email_reaches_the_paged_clinician_through_a_real_smtp_server(
    smtp: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp

    await mailer(controller).send({**PAYLOAD, "excerpt": EXCERPT}, idempotency_key=KEY)
    await mailer(controller).send({**PAYLOAD, "recipients": ["dr-unknown"]}, idempotency_key="k2")

    (to, msg), (fallback, _) = inbox.messages
    assert to == ["ada@clinic-a.example"]
    assert fallback == ["duty@clinic-a.example"]  # nobody paged has an address: the duty list
    assert msg["Subject"] == "[Attune CRITICAL] crisis (opened): conversation conv-9"
    assert msg["Idempotency-Key"] == KEY
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert PAYLOAD["url"] in body and "Paged: dr-ada" in body and "tier 1" in body
    assert EXCERPT not in body


async def test_email_refused_is_final_and_a_server_down_is_retried(
    smtp: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp
    notifier = mailer(controller)
    inbox.refuse = True
    with pytest.raises(NotifyError) as refused:
        await notifier.send(PAYLOAD, idempotency_key=KEY)
    assert (refused.value.reason, refused.value.retryable) == ("smtp_550", False)

    nobody = EmailNotifier(
        host="127.0.0.1",
        port=free_port(),  # no SMTP server there: down
        sender="attune@clinic-a.example",
        addresses={},
        to=["duty@clinic-a.example"],
        timeout=5,
    )
    with pytest.raises(NotifyError) as down:
        await nobody.send(PAYLOAD, idempotency_key=KEY)
    assert down.value.retryable


class Hanging(FakeNotifier):
    """A channel whose receiver answers only when released: the slow webhook."""

    def __init__(self, channel: str) -> None:
        super().__init__(channel)
        self.release = asyncio.Event()

    async def send(self, payload: Any, *, idempotency_key: str) -> None:
        await self.release.wait()
        await super().send(payload, idempotency_key=idempotency_key)


async def test_a_slow_channel_never_delays_another(sessions: Sessions, clock: ManualClock) -> None:
    for i in range(5):
        await apply(sessions, alert(conversation_id=f"c-{i}"), channels=("slow", "console"))
    slow, console = Hanging("slow"), FakeNotifier("console")
    worker = asyncio.create_task(delivery(sessions, clock, slow, console).deliver_due())

    deadline = time.monotonic() + 30
    while len(console.sent) < 5:
        assert time.monotonic() < deadline, "the console waited for the slow channel"
        await asyncio.sleep(0.01)
    assert slow.sent == []  # still waiting on its first answer

    slow.release.set()
    assert await worker == 10
    assert len(slow.sent) == 5


async def test_critical_notifications_go_first(sessions: Sessions, clock: ManualClock) -> None:
    for i in range(3):
        await apply(sessions, alert(conversation_id=f"w-{i}", severity=Severity.WARNING))
    await apply(
        sessions,
        alert(conversation_id="c-crisis", kind=AlertKind.CRISIS, severity=Severity.CRITICAL),
    )
    console = FakeNotifier("console")

    await delivery(sessions, clock, console).deliver_due("console")

    assert console.sent[0]["conversation_id"] == "c-crisis"
    assert len(console.sent) == 4


async def test_a_blip_is_retried_within_the_attempt(sessions: Sessions, clock: ManualClock) -> None:
    await apply(sessions, alert(), channels=("console",))
    blip = NotifyError("http_503", retryable=True)
    console = FakeNotifier("console", failures=[blip, blip])
    worker = delivery(sessions, clock, console)
    worker.quick_attempts, worker.quick_wait_seconds = 3, 0

    assert await worker.deliver_due() == 1

    assert (console.attempts, len(console.sent)) == (3, 1)
