"""Trace context: W3C `traceparent` values started, continued and read back; the trace a
handler runs within reaching its log lines, the records it writes, its dead letters, the
escalation outbox and the notifications it queues."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

import httpx
import pytest
import structlog
from faststream.kafka import KafkaMessage, TestKafkaBroker
from faststream.kafka.publisher import DefaultPublisher
from prometheus_client import CollectorRegistry

from attune_classifier.app import build as build_classifier
from attune_classifier.scoring import LexiconScorer
from attune_classifier.settings import ClassifierSettings
from attune_escalation.notify.webhook import WebhookNotifier
from attune_router.app import build as build_router
from attune_router.policy import AlertPolicy, PolicyConfig, Thresholds
from attune_router.settings import RouterSettings
from attune_runtime import tracing
from attune_runtime.clock import ManualClock
from attune_runtime.dead_letter import dead_letter
from attune_runtime.kafka import out_record
from attune_schemas import (
    Alert,
    AlertStatus,
    FieldError,
    InvalidMessage,
    MessageSent,
    RuptureAssessment,
    Sender,
    encode,
)
from tests.factories import T0, alert, assessment
from tests.unit.escalation_support import FakeNotifier, Sessions, apply, delivery, notifications
from tests.unit.test_escalation import FakeBroker, outbox, relay

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def parts(value: str) -> tuple[str, str]:
    _, trace, span, _ = value.split("-")
    return trace, span


def test_a_new_trace_is_a_valid_sampled_traceparent() -> None:
    first, second = tracing.start(), tracing.start()
    assert TRACEPARENT.match(first) and TRACEPARENT.match(second)
    assert first.endswith("-01")  # sampled: a deployment's exporter keeps it
    assert parts(first)[0] != parts(second)[0]
    assert tracing.trace_id(first) == parts(first)[0]


def test_a_child_keeps_the_trace_and_its_flags_and_takes_a_span_of_its_own() -> None:
    parent = tracing.start()
    child = tracing.start(parent)
    assert parts(child)[0] == parts(parent)[0]
    assert parts(child)[1] != parts(parent)[1]
    unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    assert tracing.start(unsampled).endswith("-00")


def test_a_missing_or_malformed_parent_starts_a_new_trace() -> None:
    zero_trace = "00-" + "0" * 32 + "-" + "1" * 16 + "-01"
    for bad in (None, "", "garbage", zero_trace, "00-abc-def-01"):
        assert TRACEPARENT.match(tracing.start(bad))
        assert tracing.trace_id(bad) is None
        assert tracing.valid(bad) is None
        assert tracing.next_hop(bad) is None  # outside a trace: none to continue


def test_without_an_sdk_start_is_the_propagators_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """`start`'s direct path gives what OpenTelemetry's propagator and `_hop` give, given the
    same random bits, for every kind of parent header."""
    assert tracing._without_sdk()
    ok = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    parents = [
        None, "", "garbage", ok, ok[:-2] + "00", ok[:-2] + "ff", " \t" + ok + " ", ok + "\n",
        ok + "-x", "01" + ok[2:] + "-more", "ff" + ok[2:], ok[:36] + "0" * 16 + "-01",
        "00-" + "0" * 32 + "-" + "1" * 16 + "-01", ok.upper(), "00-abc-def-01", ok + " " * 600,
        "cc" + ok[2:], "cc" + ok[2:] + "-future",
    ]  # fmt: skip
    bits = [iter(range(1, 1000))]  # the same random bits for both paths
    monkeypatch.setattr(tracing, "_nonzero", lambda _: next(bits[0]))
    for parent in parents:
        bits[0] = iter(range(1, 1000))
        fast = tracing.start(parent)
        bits[0] = iter(range(1, 1000))
        assert fast == tracing._render(tracing._hop(tracing._span(parent))), parent


def test_the_header_is_read_from_a_records_headers() -> None:
    value = tracing.start()
    headers = [("event_type", b"alert"), ("traceparent", value.encode())]
    assert tracing.from_headers(headers) == value
    assert tracing.from_headers([("event_type", b"alert")]) is None
    assert tracing.from_headers(None) is None


def event() -> MessageSent:
    return MessageSent(
        event_id=UUID(int=1), conversation_id="c1",
        tenant_id="t1", occurred_at=T0, session_id="s1", message_id="m1",
        sender=Sender.CLIENT, text="hello",
    )  # fmt: skip


def test_within_a_trace_logs_carry_its_id_and_what_is_written_continues_it() -> None:
    parent = tracing.start()
    assert tracing.current() is None
    with (
        structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs,
        tracing.within(parent) as handled,
    ):
        structlog.get_logger().info("alert_applied", alert_id="a1")
        written, again = tracing.current(), tracing.current()
        record = out_record("conversation.events", event())
    assert handled == tracing.trace_id(parent)
    assert written is not None and tracing.trace_id(written) == tracing.trace_id(parent)
    assert len({written, again, parent}) == 3  # one trace, a span id per hop
    assert logs[0]["trace_id"] == tracing.trace_id(parent)
    assert tracing.trace_id(tracing.from_headers(record.headers)) == tracing.trace_id(parent)
    # Outside, nothing is current and a record starts its own trace (ingest: one per event).
    assert tracing.current() is None
    outside = [out_record("conversation.events", event()) for _ in range(2)]
    ids = {tracing.trace_id(tracing.from_headers(r.headers)) for r in outside}
    assert len(ids) == 2 and tracing.trace_id(parent) not in ids


def test_within_no_trace_starts_one() -> None:
    with tracing.within(None) as started, tracing.within("garbage") as other:
        assert started is not None and other is not None and started != other
        assert tracing.trace_id(tracing.current()) == other


def test_resumed_continues_a_valid_trace_and_starts_none_otherwise() -> None:
    parent = tracing.start()
    with tracing.resumed(parent):
        assert tracing.trace_id(tracing.current()) == tracing.trace_id(parent)
    for nothing in (None, "garbage"):
        with tracing.resumed(nothing):
            assert tracing.current() is None


@dataclass
class Record:
    topic: str = "rupture.assessments"
    partition: int = 0
    offset: int = 7
    key: bytes = b"c1"
    value: bytes = b"{"
    headers: tuple[tuple[str, bytes], ...] = ()


class Sink:
    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    async def publish(self, body: bytes, *, key: bytes | None, headers: dict[str, str]) -> None:
        self.headers.append(headers)


async def test_a_dead_letter_continues_the_trace_of_the_record_it_holds() -> None:
    sink, clock = Sink(), ManualClock(T0)
    error = InvalidMessage("invalid_json", (FieldError(field="(value)", reason="not JSON"),))
    parent = tracing.start()
    handled = tracing.start()  # a batch handler may be within another record's trace
    with tracing.within(handled):
        for record in (Record(headers=(("traceparent", parent.encode()),)), Record()):
            await dead_letter(
                cast(DefaultPublisher, sink),
                record=record, error=error, service="router", clock=clock,
            )  # fmt: skip
    own, fallback = (h["traceparent"] for h in sink.headers)
    assert tracing.trace_id(own) == tracing.trace_id(parent) and own != parent
    assert tracing.trace_id(fallback) == tracing.trace_id(handled)
    await dead_letter(
        cast(DefaultPublisher, sink), record=Record(), error=error, service="router", clock=clock
    )
    assert "traceparent" not in sink.headers[-1]  # no trace anywhere: none made up


async def test_an_alerts_trace_reaches_its_outbox_rows_and_notifications(
    sessions: Sessions, clock: ManualClock
) -> None:
    parent = tracing.start()
    trace = tracing.trace_id(parent)
    with tracing.within(parent):
        await apply(sessions, alert())
    rows = await outbox(sessions)
    queued = await notifications(sessions)
    assert rows and queued
    carried = [r.traceparent for r in rows] + [n.traceparent for n in queued]
    assert {tracing.trace_id(t) for t in carried} == {trace}
    # The relay publishes each row with its trace in the record's headers.
    broker = FakeBroker()
    await relay(sessions, broker, clock).relay_once()
    assert {tracing.trace_id(p.headers["traceparent"]) for p in broker.published} == {trace}

    # Delivery sends the trace as the request's header; the `notified` event continues it.
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(receive))
    hook = WebhookNotifier("https://hooks.example/a", client=client, channel="webhook:0")
    await delivery(sessions, clock, FakeNotifier("console"), cast(Any, hook)).deliver_due()
    [request] = seen
    assert tracing.trace_id(request.headers["traceparent"]) == trace
    notified = [r for r in await outbox(sessions) if r.id > rows[-1].id]
    assert len(notified) == 2
    assert {tracing.trace_id(r.traceparent) for r in notified} == {trace}


async def test_work_no_record_caused_carries_no_trace(
    sessions: Sessions, clock: ManualClock
) -> None:
    await apply(sessions, alert())  # outside any trace (a test, a tool)
    assert {r.traceparent for r in await outbox(sessions)} == {None}
    assert {n.traceparent for n in await notifications(sessions)} == {None}
    broker = FakeBroker()
    await relay(sessions, broker, clock).relay_once()
    assert all("traceparent" not in p.headers for p in broker.published)


# With an SDK installed (a deployment's choice), the same calls record real spans, parented
# across hops by the header. Run in a process of its own: a tracer provider is process-wide.
SDK_SCRIPT = """
import json
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from attune_runtime import tracing

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
with tracing.within(incoming, "alerts process") as handled:
    written = tracing.current()
with tracing.within(written, "escalation.events process"):
    pass
print(json.dumps({
    "handled": handled,
    "written": written,
    "spans": [
        {"name": s.name, "kind": s.kind.name, "trace": format(s.context.trace_id, "032x"),
         "span": format(s.context.span_id, "016x"),
         "parent": format(s.parent.span_id, "016x") if s.parent else None}
        for s in exporter.get_finished_spans()
    ],
}))
"""


def test_with_an_sdk_the_hops_are_recorded_spans_parented_by_the_header() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert found["handled"] == trace and tracing.trace_id(found["written"]) == trace
    spans = {s["name"]: s for s in found["spans"]}
    assert {s["trace"] for s in spans.values()} == {trace}
    assert spans["alerts process"]["kind"] == "CONSUMER"
    assert spans["alerts process"]["parent"] == "00f067aa0ba902b7"  # the integrator's span
    assert spans["publish"]["kind"] == "PRODUCER"
    assert spans["publish"]["parent"] == spans["alerts process"]["span"]
    assert found["written"].split("-")[2] == spans["publish"]["span"]  # the header names it
    assert spans["escalation.events process"]["parent"] == spans["publish"]["span"]


# --- the router: an alert continues the trace of the assessment that decided it ----------------

POLICY = PolicyConfig(
    rupture=Thresholds(fire=0.6, resolve=0.3),
    disengagement=Thresholds(fire=0.55, resolve=0.25),
    resolve_after=3,
    episode_timeout=timedelta(minutes=30),
    crisis_inhibits=timedelta(minutes=10),
    crisis_critical=0.5,
    accumulate_floor=1.01,
    exchange_fire=1.01,
)


def test_a_batch_names_the_assessment_behind_each_alert_and_none_for_the_sweeps() -> None:
    policy = AlertPolicy(POLICY)
    quiet = assessment(conversation_id="conv-quiet", rupture=0.8)
    first = policy.decide_batch([(quiet, 0)], snapshot=policy.snapshot(set()), now=T0)
    later = assessment(conversation_id="conv-busy", rupture=0.8, at=T0 + timedelta(hours=2))
    second = policy.decide_batch(
        [(later, 0)], snapshot=policy.snapshot(set()), now=T0 + timedelta(hours=2)
    )

    [fired] = first.alerts
    assert first.causes == {fired.event_id: quiet.event_id}
    busy, swept = second.alerts  # the busy one fires; the quiet one is resolved by the sweep
    assert (swept.conversation_id, swept.status) == ("conv-quiet", AlertStatus.RESOLVED)
    assert second.causes == {busy.event_id: later.event_id}


async def test_each_alert_of_the_router_carries_its_assessments_trace(clock: ManualClock) -> None:
    settings = RouterSettings(retry_backoff_seconds=0, retry_backoff_max_seconds=0)
    service = build_router(
        settings, clock=clock, registry=CollectorRegistry(), rebuild_on_assign=False
    )
    received: list[tuple[Alert, str | None]] = []

    @service.broker.subscriber("alerts")
    async def alerts(msg: KafkaMessage) -> None:
        received.append((Alert.model_validate_json(msg.body), msg.headers.get("traceparent")))

    sent = {f"conv-{n}": tracing.start() for n in range(2)}
    with structlog.testing.capture_logs() as logs:
        async with TestKafkaBroker(service.broker):
            for conversation_id, traceparent in sent.items():
                crisis = assessment(conversation_id=conversation_id, crisis=True, crisis_score=0.9)
                await service.broker.publish(
                    encode(crisis),
                    topic="rupture.assessments",
                    key=conversation_id.encode(),
                    headers={"traceparent": traceparent},
                )

    assert sorted(a.conversation_id for a, _ in received) == sorted(sent)
    for fired_alert, header in received:
        theirs = sent[fired_alert.conversation_id]
        assert tracing.trace_id(header) == tracing.trace_id(theirs)
        assert header != theirs  # a span id of its own
    fired = {
        line["conversation_id"]: line["trace_id"] for line in logs if line["event"] == "alert_fired"
    }
    assert fired == {c: tracing.trace_id(t) for c, t in sent.items()}


# --- the classifier: an assessment continues the trace of the message it assesses -------------


async def test_each_assessment_continues_its_messages_trace_and_one_without_starts_its_own(
    clock: ManualClock,
) -> None:
    settings = ClassifierSettings(retry_backoff_seconds=0, retry_backoff_max_seconds=0)
    service = build_classifier(
        settings, clock=clock, registry=CollectorRegistry(), scorer=LexiconScorer(),
        rebuild_on_assign=False,
    )  # fmt: skip
    received: dict[str, str | None] = {}

    @service.broker.subscriber("rupture.assessments")
    async def assessments(msg: KafkaMessage) -> None:
        found = RuptureAssessment.model_validate_json(msg.body)
        received[str(found.message_id)] = msg.headers.get("traceparent")

    def message(n: int, sender: Sender, text: str) -> MessageSent:
        return MessageSent(
            event_id=UUID(int=n + 1), conversation_id="c-trace", tenant_id="t",
            occurred_at=T0 + timedelta(seconds=30 * n), message_id=f"m{n}", sender=sender,
            text=text,
        )  # fmt: skip

    traced = tracing.start()
    sent = [
        (message(0, Sender.AI, "What's been on your mind?"), None),
        (message(1, Sender.CLIENT, "work mostly, and I am not sleeping"), traced),
        (message(2, Sender.AI, "That sounds hard. What keeps you up?"), None),
        (message(3, Sender.CLIENT, "whatever"), None),  # no header: a trace of its own
    ]
    async with TestKafkaBroker(service.broker):
        for event, header in sent:
            await service.broker.publish(
                encode(event), topic="conversation.events", key=b"c-trace",
                headers={"traceparent": header} if header else None,
            )  # fmt: skip

    assert set(received) == {"m1", "m3"}  # AI turns are not assessed
    continued, own = received["m1"], received["m3"]
    assert continued is not None and TRACEPARENT.match(continued)
    assert tracing.trace_id(continued) == tracing.trace_id(traced) and continued != traced
    assert own is not None and TRACEPARENT.match(own)
    assert tracing.trace_id(own) != tracing.trace_id(traced)
