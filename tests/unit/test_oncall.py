"""On call: the rotation's shifts, "take this shift" stored at run time, the resolver that
escalation's paging uses honouring it (per tenant), and the on-call API's role rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from attune_auth.principal import Role
from attune_escalation import oncall
from attune_escalation.db import ShiftTakeover
from attune_escalation.policies import EscalationConfig
from attune_escalation.schedules import Schedule
from attune_runtime.clock import ManualClock
from attune_schemas import Alert, AlertKind, Severity
from tests.factories import T0, alert
from tests.identity import Identity, username
from tests.unit.escalation_desk import Desk
from tests.unit.escalation_support import Api, Sessions, running_api

# T0 is Monday 2 March 2026, 09:00 UTC (09:00 in London too: before daylight saving).
POLICIES = """
schedules:
  clinic-a-primary:
    time_zone: Europe/London
    rotation: {participants: [dr-ada, dr-ben], start_date: 2026-03-02, handoff: "09:00",
               shift_days: 1}
  shared-night:
    time_zone: America/New_York
    rotation: {participants: [dr-night, dr-owl], start_date: 2026-03-01, handoff: "20:00",
               shift_days: 1}
policies:
  - name: clinic-a
    tenants: [tenant-a]
    tiers:
      - notify: [{schedule: clinic-a-primary}]
        ack_deadline_seconds: 172800  # no second page within a test
  - name: everyone-else
    tiers:
      - notify: [{schedule: shared-night}]
        ack_deadline_seconds: 172800
"""


def config(text: str = POLICIES) -> EscalationConfig:
    return EscalationConfig.model_validate(yaml.safe_load(text))


def primary() -> Schedule:
    return config().schedules["clinic-a-primary"]


def crisis(tenant: str, conversation: str) -> Alert:
    return alert(
        kind=AlertKind.CRISIS,
        severity=Severity.CRITICAL,
        tenant_id=tenant,
        conversation_id=conversation,
    )


def takeover(
    clinician: str, start: datetime, end: datetime, created: datetime = T0
) -> ShiftTakeover:
    return ShiftTakeover(
        id=f"t-{clinician}-{created.isoformat()}",
        tenant_id="tenant-a",
        schedule="clinic-a-primary",
        clinician=clinician,
        starts_at=start,
        ends_at=end,
        created_by=clinician,
        created_at=created,
    )


# --- the rotation's shifts and who is on call --------------------------------------------------


def test_a_shift_runs_from_one_local_handoff_to_the_next() -> None:
    shift = primary().shift_at(T0 + timedelta(hours=30))  # Tuesday 15:00

    assert shift.clinician == "dr-ben"
    assert (shift.start, shift.end) == (T0 + timedelta(days=1), T0 + timedelta(days=2))


def test_a_shift_across_daylight_saving_keeps_its_local_handoffs() -> None:
    # London's clocks go forward on 29 March 2026: the shift is 23 hours long.
    shift = primary().shift_at(datetime(2026, 3, 29, 6, 0, tzinfo=UTC))

    assert shift.start == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert shift.end == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def test_the_newest_takeover_wins_then_the_rotation_again() -> None:
    day_end = T0 + timedelta(days=1)
    taken = [
        takeover("dr-cy", T0 + timedelta(hours=1), day_end),
        takeover("dr-dee", T0 + timedelta(hours=2), day_end, created=T0 + timedelta(minutes=5)),
    ]

    def at(hours: float) -> str:
        return oncall.who(primary(), taken, T0 + timedelta(hours=hours)).clinician

    assert [at(0), at(1), at(2), at(24)] == ["dr-ada", "dr-cy", "dr-dee", "dr-ben"]


def test_now_and_next_name_when_the_on_call_changes() -> None:
    now = T0 + timedelta(hours=3)
    taken = [takeover("dr-cy", T0 + timedelta(hours=5), T0 + timedelta(hours=8))]

    current, following = oncall.now_and_next(primary(), taken, now)

    assert (current.clinician, current.until) == ("dr-ada", T0 + timedelta(hours=5))
    assert (following.clinician, following.source) == ("dr-cy", oncall.Source.TAKEN)
    assert following.start == T0 + timedelta(hours=5)


def test_taking_the_current_or_the_next_shift() -> None:
    now = T0 + timedelta(hours=3)

    session: Any = SimpleNamespace(add=lambda row: None)  # take() only adds the row
    current = oncall.take(
        session,
        tenant_id="tenant-a",
        name="clinic-a-primary",
        schedule=primary(),
        clinician="dr-cy",
        which=oncall.Which.CURRENT,
        by="dr-cy",
        now=now,
    )
    following = oncall.take(
        session,
        tenant_id="tenant-a",
        name="clinic-a-primary",
        schedule=primary(),
        clinician="dr-cy",
        which=oncall.Which.NEXT,
        by="dr-cy",
        now=now,
    )

    assert (current.starts_at, current.ends_at) == (now, T0 + timedelta(days=1))
    assert (following.starts_at, following.ends_at) == (
        T0 + timedelta(days=1),
        T0 + timedelta(days=2),
    )


# --- escalation's paging honours a taken shift (injected clock, no sleeping) --------------------


@pytest.fixture
def desk(sessions: Sessions, clock: ManualClock) -> Desk:
    clock.set(T0)
    return Desk(sessions, clock, policies=config(), group_wait=0)


async def take(desk: Desk, tenant: str, schedule: str, clinician: str, which: str) -> None:
    async with desk.sessions() as session, session.begin():
        oncall.take(
            session,
            tenant_id=tenant,
            name=schedule,
            schedule=desk.routing.config.schedules[schedule],
            clinician=clinician,
            which=oncall.Which(which),
            by=clinician,
            now=desk.clock.now(),
        )


async def page_after_taking_this_shift(desk: Desk) -> None:
    """A crisis pages the rotation's dr-ada; dr-cy takes this shift; the next crisis pages
    dr-cy; the next day's shift is the rotation's again (dr-ben)."""
    await desk.push(crisis("tenant-a", "c-1"), at=0)
    desk._at(60)
    await take(desk, "tenant-a", "clinic-a-primary", "dr-cy", "current")
    await desk.push(crisis("tenant-a", "c-2"), at=120)
    await desk.push(crisis("tenant-a", "c-3"), at=86400)

    pages = [(p.at, p.recipients) for p in await desk.pages()]
    assert pages == [(0, ["dr-ada"]), (120, ["dr-cy"]), (86400, ["dr-ben"])]


async def test_after_take_this_shift_the_page_goes_to_the_taker(desk: Desk) -> None:
    await page_after_taking_this_shift(desk)


async def test_taking_the_next_shift_changes_only_that_shift(desk: Desk) -> None:
    desk._at(60)
    await take(desk, "tenant-a", "clinic-a-primary", "dr-ada", "next")
    await desk.push(crisis("tenant-a", "c-1"), at=120)
    await desk.push(crisis("tenant-a", "c-2"), at=86400 + 60)

    pages = [(p.at, p.recipients) for p in await desk.pages()]
    assert pages == [(120, ["dr-ada"]), (86400 + 60, ["dr-ada"])]  # dr-ben's day, taken


async def test_a_shift_taken_in_one_tenant_pages_for_that_tenant_only(desk: Desk) -> None:
    # shared-night pages every tenant but tenant-a; tenant-b's and tenant-c's are separate.
    desk._at(60)
    await take(desk, "tenant-b", "shared-night", "dr-bea", "current")
    await desk.push(crisis("tenant-b", "c-b"), at=120)
    await desk.push(crisis("tenant-c", "c-c"), at=180)

    pages = [(p.at, p.recipients) for p in await desk.pages()]
    assert pages == [(120, ["dr-bea"]), (180, ["dr-night"])]


# --- the API: who may take and assign ---------------------------------------------------------


@pytest.fixture
async def api(tmp_path: Path, clock: ManualClock, identity: Identity) -> AsyncIterator[Api]:
    clock.set(T0 + timedelta(hours=3))
    policies = tmp_path / "policies.yaml"
    policies.write_text(POLICIES)
    async with running_api(tmp_path / "api.db", clock, identity, policies_file=policies) as a:
        yield a


def bearer(identity: Identity, clock: ManualClock, role: Role, tenant: str = "tenant-a") -> Any:
    return identity.bearer(tenant, role, clock)


async def test_a_clinician_takes_this_shift_and_is_on_call(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    from tests.unit.test_auth import audit_records

    before = (await api.http.get("/v1/oncall")).json()
    assert [(s["schedule"], s["now"]["clinician"]) for s in before] == [
        ("clinic-a-primary", "dr-ada")
    ]

    took = await api.http.post("/v1/oncall/clinic-a-primary/take", json={"shift": "current"})

    me = username("tenant-a", Role.CLINICIAN)
    assert took.status_code == 201, took.text
    assert took.json()["clinician"] == me and took.json()["tenant_id"] == "tenant-a"
    [after] = (await api.http.get("/v1/oncall")).json()
    assert (after["now"]["clinician"], after["now"]["source"]) == (me, "taken")
    assert after["next"]["clinician"] == "dr-ben"
    assert after["next"]["start"].startswith("2026-03-03T09:00:00")
    [record] = [r for r in await audit_records(identity) if r.action == "shift_taken"]
    assert record.target == "schedule:clinic-a-primary"


async def test_a_clinician_cannot_assign_a_shift_to_someone_else(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    answer = await api.http.post(
        "/v1/oncall/clinic-a-primary/take", json={"clinician": "dr-ben", "shift": "next"}
    )

    assert answer.status_code == 403
    [after] = (await api.http.get("/v1/oncall")).json()
    assert after["now"]["source"] == "rotation"


async def test_a_supervisor_assigns_a_shift_to_an_active_user_of_the_tenant(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    supervisor = bearer(identity, clock, Role.SUPERVISOR)
    clinician = username("tenant-a", Role.CLINICIAN)

    unknown = await api.http.post(
        "/v1/oncall/clinic-a-primary/take", json={"clinician": "nobody"}, headers=supervisor
    )
    other_tenant = await api.http.post(
        "/v1/oncall/clinic-a-primary/take",
        json={"clinician": username("tenant-b", Role.CLINICIAN)},
        headers=supervisor,
    )
    assigned = await api.http.post(
        "/v1/oncall/clinic-a-primary/take",
        json={"clinician": clinician, "shift": "next"},
        headers=supervisor,
    )

    for refused in (unknown, other_tenant):
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "body.clinician"
    assert assigned.status_code == 201, assigned.text
    assert assigned.json()["created_by"] == username("tenant-a", Role.SUPERVISOR)
    [after] = (await api.http.get("/v1/oncall")).json()
    assert (after["next"]["clinician"], after["next"]["source"]) == (clinician, "taken")


async def test_a_schedule_that_does_not_page_the_tenant_is_not_found(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    tenant_b = bearer(identity, clock, Role.CLINICIAN, "tenant-b")

    theirs = await api.http.post("/v1/oncall/clinic-a-primary/take", headers=tenant_b)
    shadowed = await api.http.post("/v1/oncall/shared-night/take")  # tenant-a's policy wins
    unknown = await api.http.post("/v1/oncall/no-such-schedule/take")
    listed = (await api.http.get("/v1/oncall", headers=tenant_b)).json()

    assert [theirs.status_code, shadowed.status_code, unknown.status_code] == [404, 404, 404]
    assert [s["schedule"] for s in listed] == ["shared-night"]
    assert listed[0]["time_zone"] == "America/New_York"


# --- the console's on-call page ------------------------------------------------------------


async def test_the_on_call_page_shows_now_and_next_in_the_schedules_time_zone(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    page = await api.http.get("/console/oncall")

    assert page.status_code == 200
    assert 'data-schedule="clinic-a-primary"' in page.text and "Europe/London" in page.text
    assert "dr-ada" in page.text and "until Tue 03 Mar 09:00 GMT" in page.text
    assert "dr-ben" in page.text and 'data-shift="current"' in page.text
    assert 'class="assign' not in page.text  # assigning is a supervisor's
    supervisor = await api.http.get(
        "/console/oncall", headers=bearer(identity, clock, Role.SUPERVISOR)
    )
    assert 'class="assign' in supervisor.text

    await api.http.post("/v1/oncall/clinic-a-primary/take")
    taken = await api.http.get("/console/oncall")

    assert f"{username('tenant-a', Role.CLINICIAN)}</strong> (you)" in taken.text
    assert "shift taken, until Tue 03 Mar 09:00 GMT" in taken.text
