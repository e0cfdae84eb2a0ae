"""Two clinics use the same conversation id at the same time. Each tenant's events go through
every service; nothing of one reaches the other: not the evidence or the triggering AI turn,
not the client's baseline, not a crisis inhibition, not an incident's grouping, not the API."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from demo import Pager, build_events  # deploy/demo/demo.py
from tests.e2e.conftest import ROOT, Stack, run_id, wait_until

pytestmark = pytest.mark.e2e

CRISIS_CLINIC, RUPTURE_CLINIC = "tenant-a", "tenant-b"
COMPARED = ("event_id", "scores", "rupture_type", "crisis", "crisis_categories", "evidence",
            "triggering_turn", "engagement")  # fmt: skip


def as_tenant(events: list[dict[str, Any]], tenant: str, conversation: str) -> list[dict[str, Any]]:
    session = f"{conversation}-s1"
    return [
        {**e, "tenant_id": tenant, "conversation_id": conversation}
        | ({"session_id": session} if "session_id" in e else {})
        for e in events
    ]


def scored_alone(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the classifier says of one tenant's conversation with nothing else around
    (attune-score: the service's own code path, offline)."""
    run = subprocess.run(
        [sys.executable, "-m", "attune_classifier.offline", "-"],
        input="\n".join(json.dumps(e) for e in events),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    out = [json.loads(line) for line in run.stdout.splitlines()]
    return {a["source_event_id"]: {k: a[k] for k in COMPARED} for a in out}


async def test_the_same_conversation_id_in_two_tenants_shares_nothing(
    stack: Stack, pager: Pager, reader: Any
) -> None:
    rid, start = run_id(), datetime.now(UTC) - timedelta(minutes=30)
    shared_id = f"shared-{rid}"
    # Tenant A's client is in crisis; tenant B's, in the same minutes and under the same id,
    # goes through a rupture (the AI pushes a group; she says it is not helpful, withdraws).
    crisis = as_tenant(build_events("crisis", rid, start), CRISIS_CLINIC, shared_id)
    rupture = as_tenant(build_events("rupture", rid, start), RUPTURE_CLINIC, shared_id)
    assessments = await reader(f"{stack.prefix}rupture.assessments")
    alerts = await reader(f"{stack.prefix}alerts")

    async with httpx.AsyncClient(timeout=10, auth=stack.auth(CRISIS_CLINIC)) as client:
        # Interleaved, as two clinics' live traffic would arrive.
        for n in range(max(len(crisis), len(rupture))):
            for events in (crisis, rupture):
                if n < len(events):
                    r = await client.post(f"{stack.url('ingest')}/v1/events", json=events[n])
                    assert r.status_code == 202, r.text
        sent = {e["event_id"] for e in crisis + rupture}
        await assessments.wait_for(
            lambda v: {a["source_event_id"] for a in v} >= _client_messages(crisis + rupture)
        )
        await wait_until(lambda: len(pager.for_conversation(shared_id)) >= 2)
        fired = await alerts.settle(3.0)
        as_a = await client.get(f"{stack.url('escalation')}/v1/incidents")
        b_auth = stack.auth(RUPTURE_CLINIC)
        as_b = await client.get(f"{stack.url('escalation')}/v1/incidents", auth=b_auth)
        [a_incident], [b_incident] = as_a.json(), as_b.json()
        a_reads_b = await client.get(f"{stack.url('escalation')}/v1/incidents/{b_incident['id']}")
        a_acts_on_b = await client.post(
            f"{stack.url('escalation')}/v1/incidents/{b_incident['id']}/join"
        )
        b_detail = await client.get(
            f"{stack.url('escalation')}/v1/incidents/{b_incident['id']}", auth=b_auth
        )
    control = await reader(f"{stack.prefix}conversation.control")
    await control.wait_for(lambda v: any(c["conversation_id"] == shared_id for c in v))
    await control.settle(2.0)

    # Classifier: each tenant's assessments are exactly what its conversation gives alone:
    # the same evidence, triggering AI turns, engagement baselines and crisis findings.
    live = {
        a["source_event_id"]: {k: a[k] for k in COMPARED}
        for a in assessments.values
        if a["source_event_id"] in sent
    }
    for events in (crisis, rupture):
        alone = scored_alone(events)
        assert alone and {k: live[k] for k in alone} == alone
    # Router: A's crisis does not inhibit B's rupture alert; each tenant alerts on its own.
    by_tenant = {(a["tenant_id"], a["kind"]) for a in fired if a["conversation_id"] == shared_id}
    assert (CRISIS_CLINIC, "crisis") in by_tenant
    assert (RUPTURE_CLINIC, "rupture") in by_tenant
    assert (RUPTURE_CLINIC, "crisis") not in by_tenant
    b_rupture = next(
        a for a in fired if a["tenant_id"] == RUPTURE_CLINIC and a["kind"] == "rupture"
    )
    assert b_rupture["triggering_turn"]["excerpt"].startswith("Many people find it helpful")
    # Escalation: one incident per tenant, never grouped; each sees only its own.
    assert (a_incident["tenant_id"], b_incident["tenant_id"]) == (CRISIS_CLINIC, RUPTURE_CLINIC)
    assert a_incident["id"] != b_incident["id"]
    assert "crisis" in a_incident["kinds"] and "crisis" not in b_incident["kinds"]
    assert (a_reads_b.status_code, a_acts_on_b.status_code) == (404, 404)
    texts_of_a = [e["text"] for e in crisis if e["type"] == "message_sent"]
    assert not [t for t in texts_of_a if t in b_detail.text]
    # The integrators: only A's conversation was paused, and no one joined B's.
    actions = {
        (c["tenant_id"], c["action"]) for c in control.values if c["conversation_id"] == shared_id
    }
    assert actions == {(CRISIS_CLINIC, "pause_ai")}


def _client_messages(events: list[dict[str, Any]]) -> set[str]:
    return {
        e["event_id"] for e in events if e["type"] == "message_sent" and e["sender"] == "client"
    }
