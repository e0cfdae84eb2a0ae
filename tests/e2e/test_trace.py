"""One trace from the ingest request to the pager: the W3C `traceparent` an integrator sends
with an event is carried on every record derived from it (assessment, alert, the control and
escalation events through escalation's outbox, the notification's request), and the services
log its id."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from attune_runtime.tracing import from_headers, trace_id
from demo import Pager, build_events  # deploy/demo/demo.py
from tests.e2e.conftest import Stack, run_id, wait_until

pytestmark = pytest.mark.e2e


def traced(records: list[Any], conversation: str) -> list[tuple[dict[str, Any], str | None]]:
    """(value, trace id) of a conversation's records, in order."""
    found = []
    for r in records:
        value = json.loads(r.value)
        if value.get("conversation_id") == conversation:
            found.append((value, trace_id(from_headers(r.headers))))
    return found


async def test_the_integrators_trace_runs_from_the_request_to_the_pager(
    stack: Stack, pager: Pager, reader: Any
) -> None:
    events = build_events("crisis", run_id(), datetime.now(UTC) - timedelta(minutes=5))
    cid = events[0]["conversation_id"]
    # Each event sent with a traceparent of its own, as an integrator that traces would.
    sent = {e["event_id"]: secrets.token_hex(16) for e in events}
    async with httpx.AsyncClient(timeout=10, auth=stack.auth()) as client:
        for e in events:
            theirs = f"00-{sent[e['event_id']]}-{secrets.token_hex(8)}-01"
            r = await client.post(
                f"{stack.url('ingest')}/v1/events", json=e, headers={"traceparent": theirs}
            )
            assert r.status_code == 202, r.text
    await wait_until(lambda: any(c == cid for c, _ in pager.traceparents))
    control = await reader(f"{stack.prefix}conversation.control")
    await control.wait_for(lambda v: any(c["conversation_id"] == cid for c in v))
    trail = await reader(f"{stack.prefix}escalation.events")
    await trail.wait_for(
        lambda v: any(e["conversation_id"] == cid and e["action"] == "notified" for e in v)
    )
    readers = {
        t: await reader(f"{stack.prefix}{t}")
        for t in ("conversation.events", "rupture.assessments", "alerts")
    }
    for topic_reader in readers.values():
        await topic_reader.settle(1.0)

    # Every event kept the trace its request named.
    assert {e["event_id"]: t for e, t in traced(readers["conversation.events"].records, cid)} == (
        sent
    )
    # The control record's trace is the crisis message's: back through the alert and the
    # assessment to the event the integrator sent with it.
    ((pause, trace),) = traced(control.records, cid)
    assert pause["action"] == "pause_ai" and trace is not None
    (crisis,) = [a for a, t in traced(readers["alerts"].records, cid) if t == trace]
    assert crisis["kind"] == "crisis"
    (assessment,) = [
        a
        for a, t in traced(readers["rupture.assessments"].records, cid)
        if t == trace and str(a["event_id"]) in crisis["assessment_ids"]
    ]
    assert sent[str(assessment["source_event_id"])] == trace
    source = next(e for e in events if e["event_id"] == str(assessment["source_event_id"]))
    assert source["type"] == "message_sent" and source["sender"] == "client"
    # The escalation events written with the alert, and the page's own, carry it too; so
    # does the notification's request to the pager.
    actions = {e["action"] for e, t in traced(trail.records, cid) if t == trace}
    assert {"opened", "notified"} <= actions
    assert trace in {trace_id(h) for c, h in pager.traceparents if c == cid}
    # Each hop has its own span id within the one trace.
    spans = [
        from_headers(r.headers)
        for topic_reader in (*readers.values(), control, trail)
        for r in topic_reader.records
        if trace_id(from_headers(r.headers)) == trace
    ]
    assert len(spans) == len(set(spans))

    # The services log the trace id as a field of what they did.
    await wait_until(lambda: trace in stack.log_text("escalation"))
    for service in ("classifier", "router", "escalation"):
        lines = [
            json.loads(line)
            for line in stack.log_text(service).splitlines()
            if line.startswith("{") and trace in line
        ]
        assert any(line.get("trace_id") == trace for line in lines), service
