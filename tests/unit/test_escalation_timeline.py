"""Escalation as timelines on an injected clock: who is paged, when, and when nobody is.

Policy (escalation_desk.POLICIES): tenant-a's critical and high incidents page the on-call of
the primary schedule (dr-ada today), then after 120 s the crisis team (round-robin), and run
the chain twice; an acknowledged incident is re-notified every 900 s.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from sqlalchemy import func, select

from attune_escalation import incidents
from attune_escalation.app import build
from attune_escalation.db import EscalationTimer, IncidentEvent
from attune_escalation.incidents import Outcome
from attune_escalation.notify import NotifyError
from attune_escalation.policies import load
from attune_escalation.schedules import Schedule
from attune_escalation.settings import EscalationSettings
from attune_runtime.clock import ManualClock
from attune_schemas import Alert, AlertKind, AlertStatus, Severity
from tests.conftest import ROOT
from tests.factories import T0, alert
from tests.unit.escalation_desk import POLICIES, Desk, Page, config
from tests.unit.escalation_support import FakeNotifier, Sessions, delivery


def crisis(**kw: object) -> Alert:
    return alert(kind=AlertKind.CRISIS, severity=Severity.CRITICAL, **kw)  # type: ignore[arg-type]


def tiers(pages: list[Page]) -> list[tuple[float, int | None, list[str]]]:
    return [(p.at, p.tier, p.recipients) for p in pages]


@pytest.fixture
def desk(sessions: Sessions, clock: ManualClock) -> Desk:
    return Desk(sessions, clock)


async def test_crisis_pages_tier_one_at_once_and_tier_two_at_its_deadline(desk: Desk) -> None:
    opened = await desk.push(crisis(), at=0)

    assert tiers(await desk.pages()) == [(0, 1, ["dr-ada"])]
    await desk.tick(to=119)
    assert len(await desk.pages()) == 1  # the deadline has not passed
    await desk.tick(to=120)
    assert tiers(await desk.pages()) == [(0, 1, ["dr-ada"]), (120, 2, ["dr-cy"])]
    # Second round after tier 2's deadline: the chain runs twice, round-robin moves on.
    await desk.tick(to=420)
    await desk.tick(to=540)
    assert tiers(await desk.pages()) == [
        (0, 1, ["dr-ada"]),
        (120, 2, ["dr-cy"]),
        (420, 1, ["dr-ada"]),
        (540, 2, ["dr-dee"]),
    ]
    # Every tier, every round, nobody answered: the last tier again at each of its deadlines.
    await desk.tick(to=840)
    await desk.tick(to=1140)
    assert tiers(await desk.pages())[4:] == [(840, 2, ["dr-cy"]), (1140, 2, ["dr-dee"])]
    actions = [e.action for e in (await desk.incident(opened.incident_id)).timeline]
    assert actions.count("escalated") == 6
    assert actions.count("chain_exhausted") == 1


async def test_a_new_crisis_is_delivered_before_the_re_pages_of_older_ones(
    desk: Desk, sessions: Sessions, clock: ManualClock
) -> None:
    console = FakeNotifier("console")
    d = delivery(sessions, clock, console)
    for n in range(3):
        await desk.push(crisis(conversation_id=f"older-{n}"), at=0)
    await d.deliver_due()
    await desk.tick(to=120)  # nobody answered: three tier-2 pages fall due together
    await desk.push(crisis(conversation_id="new"), at=120)

    sent_before = len(console.sent)
    await d.deliver_due()
    order = [(p["conversation_id"], p["reason"]) for p in console.sent[sent_before:]]
    assert order[0] == ("new", "opened")
    assert sorted(order[1:]) == [(f"older-{n}", "escalated") for n in range(3)]


async def test_new_crisis_evidence_tells_who_was_paged_and_the_deadline_keeps_running(
    desk: Desk,
) -> None:
    await desk.push(crisis(), at=0)
    await desk.push(crisis(), at=60)
    await desk.tick(to=120)

    assert [(p.at, p.reason, p.recipients) for p in await desk.pages()] == [
        (0, "opened", ["dr-ada"]),
        (60, "crisis", ["dr-ada"]),
        (120, "escalated", ["dr-cy"]),
    ]


async def test_acknowledged_incident_pages_nobody_else_but_is_renotified(desk: Desk) -> None:
    opened = await desk.push(crisis(), at=0)
    assert opened.incident_id is not None

    await desk.act(incidents.acknowledge, opened.incident_id, at=60, clinician_id="dr-ada")
    await desk.tick(to=120)
    await desk.tick(to=959)
    assert tiers(await desk.pages()) == [(0, 1, ["dr-ada"])]  # tier 2 never paged

    await desk.tick(to=960)  # acknowledged at 60, unresolved at 60 + 900
    await desk.tick(to=1860)
    pages = await desk.pages()
    assert [(p.at, p.reason, p.recipients) for p in pages[1:]] == [
        (960, "renotify", ["dr-ada"]),
        (1860, "renotify", ["dr-ada"]),
    ]


async def test_resolving_tells_the_channels_that_were_paged_and_stops_every_timer(
    desk: Desk,
) -> None:
    opened = await desk.push(crisis(), at=0)
    assert opened.incident_id is not None

    await desk.act(
        incidents.resolve,
        opened.incident_id,
        at=30,
        clinician_id="dr-ada",
        outcome=Outcome.CLIENT_SAFE,
        note=None,
    )
    await desk.tick(to=10_000)

    assert [(p.at, p.reason) for p in await desk.pages()] == [(0, "opened"), (30, "resolved")]
    async with desk.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EscalationTimer)) == 0


async def test_what_arrives_within_the_group_wait_goes_out_as_one_notification(
    desk: Desk,
) -> None:
    """The rupture conversation: rupture, then disengagement 2 s later: one page, both kinds."""
    first = await desk.push(alert(kind=AlertKind.RUPTURE, severity=Severity.HIGH), at=0)
    await desk.push(alert(kind=AlertKind.DISENGAGEMENT, severity=Severity.WARNING), at=2)
    assert await desk.pages() == []  # still gathering

    await desk.tick(to=5)

    [page] = await desk.pages()
    assert (page.at, page.reason, page.tier, page.kinds) == (
        5,
        "opened",
        1,
        ["disengagement", "rupture"],
    )
    # A later addition waits for the group interval and then goes to whoever was paged.
    await desk.push(
        alert(kind=AlertKind.RUPTURE, severity=Severity.HIGH, conversation_id="conv-1"), at=10
    )
    assert len(await desk.pages()) == 1  # the same kind again is not news
    incident = await desk.incident(first.incident_id)
    assert incident.kinds == ["disengagement", "rupture"]


async def test_a_possible_crisis_for_review_is_gathered_with_what_follows(desk: Desk) -> None:
    """The demo's rupture conversation: possible crisis (model only), rupture, disengagement."""
    await desk.push(alert(kind=AlertKind.CRISIS, severity=Severity.HIGH), at=0)
    await desk.push(alert(kind=AlertKind.RUPTURE, severity=Severity.HIGH), at=1)
    await desk.push(alert(kind=AlertKind.DISENGAGEMENT, severity=Severity.WARNING), at=3)
    await desk.tick(to=5)
    await desk.tick(to=100)

    [page] = await desk.pages()
    assert (page.at, page.reason, page.kinds) == (
        5,
        "opened",
        ["crisis", "disengagement", "rupture"],
    )


async def test_a_later_kind_is_sent_once_per_group_interval(desk: Desk) -> None:
    await desk.push(alert(kind=AlertKind.DISENGAGEMENT, severity=Severity.HIGH), at=0)
    await desk.tick(to=5)

    await desk.push(alert(kind=AlertKind.RUPTURE, severity=Severity.HIGH), at=20)
    await desk.tick(to=79)
    assert len(await desk.pages()) == 1
    await desk.tick(to=80)

    assert [(p.at, p.reason, p.recipients, p.kinds) for p in await desk.pages()] == [
        (5, "opened", ["dr-ada"], ["disengagement"]),
        (80, "update", ["dr-ada"], ["disengagement", "rupture"]),
    ]


async def test_a_crisis_never_waits_for_the_group(desk: Desk) -> None:
    await desk.push(alert(kind=AlertKind.RUPTURE, severity=Severity.HIGH), at=0)
    await desk.push(crisis(), at=1)

    [page] = await desk.pages()
    assert (page.at, page.reason, page.tier) == (1, "severity", 1)
    assert page.kinds == ["crisis", "rupture"]


async def test_duplicate_and_replayed_alerts_open_one_incident(desk: Desk) -> None:
    a = crisis()
    first = await desk.push(a, at=0)
    again = await desk.push(a, at=1)
    await desk.tick(to=120)
    replayed = await desk.push(a, at=200)

    assert again.duplicate and replayed.duplicate
    assert first.opened
    # Tier 2 at its deadline once; the replay neither re-opens nor re-pages.
    assert tiers(await desk.pages()) == [(0, 1, ["dr-ada"]), (120, 2, ["dr-cy"])]


async def test_a_stale_or_duplicate_step_does_nothing(desk: Desk) -> None:
    opened = await desk.push(crisis(), at=0)
    async with desk.sessions() as session:
        timer = await session.get(EscalationTimer, (opened.incident_id, "escalation"))
        assert timer is not None
        token = timer.token
    desk.clock.set(T0 + timedelta(seconds=120))

    assert await desk.scheduler._run_one(str(opened.incident_id), "escalation", token) == 1
    assert await desk.scheduler._run_one(str(opened.incident_id), "escalation", token) == 0

    assert len(await desk.pages()) == 2


async def test_a_channel_down_for_minutes_still_gets_tier_two_on_time_and_loses_nothing(
    desk: Desk, sessions: Sessions, clock: ManualClock
) -> None:
    down = NotifyError("http_503", retryable=True)
    console = FakeNotifier("console", failures=[down] * 6)
    worker = delivery(sessions, clock, console, max_attempts=20)

    await desk.push(crisis(), at=0)
    for t in range(0, 600, 10):
        await desk.tick(to=t)
        await worker.deliver_due()

    assert tiers(await desk.pages()) == [
        (0, 1, ["dr-ada"]),
        (120, 2, ["dr-cy"]),
        (420, 1, ["dr-ada"]),
        (540, 2, ["dr-dee"]),
    ]
    assert [(p["tier"], p["recipients"]) for p in console.sent] == [
        (1, ["dr-ada"]),
        (2, ["dr-cy"]),
        (1, ["dr-ada"]),
        (2, ["dr-dee"]),
    ]
    assert console.attempts == 4 + 6  # every failure retried until the channel came back


async def test_a_rupture_that_calms_before_the_group_wait_is_over_still_reaches_a_person(
    desk: Desk,
) -> None:
    """Calm is the router's call (hysteresis); once an alert fired, escalation pages."""
    fired = alert(kind=AlertKind.RUPTURE, severity=Severity.HIGH)
    await desk.push(fired, at=0)
    await desk.push(alert(status=AlertStatus.RESOLVED, alert_id=fired.alert_id), at=3)
    await desk.tick(to=5)

    assert [p.reason for p in await desk.pages()] == ["opened"]


async def test_editing_a_policy_does_not_change_an_incident_already_running(
    sessions: Sessions, clock: ManualClock
) -> None:
    before = Desk(sessions, clock)
    opened = await before.push(crisis(), at=0)
    quicker = POLICIES.replace("ack_deadline_seconds: 120", "ack_deadline_seconds: 30")
    after = Desk(sessions, clock, policies=config(quicker))

    await after.tick(to=30)
    assert len(await after.pages()) == 1
    await after.tick(to=120)
    assert tiers(await after.pages()) == [(0, 1, ["dr-ada"]), (120, 2, ["dr-cy"])]
    second = await after.push(crisis(conversation_id="conv-2"), at=130)
    assert (await after.incident(second.incident_id)).chain["tiers"][0][  # type: ignore[index]
        "ack_deadline_seconds"
    ] == 30
    assert opened.incident_id != second.incident_id


async def test_each_tenant_is_paged_on_its_own_channels(
    sessions: Sessions, clock: ManualClock
) -> None:
    policies = config(
        POLICIES.replace(
            "  - name: everyone-else",
            "  - name: clinic-b\n    tenants: [tenant-b]\n    channels: [pager-b]\n"
            "    tiers: [{notify: [{clinician: dr-zed}]}]\n  - name: everyone-else",
        )
    )
    desk = Desk(sessions, clock, policies=policies, channels=("console", "pager-b"))

    await desk.push(crisis(), at=0)
    await desk.push(
        crisis(conversation_id="conv-b").model_copy(update={"tenant_id": "tenant-b"}), at=1
    )

    assert [(p.channel, p.recipients) for p in await desk.pages(None)] == [
        ("console", ["dr-ada"]),
        ("pager-b", ["dr-zed"]),
    ]


async def test_reassigning_pages_the_new_clinician_who_must_acknowledge(desk: Desk) -> None:
    opened = await desk.push(crisis(), at=0)
    assert opened.incident_id is not None
    await desk.act(incidents.acknowledge, opened.incident_id, at=10, clinician_id="dr-ada")

    done = await desk.act(
        incidents.reassign, opened.incident_id, at=20, clinician_id="dr-ada", to="dr-ben"
    )
    assert (done.status, done.acknowledged_by) == ("open", None)
    await desk.tick(to=140)  # the first tier's deadline after the hand-over, unacknowledged

    assert [(p.at, p.reason, p.recipients) for p in await desk.pages()] == [
        (0, "opened", ["dr-ada"]),
        (20, "reassigned", ["dr-ben"]),
        (140, "escalated", ["dr-cy"]),
    ]


async def test_reassigning_a_joined_incident_is_a_conflict(desk: Desk) -> None:
    opened = await desk.push(crisis(), at=0)
    assert opened.incident_id is not None
    await desk.act(incidents.join, opened.incident_id, at=10, clinician_id="dr-ada")

    with pytest.raises(incidents.Conflict):
        await desk.act(
            incidents.reassign, opened.incident_id, at=20, clinician_id="dr-ada", to="dr-ben"
        )


async def test_every_timeline_entry_is_staged_for_escalation_events(desk: Desk) -> None:
    await desk.push(crisis(), at=0)
    await desk.tick(to=120)
    async with desk.sessions() as session:
        actions = (await session.scalars(select(IncidentEvent.action))).all()
    assert actions == ["opened", "escalated", "escalated"]


# --- schedules -------------------------------------------------------------------------------


def london(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo("Europe/London"))


def test_the_rotation_hands_off_at_its_local_time() -> None:
    schedule = config().schedules["clinic-a-primary"]

    assert schedule.on_call(london(2, 9)) == "dr-ada"
    assert schedule.on_call(london(3, 8, 59)) == "dr-ada"  # yesterday's shift until 09:00
    assert schedule.on_call(london(3, 9)) == "dr-ben"
    assert schedule.on_call(london(4, 9)) == "dr-ada"


def test_the_handoff_stays_at_local_time_across_daylight_saving() -> None:
    schedule = config().schedules["clinic-a-primary"]
    # Clocks go forward on 29 March 2026: 09:00 local is then 08:00 UTC.
    before = schedule.on_call(datetime(2026, 3, 30, 7, 59, tzinfo=UTC))
    after = schedule.on_call(datetime(2026, 3, 30, 8, 0, tzinfo=UTC))

    assert before != after


def test_an_override_takes_the_shift() -> None:
    schedule = Schedule.model_validate(
        {
            "time_zone": "America/New_York",
            "rotation": {"participants": ["dr-a", "dr-b"], "start_date": "2026-03-02"},
            "overrides": [
                {
                    "clinician": "dr-sub",
                    "start": "2026-03-03T12:00:00Z",
                    "end": "2026-03-03T18:00:00Z",
                }
            ],
        }
    )
    assert schedule.on_call(datetime(2026, 3, 3, 12, 0, tzinfo=UTC)) == "dr-sub"
    assert schedule.on_call(datetime(2026, 3, 3, 18, 0, tzinfo=UTC)) == "dr-a"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("{schedule: clinic-a-primary}", "{schedule: nowhere}"), "unknown schedule"),
        (("{team: crisis-team}", "{team: crisis-team, clinician: dr-ada}"), "exactly one"),
        (
            ("  - name: everyone-else\n    tiers:", "  - name: else\n    tenants: [x]\n    tiers:"),
            "catch-all",
        ),
        (("time_zone: Europe/London", "time_zone: Mars/Olympus"), "unknown time zone"),
        (("ack_deadline_seconds: 120", "ack_deadline_seconds: 0"), "greater than 0"),
    ],
)
def test_a_bad_policy_file_is_refused_with_the_reason(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(POLICIES.replace(*edit))


def test_the_example_policy_file_is_valid() -> None:
    example = load(ROOT / "deploy" / "escalation" / "policies.example.yaml")

    chain = example.chain_for("clinic-a", Severity.CRITICAL)
    assert (chain.policy, len(chain.tiers), chain.repeat) == ("clinic-a-crisis", 2, 3)
    assert example.chain_for("clinic-b", Severity.CRITICAL).policy == "everyone-else"
    on_christmas = example.schedules["clinic-a-primary"].on_call(
        datetime(2026, 12, 25, 12, tzinfo=UTC)
    )
    assert on_christmas == "dr-cy"


# --- channels by name ------------------------------------------------------------------------


def test_channels_are_named_in_configuration_and_policies_must_name_real_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(POLICIES.replace("channels: [console]", "channels: [clinic-a-pager]"))
    monkeypatch.setenv(
        "ATTUNE_ESCALATION_CHANNELS",
        json.dumps(
            {
                "clinic-a-pager": {"type": "pagerduty", "routing_key": "k"},
                "ops": {"type": "slack", "url": "http://x"},
            }
        ),
    )
    settings = EscalationSettings(
        policies_file=policies, database_url=f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"
    )

    service = build(settings, check_topics=False, run_workers=False, registry=CollectorRegistry())
    assert sorted(service.parts.delivery.notifiers) == ["clinic-a-pager", "console", "ops"]

    policies.write_text(POLICIES.replace("channels: [console]", "channels: [clinic-b-pager]"))
    with pytest.raises(ValueError, match="clinic-b-pager"):
        build(settings, check_topics=False, run_workers=False, registry=CollectorRegistry())


# --- metrics ---------------------------------------------------------------------------------


async def test_the_scheduler_reports_open_incidents_the_oldest_unacknowledged_and_tiers(
    desk: Desk,
) -> None:
    opened = await desk.push(crisis(), at=0)
    await desk.push(alert(conversation_id="conv-2", severity=Severity.HIGH), at=10)
    assert opened.incident_id is not None
    await desk.tick(to=120)  # tier 2 of the crisis
    await desk.scheduler.report()
    m = desk.scheduler.metrics

    assert m.open_incidents.labels("critical", "open")._value.get() == 1
    assert m.open_incidents.labels("high", "open")._value.get() == 1
    assert m.oldest_unacknowledged.labels("critical")._value.get() == 120
    assert m.escalations.labels("2")._value.get() == 1

    await desk.act(incidents.acknowledge, opened.incident_id, at=130, clinician_id="dr-ada")
    await desk.scheduler.report(every=timedelta(0))
    assert m.oldest_unacknowledged.labels("critical")._value.get() == 0
    assert m.open_incidents.labels("critical", "acknowledged")._value.get() == 1
