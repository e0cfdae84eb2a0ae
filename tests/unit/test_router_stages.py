"""The router's pipeline of stages, and its rebuild after a restart reaching far enough back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from attune_router.app import build
from attune_router.policy import AlertPolicy, policy_config, stages_for
from attune_router.settings import RouterSettings
from attune_router.stages import Evaluation, Muter, Proposal
from attune_router.stages.crisis import Crisis
from attune_router.stages.dedup import Dedup
from attune_router.stages.fire import Fire
from attune_router.stages.inhibition import CrisisInhibitor, Inhibition
from attune_router.stages.silences import SilenceBook, Silences
from attune_router.stages.thresholds import Thresholds
from attune_runtime.clock import ManualClock
from attune_runtime.replay import WarmUp
from attune_schemas import (
    Alert,
    AlertKind,
    AlertStatus,
    RecentTurn,
    RuptureAssessment,
    Sender,
    Severity,
    Silence,
    SilenceMatchers,
    encode,
)
from tests.factories import T0, assessment


def test_every_assessment_goes_through_the_stages_in_order() -> None:
    stages = stages_for(policy_config())

    assert [type(s) for s in stages] == [Dedup, Crisis, Thresholds, Inhibition, Silences, Fire]
    muters: list[Muter] = [CrisisInhibitor(), SilenceBook()]  # one interface for both
    assert all(callable(m.mutes) for m in muters)


@pytest.mark.parametrize(
    ("episode_hours", "inhibit_hours"),
    [(6, 24), (48, 24), (1, 0)],
)
def test_the_rebuild_reaches_back_the_longest_window_of_the_policy(
    episode_hours: float, inhibit_hours: float
) -> None:
    settings = RouterSettings(
        episode_timeout_seconds=episode_hours * 3600, crisis_inhibits_seconds=inhibit_hours * 3600
    )

    warm_up = build(settings, registry=CollectorRegistry()).parts.warm_up

    assert warm_up is not None
    assert warm_up.lookback == timedelta(hours=max(episode_hours, inhibit_hours))


def _record(offset: int, a: RuptureAssessment) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="rupture.assessments",
        partition=0,
        offset=offset,
        timestamp=int(a.occurred_at.timestamp() * 1000),
        timestamp_type=0,
        key=a.conversation_id.encode(),
        value=encode(a),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=(),
    )


def _restarted(warm_up: WarmUp, records: list[ConsumerRecord[bytes, bytes]]) -> None:
    """What the rebuild reads on assignment: the records written within the lookback."""
    since_ms = int((warm_up.clock.now() - warm_up.lookback).timestamp() * 1000)
    warm_up.apply([r for r in records if r.timestamp >= since_ms])


def test_a_restart_23_hours_after_a_crisis_keeps_its_inhibition(clock: ManualClock) -> None:
    # Default settings: episodes time out after 6 h, a crisis inhibits for 24 h. Rebuilt from
    # only 6 h, the restarted router would forget the crisis and page a rupture at 23 h.
    crisis = assessment(at=T0, crisis=True)
    chatter = [assessment(at=T0 + timedelta(hours=h), rupture=0.1) for h in range(1, 23)]
    records = [_record(i, a) for i, a in enumerate([crisis, *chatter])]
    clock.set(T0 + timedelta(hours=23))
    service = build(RouterSettings(), clock=clock, registry=CollectorRegistry())
    assert service.parts.warm_up is not None

    _restarted(service.parts.warm_up, records)
    after = service.parts.policy.decide(
        assessment(at=T0 + timedelta(hours=23), rupture=0.99), partition=0
    )

    assert after.alerts == []
    assert after.inhibited == [AlertKind.RUPTURE]


def test_a_muter_sees_each_mutable_proposal() -> None:
    seen: list[AlertKind] = []

    class Recording:
        def mutes(self, p: Proposal, e: Evaluation) -> str | None:
            seen.append(p.kind)
            return "held" if p.kind is AlertKind.DISENGAGEMENT else None

    config = policy_config()
    policy = AlertPolicy(
        config,
        stages=[Dedup(), Crisis(config), Thresholds(config), Inhibition(Recording()), Fire()],
    )

    decision = policy.decide(assessment(crisis=True, rupture=0.99, disengagement=0.9))

    assert seen == [AlertKind.RUPTURE, AlertKind.DISENGAGEMENT]  # never the crisis
    assert [a.kind for a in decision.alerts] == [AlertKind.CRISIS, AlertKind.RUPTURE]
    assert decision.inhibited == [AlertKind.DISENGAGEMENT]


# --- silences ---------------------------------------------------------------------------------


def silence(
    *,
    tenant_id: str = "tenant-a",
    conversation_id: str | None = None,
    kind: AlertKind | None = AlertKind.RUPTURE,
    severity: Severity | None = None,
    starts: float = 0,
    hours: float = 1,
) -> Silence:
    """A silence from T0 + `starts` minutes, for `hours`."""
    start = T0 + timedelta(minutes=starts)
    return Silence(
        event_id=uuid.uuid4(),
        silence_id=uuid.uuid4(),
        tenant_id=tenant_id,
        matchers=SilenceMatchers(conversation_id=conversation_id, kind=kind, severity=severity),
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        created_by="supervisor@tenant-a",
        created_at=start,
        comment="known noisy integration test tenant",
    )


class Clinic:
    """A router policy with its silence book; assessments told in minutes after T0."""

    def __init__(self, *silences: Silence) -> None:
        self.book = SilenceBook()
        for s in silences:
            self.book.put(s)
        self.policy = AlertPolicy(policy_config(), silences=self.book)

    def at(self, minutes: float, **fields: Any) -> list[Alert]:
        a = assessment(at=T0 + timedelta(minutes=minutes), **fields)
        return self.policy.decide(a).alerts


def test_a_silence_mutes_a_rupture_but_never_a_crisis() -> None:
    quiet = silence(conversation_id="conv-1")
    clinic = Clinic(quiet)

    [rupture] = clinic.at(1, rupture=0.99)
    [crisis] = clinic.at(2, crisis=True, rupture=0.99)

    # The rupture goes out, marked: escalation records it and pages nobody.
    assert (rupture.kind, rupture.silenced_by) == (AlertKind.RUPTURE, quiet.silence_id)
    assert (crisis.kind, crisis.severity, crisis.silenced_by) == (
        AlertKind.CRISIS,
        Severity.CRITICAL,
        None,
    )


def test_no_silence_ever_mutes_a_crisis_even_one_the_api_would_refuse() -> None:
    # Defence in depth: the API refuses these; had one reached the router, it mutes nothing.
    clinic = Clinic(
        silence(kind=AlertKind.CRISIS),
        silence(kind=None, severity=Severity.CRITICAL),
        silence(kind=None),
        silence(kind=None, severity=Severity.HIGH),
    )

    possible = clinic.at(1, crisis=True, crisis_score=0.3, message_id=None)
    explicit = clinic.at(2, crisis=True, message_id=None)

    assert [(a.kind, a.severity, a.silenced_by) for a in possible + explicit] == [
        (AlertKind.CRISIS, Severity.HIGH, None),
        (AlertKind.CRISIS, Severity.CRITICAL, None),
    ]


def test_a_silence_of_one_tenant_never_mutes_another() -> None:
    clinic = Clinic(silence(tenant_id="tenant-b", conversation_id="conv-1"))

    [rupture] = clinic.at(1, rupture=0.99)

    assert rupture.tenant_id == "tenant-a"
    assert rupture.silenced_by is None


def test_a_silence_matches_only_what_it_names_and_only_while_in_force() -> None:
    clinic = Clinic(
        silence(conversation_id="conv-2"),
        silence(kind=AlertKind.DISENGAGEMENT, starts=10),
        silence(kind=None, severity=Severity.WARNING),
    )

    early = clinic.at(1, disengagement=0.9)  # before its silence starts; but it is a warning
    [rupture] = clinic.at(2, rupture=0.99)  # high: no silence names conv-1's ruptures

    assert [(a.kind, a.severity) for a in early] == [(AlertKind.DISENGAGEMENT, Severity.WARNING)]
    assert early[0].silenced_by is not None  # the warning silence matched it
    assert (rupture.severity, rupture.silenced_by) == (Severity.HIGH, None)


def test_a_rupture_still_going_when_its_silence_ends_goes_out_again_unsilenced() -> None:
    quiet = silence(hours=1)
    clinic = Clinic(quiet)

    [muted] = clinic.at(1, rupture=0.99)
    during = clinic.at(30, rupture=0.95)
    [after] = clinic.at(61, rupture=0.95)  # the silence ended at 60 min
    later = clinic.at(62, rupture=0.95)

    assert muted.silenced_by == quiet.silence_id
    assert during == []
    assert (after.alert_id, after.status, after.silenced_by) == (
        muted.alert_id,
        AlertStatus.FIRING,
        None,
    )
    assert later == []  # said once


def test_an_expired_silence_mutes_nothing_from_its_expiry_on() -> None:
    quiet = silence(hours=24)
    clinic = Clinic(quiet)
    clinic.book.put(quiet.model_copy(update={"ends_at": T0 + timedelta(minutes=5)}))
    clinic.book.put(quiet)  # an older version redelivered: the expiry stands

    [rupture] = clinic.at(6, rupture=0.99)

    assert rupture.silenced_by is None
    assert clinic.book.active(T0 + timedelta(minutes=6)) == []


def test_active_silences_are_counted_on_the_service_clock(clock: ManualClock) -> None:
    registry = CollectorRegistry()
    service = build(RouterSettings(), clock=clock, registry=registry, rebuild_on_assign=False)
    for s in (silence(hours=1), silence(tenant_id="tenant-b", hours=2), silence(starts=90)):
        service.parts.policy.silences.put(s)

    def active() -> float | None:
        return registry.get_sample_value("attune_router_active_silences")

    assert active() == 2
    clock.advance(timedelta(minutes=95))
    assert active() == 2  # the first ended, the third began
    clock.advance(timedelta(hours=2))
    assert active() == 0


# --- the conversation's recent turns -----------------------------------------------------------


def with_turns(a: RuptureAssessment, *ids: str) -> RuptureAssessment:
    turns = tuple(
        RecentTurn(
            message_id=m,
            sender=Sender.AI if n % 2 else Sender.CLIENT,
            at=a.occurred_at - timedelta(seconds=10 * (len(ids) - n)),
            text=f"said in {m}",
        )
        for n, m in enumerate(ids)
    )
    return a.model_copy(update={"recent_turns": turns})


def test_the_alerts_that_fire_carry_the_assessments_recent_turns() -> None:
    policy = AlertPolicy(policy_config())

    crisis = policy.decide(with_turns(assessment(conversation_id="c", crisis=True), "m1", "m2"))
    rupture = policy.decide(with_turns(assessment(rupture=0.99), "m1", "m2", "m3"))
    calm = [
        policy.decide(assessment(at=T0 + timedelta(minutes=n), rupture=0.0)).alerts
        for n in range(1, 4)
    ]

    [crisis_alert] = crisis.alerts
    assert crisis_alert.kind is AlertKind.CRISIS
    assert [t.message_id for t in crisis_alert.recent_turns] == ["m1", "m2"]
    [fired] = rupture.alerts
    assert fired.kind is AlertKind.RUPTURE
    assert [t.message_id for t in fired.recent_turns] == ["m1", "m2", "m3"]
    assert fired.recent_turns[0].text == "said in m1"
    [resolved] = calm[-1]  # the calm assessments carry none: the episode's turns go out
    assert resolved.status is AlertStatus.RESOLVED
    assert [t.message_id for t in resolved.recent_turns] == ["m1", "m2", "m3"]
