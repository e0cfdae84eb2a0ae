"""The console's silences page: the tenant's silences in clinical words, read-only for a
clinician, a form and expire buttons for a supervisor, and the form pre-filled from an incident."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from attune_auth.principal import Role
from attune_runtime.clock import ManualClock
from attune_schemas import AlertKind, Severity
from tests.factories import T0, alert
from tests.identity import Identity, username
from tests.unit.escalation_support import Api
from tests.unit.test_console import incident_of


def supervisor(identity: Identity, clock: ManualClock, tenant: str = "tenant-a") -> Any:
    return identity.bearer(tenant, Role.SUPERVISOR, clock)


async def silence(api: Api, identity: Identity, clock: ManualClock, **matchers: str) -> str:
    made = await api.http.post(
        "/v1/silences",
        json={
            "matchers": matchers,
            "ends_at": (T0 + timedelta(hours=4)).isoformat(),
            "comment": "integration retries",
        },
        headers=supervisor(identity, clock),
    )
    assert made.status_code == 201, made.text
    sid: str = made.json()["id"]
    return sid


async def test_a_clinician_reads_the_silences_in_clinical_words(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    sid = await silence(api, identity, clock, kind="rupture", severity="high")

    page = await api.http.get("/console/silences")

    assert page.status_code == 200
    assert f'data-id="{sid}"' in page.text
    assert "Alliance rupture alerts, high severity in every conversation" in page.text
    assert username("tenant-a", Role.SUPERVISOR) in page.text and "integration retries" in page.text
    assert "In force" in page.text and "Mon 02 Mar 13:00 UTC" in page.text
    assert 'id="new-silence"' not in page.text and "data-expire" not in page.text
    assert 'aria-current="page">Silences' in page.text


async def test_a_supervisor_sees_the_form_and_can_expire(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    sid = await silence(api, identity, clock, kind="disengagement")
    ended = await silence(api, identity, clock, severity="warning")
    await api.http.post(f"/v1/silences/{ended}/expire", headers=supervisor(identity, clock))

    page = await api.http.get("/console/silences", headers=supervisor(identity, clock))

    assert 'id="new-silence"' in page.text
    assert f'data-expire="{sid}"' in page.text and f'data-expire="{ended}"' not in page.text
    assert page.text.index(f'data-id="{sid}"') < page.text.index(f'data-id="{ended}"')
    assert f"Ended (ended by {username('tenant-a', Role.SUPERVISOR)})" in page.text
    assert '<option value="crisis"' not in page.text  # a crisis is never offered


async def test_an_incident_pre_fills_the_form_with_its_conversation(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    await api.alert(alert(conversation_id="conv-noisy"))
    iid = await incident_of(api, "conv-noisy")
    link = f'href="/console/silences?incident={iid}"'
    assert link not in (await api.http.get(f"/console/incidents/{iid}")).text  # a clinician's
    incident_page = await api.http.get(
        f"/console/incidents/{iid}", headers=supervisor(identity, clock)
    )
    assert link in incident_page.text

    page = await api.http.get(
        "/console/silences", params={"incident": iid}, headers=supervisor(identity, clock)
    )

    assert page.status_code == 200
    assert 'value="conv-noisy"' in page.text
    assert '<option value="rupture" selected>' in page.text
    other = await api.http.get(
        "/console/silences",
        params={"incident": iid},
        headers=supervisor(identity, clock, "tenant-b"),
    )
    assert other.status_code == 404 and "conv-noisy" not in other.text


async def test_a_crisis_incident_offers_no_silence(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    await api.alert(
        alert(conversation_id="conv-c", kind=AlertKind.CRISIS, severity=Severity.CRITICAL)
    )
    iid = await incident_of(api, "conv-c")

    page = await api.http.get(f"/console/incidents/{iid}", headers=supervisor(identity, clock))

    assert page.status_code == 200 and "/console/silences?incident=" not in page.text
