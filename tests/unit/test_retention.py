"""Retention on an injected clock: past the period after resolution the text is gone, open and
recent incidents keep theirs, and the audit trail remains."""

from __future__ import annotations

import json
from datetime import timedelta

from structlog.testing import capture_logs

from attune_auth.principal import Role
from attune_runtime.clock import ManualClock
from tests.factories import alert
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
