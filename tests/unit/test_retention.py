"""Retention on an injected clock: past the period after resolution the text is gone, open and
recent incidents keep theirs, and the audit trail remains."""

from __future__ import annotations

import json
from datetime import timedelta

from structlog.testing import capture_logs

from attune_auth.principal import Role
from attune_escalation import turns
from attune_runtime.clock import ManualClock
from attune_schemas import Sender
from tests.factories import alert, recent_turns
from tests.identity import Identity
from tests.unit.escalation_support import EXCERPT, Api
from tests.unit.test_auth import audit_records

NOTE = "Client said she felt dismissed; agreed a check-in"


def login_again(api: Api, identity: Identity, clock: ManualClock) -> None:
    api.http.headers.update(identity.bearer("tenant-a", Role.CLINICIAN, clock))


async def open_incident(api: Api, conversation: str) -> str:
    await api.alert(alert(conversation_id=conversation))
    listed = await api.http.get("/v1/incidents", params={"conversation_id": conversation})
    iid: str = listed.json()[0]["id"]
    return iid


async def test_text_is_deleted_past_retention_after_resolution_and_the_audit_remains(
    api: Api, clock: ManualClock, identity: Identity
) -> None:
    old = await open_incident(api, "c-old")
    still_open = await open_incident(api, "c-open")
    await api.http.get(f"/v1/incidents/{old}")
    resolved = await api.http.post(
        f"/v1/incidents/{old}/resolve", json={"outcome": "repaired", "note": NOTE}
    )
    assert resolved.status_code == 200
    clock.advance(timedelta(days=20))
    login_again(api, identity, clock)  # tokens live 15 minutes
    recent = await open_incident(api, "c-recent")
    await api.http.post(
        f"/v1/incidents/{recent}/resolve", json={"outcome": "repaired", "note": NOTE}
    )
    before = await audit_records(identity)

    clock.advance(timedelta(days=10, seconds=1))  # the first is 30 days past resolution
    with capture_logs() as logs:
        done = await api.service.parts.retention.run_once()
    login_again(api, identity, clock)

    detail = {
        i: (await api.http.get(f"/v1/incidents/{i}")).json() for i in (old, still_open, recent)
    }
    assert (done.notes, done.alerts) == (1, 1)
    assert detail[old]["resolution_note"] is None
    assert EXCERPT not in json.dumps(detail[old])
    assert detail[old]["alerts"][0]["evidence"][0]["excerpt"] == "[deleted after retention]"
    assert detail[old]["timeline"] == resolved.json()["timeline"]  # who did what stays
    assert EXCERPT in json.dumps(detail[still_open])  # open: kept however old
    assert detail[recent]["resolution_note"] == NOTE  # resolved 10 days ago: kept
    after = await audit_records(identity)
    assert [r.seq for r in after[: len(before)]] == [r.seq for r in before]  # nothing removed
    [purge] = [r for r in after if r.action == "text_deleted_after_retention"]
    assert (purge.actor, purge.tenant_id, purge.details["records"]) == (
        "system:retention",
        "tenant-a",
        2,
    )
    [line] = [entry for entry in logs if entry["event"] == "retention_purged"]
    assert (line["notes"], line["alerts"]) == (1, 1)
    assert NOTE not in json.dumps(logs, default=str) and EXCERPT not in json.dumps(
        logs, default=str
    )

    again = await api.service.parts.retention.run_once()  # idempotent: nothing left to delete
    assert (again.notes, again.alerts) == (0, 0)


async def test_the_conversations_turns_are_deleted_with_the_rest_of_the_text(
    api: Api, clock: ManualClock, identity: Identity
) -> None:
    said = recent_turns((Sender.AI, "How did the week go?"), (Sender.CLIENT, "I felt dismissed"))
    for conversation in ("c-old", "c-open"):
        await api.alert(
            alert(conversation_id=conversation).model_copy(update={"recent_turns": said})
        )
    old, still_open = [
        (await api.http.get("/v1/incidents", params={"conversation_id": c})).json()[0]["id"]
        for c in ("c-old", "c-open")
    ]
    await api.http.post(f"/v1/incidents/{old}/resolve", json={"outcome": "repaired"})

    clock.advance(timedelta(days=29))
    login_again(api, identity, clock)
    early = await api.service.parts.retention.run_once()
    clock.advance(timedelta(days=1, seconds=1))
    with capture_logs() as logs:
        done = await api.service.parts.retention.run_once()
    login_again(api, identity, clock)

    assert early.turns == 0  # not yet 30 days past resolution
    assert done.turns == 2
    async with api.service.parts.sessions() as session:
        kept = {(t.incident_id, t.message_id): t.text for t in await turns.of(session, old)}
        kept |= {(t.incident_id, t.message_id): t.text for t in await turns.of(session, still_open)}
    assert kept == {
        (old, "m1"): None,  # the message ids and times stay; the words are gone
        (old, "m2"): None,
        (still_open, "m1"): "How did the week go?",  # open: kept however old
        (still_open, "m2"): "I felt dismissed",
    }
    [line] = [entry for entry in logs if entry["event"] == "retention_purged"]
    assert line["turns"] == 2 and "dismissed" not in json.dumps(logs, default=str)
    [purge] = [
        r for r in await audit_records(identity) if r.action == "text_deleted_after_retention"
    ]
    assert purge.details["records"] == 3  # the alert's evidence and the two turns
    page = (await api.http.get(f"/console/incidents/{old}")).text
    assert "How did the week go?" not in page and "dismissed" not in page
    assert 'class="deleted">Text deleted after the retention period.' in page
    assert (await api.service.parts.retention.run_once()).turns == 0  # nothing left to delete
