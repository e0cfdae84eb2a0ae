"""Silences in the escalation service: the API (roles, tenant, crisis refusal, expiry), the
outbox to the `silences` topic, and silenced alerts recorded without paging anyone."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from attune_auth.principal import Role
from attune_escalation import incidents
from attune_escalation.db import Notification, OutboxMessage
from attune_runtime.clock import ManualClock
from attune_schemas import AlertKind, Severity, Silence
from tests.factories import T0, alert
from tests.identity import Identity
from tests.unit.escalation_support import Api, Sessions, apply, notifications

IN_AN_HOUR = (T0 + timedelta(hours=1)).isoformat()
RUPTURES = {"matchers": {"kind": "rupture"}, "ends_at": IN_AN_HOUR, "comment": "load test"}


def as_(identity: Identity, clock: ManualClock, role: Role, tenant: str = "tenant-a") -> Any:
    return identity.bearer(tenant, role, clock)


async def create(api: Api, identity: Identity, clock: ManualClock, **body: Any) -> Any:
    return await api.http.post(
        "/v1/silences",
        json={**RUPTURES, **body},
        headers=as_(identity, clock, Role.SUPERVISOR),
    )


async def staged_silences(api: Api) -> list[tuple[str, Silence]]:
    async with api.service.parts.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.topic == "silences")
            .order_by(OutboxMessage.id)
        )
        return [(r.key, Silence.model_validate_json(r.payload)) for r in rows]


# --- the API ----------------------------------------------------------------------------------


async def test_a_supervisor_creates_a_silence_of_their_tenant_as_themselves(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    created = await create(
        api, identity, clock, matchers={"kind": "rupture", "conversation_id": "c-9"}
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["tenant_id"], body["created_by"], body["state"]) == (
        "tenant-a",
        "supervisor@tenant-a",
        "active",
    )
    assert body["matchers"] == {"conversation_id": "c-9", "kind": "rupture", "severity": None}
    [(key, message)] = await staged_silences(api)
    assert key == body["id"] == str(message.silence_id)
    assert (message.tenant_id, message.created_by, message.comment) == (
        "tenant-a",
        "supervisor@tenant-a",
        "load test",
    )


@pytest.mark.parametrize("smuggled", [{"tenant_id": "tenant-b"}, {"created_by": "someone"}])
async def test_the_body_cannot_name_the_tenant_or_the_creator(
    api: Api, identity: Identity, clock: ManualClock, smuggled: dict[str, str]
) -> None:
    refused = await create(api, identity, clock, **smuggled)

    assert refused.status_code == 422
    assert await staged_silences(api) == []


@pytest.mark.parametrize(
    ("matchers", "field", "reason"),
    [
        ({"kind": "crisis"}, "kind", "a crisis can never be silenced"),
        (
            {"kind": "rupture", "severity": "critical"},
            "severity",
            "critical alerts are crises and can never be silenced",
        ),
        ({}, "kind", "without it the silence could match a crisis alert"),
        ({"conversation_id": "c-1"}, "kind", "without it the silence could match a crisis"),
        ({"severity": "high"}, "kind", "without it the silence could match a crisis alert"),
    ],
)
async def test_a_silence_that_could_match_a_crisis_is_refused_naming_the_field(
    api: Api,
    identity: Identity,
    clock: ManualClock,
    matchers: dict[str, str],
    field: str,
    reason: str,
) -> None:
    refused = await create(api, identity, clock, matchers=matchers)

    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == f"body.matchers.{field}"
    assert reason in error["reason"]
    assert await staged_silences(api) == []


@pytest.mark.parametrize(
    ("ends", "reason"),
    [
        (T0 - timedelta(minutes=1), "must be after the start"),
        (T0 + timedelta(days=31), "at most 30 days"),
    ],
)
async def test_a_silence_is_time_bounded(
    api: Api, identity: Identity, clock: ManualClock, ends: Any, reason: str
) -> None:
    refused = await create(api, identity, clock, ends_at=ends.isoformat())

    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "body.ends_at" and reason in error["reason"]


async def test_clinicians_list_silences_but_may_not_create_or_expire_them(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    sid = (await create(api, identity, clock)).json()["id"]
    clinician = as_(identity, clock, Role.CLINICIAN)

    assert (
        await api.http.post("/v1/silences", json=RUPTURES, headers=clinician)
    ).status_code == 403
    expire = await api.http.post(f"/v1/silences/{sid}/expire", headers=clinician)
    assert expire.status_code == 403
    [listed] = (await api.http.get("/v1/silences", headers=clinician)).json()
    assert listed["id"] == sid
    other = await api.http.get("/v1/silences", headers=as_(identity, clock, Role.ADMIN, "tenant-b"))
    assert other.json() == []  # another tenant sees none of tenant-a's


async def test_expiring_ends_the_silence_now_once_and_another_tenant_cannot(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    sid = (await create(api, identity, clock)).json()["id"]
    clock.advance(timedelta(minutes=10))

    stranger = as_(identity, clock, Role.ADMIN, "tenant-b")
    assert (await api.http.post(f"/v1/silences/{sid}/expire", headers=stranger)).status_code == 404
    supervisor = as_(identity, clock, Role.SUPERVISOR)
    first = await api.http.post(f"/v1/silences/{sid}/expire", headers=supervisor)
    clock.advance(timedelta(minutes=1))
    again = await api.http.post(f"/v1/silences/{sid}/expire", headers=supervisor)

    assert first.status_code == again.status_code == 200
    body = again.json()
    assert (body["state"], body["expired_by"]) == ("expired", "supervisor@tenant-a")
    assert body["ends_at"] == body["expired_at"] == "2026-03-02T09:10:00Z"
    versions = [m for _, m in await staged_silences(api)]
    assert [m.ends_at for m in versions] == [T0 + timedelta(hours=1), T0 + timedelta(minutes=10)]
    assert (await api.http.get("/v1/silences", headers=supervisor)).json() == []
    [kept] = (await api.http.get("/v1/silences?state=all", headers=supervisor)).json()
    assert kept["id"] == sid
    audit = await api.http.get("/v1/audit", headers=as_(identity, clock, Role.ADMIN))
    assert [e["action"] for e in audit.json() if e["target"] == f"silence:{sid}"] == [
        "silence_created",
        "silence_expired",
        "silence_expired",  # every call is audited, like incident actions
    ]


# --- silenced alerts --------------------------------------------------------------------------


def silenced(**fields: Any) -> Any:
    a = alert(**fields)
    return a.model_copy(update={"silenced_by": uuid.uuid4()})


async def test_a_silenced_alert_is_recorded_on_an_incident_of_its_own_and_pages_nobody(
    sessions: Sessions,
) -> None:
    a = silenced(severity=Severity.HIGH)

    result = await apply(sessions, a)

    assert (result.opened, result.silenced, result.notifications) == (True, True, [])
    async with sessions() as session:
        i = await incidents.get_incident(session, result.incident_id or "")
    assert (i.status, i.resolved_by) == ("resolved", f"silence:{a.silenced_by}")
    assert [(e.action, e.actor) for e in i.timeline] == [
        ("opened", "system"),
        ("silenced", f"silence:{a.silenced_by}"),
    ]
    assert i.timeline[-1].details["silence_id"] == str(a.silenced_by)
    assert [x.alert_event_id for x in i.alerts] == [str(a.event_id)]
    assert await notifications(sessions) == []
    # The next unsilenced alert of the conversation opens an incident that pages.
    after = await apply(sessions, alert(severity=Severity.HIGH))
    assert after.opened and after.incident_id != result.incident_id and after.notifications


async def test_a_silenced_alert_on_an_active_incident_is_recorded_there_without_a_page(
    sessions: Sessions,
) -> None:
    first = await apply(sessions, alert(severity=Severity.WARNING))
    before = len(await notifications(sessions))

    muted = silenced(kind=AlertKind.DISENGAGEMENT, severity=Severity.HIGH)
    result = await apply(sessions, muted)

    assert (result.incident_id, result.opened, result.silenced) == (first.incident_id, False, True)
    async with sessions() as session:
        i = await incidents.get_incident(session, first.incident_id or "")
        pages = list(await session.scalars(select(Notification)))
    assert (i.status, i.severity, i.kinds) == ("open", "warning", ["rupture"])  # unchanged
    assert i.timeline[-1].action == "silenced"
    assert len(i.alerts) == 2
    assert len(pages) == before


async def test_a_silenced_alert_travels_to_the_audit_stream(sessions: Sessions) -> None:
    await apply(sessions, silenced())

    async with sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        actions = [json.loads(r.payload)["action"] for r in rows]
    assert actions == ["opened", "silenced"]
