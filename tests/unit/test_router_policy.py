"""The alert policy as timelines: assessments in event time, alerts out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from attune_router.app import build
from attune_router.policy import AlertPolicy, Decision, PolicyConfig, Thresholds, policy_config
from attune_router.settings import RouterSettings
from attune_runtime.clock import ManualClock
from attune_runtime.ids import derived_id
from attune_schemas import (
    Alert,
    AlertKind,
    AlertStatus,
    RuptureAssessment,
    RuptureType,
    Severity,
    encode,
)
from tests.factories import T0, assessment
from tests.kafka_fakes import fail_publishes

CONFIG = PolicyConfig(
    rupture=Thresholds(fire=0.6, resolve=0.3),
    disengagement=Thresholds(fire=0.55, resolve=0.25),
    resolve_after=3,
    episode_timeout=timedelta(minutes=30),
    crisis_inhibits=timedelta(minutes=10),
    crisis_critical=0.5,
    # Accumulated evidence off: these timelines test single assessments against thresholds.
    accumulate_floor=1.01,
    exchange_fire=1.01,
)
KEY = ("tenant-a", "conv-1")
# The service clock in pure policy timelines: past every assessment, so sweeps run on event time.
NOW = T0 + timedelta(days=30)


class Timeline:
    """One conversation told assessment by assessment, a minute apart unless told otherwise."""

    def __init__(
        self, policy: AlertPolicy, conversation_id: str = "conv-1", start: datetime = T0
    ) -> None:
        self.policy = policy
        self.conversation_id = conversation_id
        self.at = start
        self.alerts: list[Alert] = []

    def next(self, *, after: float = 60, **fields: Any) -> RuptureAssessment:
        self.at += timedelta(seconds=after)
        return assessment(conversation_id=self.conversation_id, at=self.at, **fields)

    def send(self, a: RuptureAssessment) -> Decision:
        decision = self.policy.decide(a)
        self.alerts += decision.alerts
        return decision

    def assess(self, *, after: float = 60, **fields: Any) -> Decision:
        return self.send(self.next(after=after, **fields))

    def ruptures(self, *scores: float) -> list[Alert]:
        """Feed rupture scores; return the alerts they produced."""
        out: list[Alert] = []
        for score in scores:
            out += self.assess(rupture=score).alerts
        return out


def timeline(conversation_id: str = "conv-1", config: PolicyConfig = CONFIG) -> Timeline:
    return Timeline(AlertPolicy(config), conversation_id)


def statuses(alerts: list[Alert]) -> list[tuple[AlertKind, AlertStatus]]:
    return [(a.kind, a.status) for a in alerts]


# --- fire once, resolve with hysteresis -------------------------------------------------------


def test_fires_once_when_rupture_crosses_the_threshold() -> None:
    t = timeline()
    assert t.ruptures(0.1, 0.45, 0.59) == []

    crossing = t.next(rupture=0.72, markers=("rejecting_intervention",))
    [fired] = t.send(crossing).alerts

    assert fired.status is AlertStatus.FIRING
    assert fired.kind is AlertKind.RUPTURE
    assert fired.severity is Severity.HIGH  # confrontation
    assert fired.risk == 0.72
    assert fired.rupture_type is RuptureType.CONFRONTATION
    assert fired.occurred_at == crossing.occurred_at
    assert fired.assessment_ids == (crossing.event_id,)
    assert [e.marker for e in fired.evidence] == ["rejecting_intervention"]
    assert fired.alert_id == derived_id("alert", "tenant-a", "conv-1", "rupture", crossing.event_id)


def test_does_not_fire_again_while_open() -> None:
    t = timeline()

    alerts = t.ruptures(0.7, 0.9, 0.8, 0.95, 0.65)

    assert statuses(alerts) == [(AlertKind.RUPTURE, AlertStatus.FIRING)]
    assert t.policy.states[KEY].open[AlertKind.RUPTURE].risk == 0.95


def test_resolves_after_consecutive_calm_assessments() -> None:
    t = timeline()
    [fired] = t.ruptures(0.7)
    assert t.ruptures(0.1, 0.2) == []

    last_calm = t.next(rupture=0.0)
    [resolved] = t.send(last_calm).alerts

    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.alert_id == fired.alert_id
    assert resolved.occurred_at == last_calm.occurred_at
    assert resolved.event_id != fired.event_id
    assert AlertKind.RUPTURE not in t.policy.states[KEY].open


def test_fires_a_new_alert_after_resolution() -> None:
    t = timeline()

    alerts = t.ruptures(0.7, 0.1, 0.1, 0.1, 0.8)

    assert [a.status for a in alerts] == [
        AlertStatus.FIRING,
        AlertStatus.RESOLVED,
        AlertStatus.FIRING,
    ]
    assert alerts[0].alert_id == alerts[1].alert_id
    assert alerts[2].alert_id != alerts[0].alert_id


def test_value_between_resolve_and_fire_neither_fires_nor_counts_as_calm() -> None:
    t = timeline()
    assert t.ruptures(0.45, 0.59, 0.3) == []  # below fire: nothing opens

    t.ruptures(0.7)
    # Two calm, then one in the band: the calm streak starts over.
    assert t.ruptures(0.1, 0.1, 0.45, 0.1, 0.1) == []
    [resolved] = t.ruptures(0.1)

    assert resolved.status is AlertStatus.RESOLVED


def test_rupture_is_judged_on_client_messages_only() -> None:
    t = timeline()

    decision = t.assess(rupture=0.9, message_id=None)

    assert decision.alerts == []


def test_disengagement_has_its_own_alert() -> None:
    t = timeline()

    [fired] = t.assess(disengagement=0.6).alerts

    assert (fired.kind, fired.status, fired.severity) == (
        AlertKind.DISENGAGEMENT,
        AlertStatus.FIRING,
        Severity.WARNING,
    )


# --- crisis and inhibition --------------------------------------------------------------------


def test_every_crisis_assessment_fires_a_critical_alert() -> None:
    t = timeline()

    decisions = [t.assess(crisis=True, after=5) for _ in range(3)]

    alerts = [d.alerts for d in decisions]
    assert [[(a.kind, a.severity, a.status) for a in batch] for batch in alerts] == [
        [(AlertKind.CRISIS, Severity.CRITICAL, AlertStatus.FIRING)]
    ] * 3
    assert len({batch[0].alert_id for batch in alerts}) == 3  # never deduplicated
    assert all(d.inhibited == [] for d in decisions)  # never inhibited


def test_crisis_fires_even_while_a_rupture_alert_is_open() -> None:
    t = timeline()
    t.ruptures(0.8)

    decision = t.assess(crisis=True, rupture=0.9)

    assert statuses(decision.alerts) == [(AlertKind.CRISIS, AlertStatus.FIRING)]


def test_crisis_inhibits_rupture_and_disengagement_then_lets_them_fire() -> None:
    t = timeline()
    crisis = t.assess(crisis=True, rupture=0.9)
    assert statuses(crisis.alerts) == [(AlertKind.CRISIS, AlertStatus.FIRING)]
    assert crisis.inhibited == [AlertKind.RUPTURE]

    held = t.assess(rupture=0.9, disengagement=0.9, after=9 * 60)
    assert held.alerts == []
    assert held.inhibited == [AlertKind.RUPTURE, AlertKind.DISENGAGEMENT]

    after_window = t.assess(rupture=0.9, disengagement=0.9, after=60)  # 10 min after the crisis
    assert statuses(after_window.alerts) == [
        (AlertKind.RUPTURE, AlertStatus.FIRING),
        (AlertKind.DISENGAGEMENT, AlertStatus.FIRING),
    ]
    assert after_window.inhibited == []


def test_a_model_only_crisis_suspicion_is_a_high_review_that_holds_nothing_back() -> None:
    t = timeline()

    possible = t.assess(crisis=True, crisis_score=0.21, rupture=0.9)

    [suspicion, rupture] = possible.alerts
    assert (suspicion.kind, suspicion.severity) == (AlertKind.CRISIS, Severity.HIGH)
    assert suspicion.risk == 0.21  # the model's own figure, not rounded up to look surer
    assert rupture.kind is AlertKind.RUPTURE
    assert possible.inhibited == []

    sure = t.assess(crisis=True, crisis_score=0.62)
    [critical] = sure.alerts
    assert (critical.severity, critical.risk) == (Severity.CRITICAL, 0.62)
    assert t.assess(rupture=0.1, disengagement=0.9).inhibited == [AlertKind.DISENGAGEMENT]


def test_inhibition_is_per_conversation() -> None:
    policy = AlertPolicy(CONFIG)
    Timeline(policy, "conv-1").assess(crisis=True)

    other = Timeline(policy, "conv-2").assess(rupture=0.9)

    assert statuses(other.alerts) == [(AlertKind.RUPTURE, AlertStatus.FIRING)]


def test_crisis_inhibition_outlives_the_forgetting_of_a_quiet_conversation() -> None:
    # Default config: inhibition (24 h) is longer than the episode timeout (6 h). A sweep after
    # the conversation went quiet must not lift the inhibition early.
    config = policy_config()
    policy = AlertPolicy(config)
    Timeline(policy, "conv-1").assess(crisis=True)
    Timeline(policy, "conv-2", start=T0 + timedelta(hours=7)).assess(rupture=0.1)
    policy.sweep(None, now=NOW)

    back = Timeline(policy, "conv-1", start=T0 + timedelta(hours=8)).assess(rupture=0.99)

    assert back.alerts == []
    assert back.inhibited == [AlertKind.RUPTURE]


# --- severity, duplicates ---------------------------------------------------------------------


def test_severity_raise_resends_the_same_alert_with_higher_severity() -> None:
    t = timeline()
    [warning] = t.assess(rupture=0.65, rupture_type=RuptureType.WITHDRAWAL).alerts
    assert warning.severity is Severity.WARNING

    [raised] = t.assess(rupture=0.9, rupture_type=RuptureType.WITHDRAWAL).alerts
    same = t.assess(rupture=0.95, rupture_type=RuptureType.WITHDRAWAL).alerts

    assert raised.alert_id == warning.alert_id
    assert raised.event_id != warning.event_id
    assert (raised.status, raised.severity, raised.risk) == (
        AlertStatus.FIRING,
        Severity.HIGH,
        0.9,
    )
    assert len(raised.assessment_ids) == 2
    assert same == []  # already high: nothing new to say


def test_duplicate_assessment_changes_nothing() -> None:
    t = timeline()
    t.ruptures(0.7)
    calm = t.next(rupture=0.0)
    t.send(calm)

    # Redelivered twice: counted as calm once, so the alert stays open.
    assert [t.send(calm).duplicate for _ in range(2)] == [True, True]
    assert t.policy.states[KEY].open[AlertKind.RUPTURE].calm == 1

    crisis = t.next(crisis=True)
    assert len(t.send(crisis).alerts) == 1
    duplicate = t.send(crisis)
    assert (duplicate.duplicate, duplicate.alerts) == (True, [])


# --- sweep and rebalance ----------------------------------------------------------------------


def test_sweep_resolves_alerts_of_quiet_conversations() -> None:
    policy = AlertPolicy(CONFIG)
    quiet, busy = Timeline(policy, "conv-1"), Timeline(policy, "conv-2")
    [fired] = quiet.ruptures(0.8)
    busy.ruptures(0.8)
    busy.assess(rupture=0.8, after=30 * 60)  # stream time moves on in another conversation
    assert policy.sweep(None, now=NOW) == []  # exactly the timeout: not yet

    busy.assess(rupture=0.8, after=1)
    [resolved] = policy.sweep(None, now=NOW)

    assert resolved.alert_id == fired.alert_id
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.conversation_id == "conv-1"
    assert resolved.occurred_at == busy.at
    assert list(policy.states) == [("tenant-a", "conv-2")]
    assert policy.sweep(None, now=NOW) == []  # resolved once


def test_sweep_resolves_a_quiet_conversation_that_arrived_late() -> None:
    # Partitions are consumed side by side, so a conversation first seen after another can be
    # older in event time. Quiet is judged on event time, not on arrival order.
    policy = AlertPolicy(CONFIG)
    Timeline(policy, "conv-live", start=T0 + timedelta(hours=1)).ruptures(0.1)
    [fired] = Timeline(policy, "conv-late").ruptures(0.8)

    [resolved] = policy.sweep(None, now=NOW)

    assert (resolved.alert_id, resolved.status) == (fired.alert_id, AlertStatus.RESOLVED)
    assert list(policy.states) == [("tenant-a", "conv-live")]


def test_sweep_never_runs_ahead_of_the_service_clock() -> None:
    # Had a week-ahead assessment slipped past the bound, its partition's time still stops at
    # the service clock: the other conversation is quiet only once the clock says so.
    policy = AlertPolicy(CONFIG)
    [fired] = Timeline(policy).ruptures(0.8)
    Timeline(policy, "conv-ahead", start=T0 + timedelta(days=7)).ruptures(0.1)

    assert policy.sweep(None, now=T0 + timedelta(minutes=20)) == []
    [resolved] = policy.sweep(None, now=T0 + timedelta(hours=1))

    assert resolved.alert_id == fired.alert_id
    assert resolved.occurred_at == T0 + timedelta(hours=1)


def test_sweep_is_per_partition() -> None:
    policy = AlertPolicy(CONFIG, lateness=timedelta(minutes=5))
    policy.decide(assessment(conversation_id="conv-1", at=T0, rupture=0.8), partition=0)
    policy.decide(assessment(conversation_id="conv-2", at=T0, rupture=0.8), partition=1)
    later = T0 + timedelta(minutes=34)
    policy.decide(assessment(conversation_id="conv-3", at=later, rupture=0.1), partition=1)

    # Partition 1's time is 34 min less 5 of lateness: conv-2 is not quiet yet, conv-1 (on a
    # partition whose time has not moved) is untouched by partition 1's traffic.
    assert policy.sweep(1, now=NOW) == []
    assert policy.sweep(0, now=NOW) == []
    later += timedelta(minutes=2)
    policy.decide(assessment(conversation_id="conv-3", at=later, rupture=0.1), partition=1)
    [resolved] = policy.sweep(1, now=NOW)

    assert resolved.conversation_id == "conv-2"
    assert resolved.occurred_at == later - timedelta(minutes=5)
    assert ("tenant-a", "conv-1") in policy.states


def test_sweep_before_any_assessment_is_empty() -> None:
    assert AlertPolicy(CONFIG).sweep(None, now=NOW) == []


def test_forget_partitions_drops_conversations_of_revoked_partitions() -> None:
    policy = AlertPolicy(CONFIG)
    policy.decide(assessment(conversation_id="conv-1", rupture=0.8), partition=0)
    policy.decide(assessment(conversation_id="conv-2", rupture=0.8), partition=1)
    policy.decide(assessment(conversation_id="conv-3", rupture=0.8), partition=2)

    policy.forget_partitions({0, 2})

    assert list(policy.states) == [("tenant-a", "conv-2")]


# --- determinism ------------------------------------------------------------------------------


def test_replaying_the_same_assessments_yields_the_same_alerts() -> None:
    # A restart that replays the topic must publish byte-identical alerts (same event_ids), so
    # escalation deduplicates them.
    t = Timeline(AlertPolicy(CONFIG))
    story = [
        t.next(rupture=0.65, rupture_type=RuptureType.WITHDRAWAL),
        t.next(rupture=0.9, rupture_type=RuptureType.WITHDRAWAL),
        t.next(disengagement=0.7),
        t.next(rupture=0.1),
        t.next(rupture=0.1),
        t.next(rupture=0.1),
        t.next(crisis=True),
        t.next(rupture=0.9, after=3600),
    ]

    def replay() -> list[Alert]:
        policy = AlertPolicy(CONFIG)
        out = [alert for a in story for alert in policy.decide(a).alerts]
        policy.decide(assessment(conversation_id="conv-2", at=T0 + timedelta(days=1)))
        return out + policy.sweep(None, now=NOW)

    first, second = replay(), replay()

    assert len(first) == 8
    assert [a.event_id for a in first] == [a.event_id for a in second]
    assert first == second


# --- the policy behind the subscriber ---------------------------------------------------------


@dataclass
class LiveRouter:
    """The router service on the in-memory broker; `alerts_down` fails publishes to `alerts`."""

    broker: KafkaBroker
    published: list[Alert] = field(default_factory=list)
    alerts_down: bool = False

    async def deliver(self, a: RuptureAssessment) -> None:
        await self.broker.publish(
            encode(a), topic="rupture.assessments", key=a.conversation_id.encode()
        )


@pytest.fixture
async def router(clock: ManualClock) -> AsyncIterator[LiveRouter]:
    settings = RouterSettings(retry_backoff_seconds=0, retry_backoff_max_seconds=0)
    service = build(settings, clock=clock, registry=CollectorRegistry(), rebuild_on_assign=False)
    live = LiveRouter(service.broker)

    @service.broker.subscriber("alerts")
    async def alerts_sink(msg: KafkaMessage) -> None:
        live.published.append(Alert.model_validate_json(msg.body))

    fail_publishes(service.broker, "alerts", when=lambda: live.alerts_down)
    async with TestKafkaBroker(service.broker):
        yield live


async def test_crisis_alert_survives_a_failed_publish_and_redelivery(router: LiveRouter) -> None:
    # The policy must not remember an assessment whose alerts were never acknowledged: the
    # redelivery would be a "duplicate" and the crisis alert lost.
    crisis = assessment(crisis=True)
    router.alerts_down = True
    with pytest.raises(KafkaConnectionError):  # not acked: Kafka redelivers it
        await router.deliver(crisis)

    router.alerts_down = False
    await router.deliver(crisis)

    assert [(a.kind, a.status) for a in router.published] == [
        (AlertKind.CRISIS, AlertStatus.FIRING)
    ]


async def test_timeout_resolution_survives_a_failed_publish(
    router: LiveRouter, clock: ManualClock
) -> None:
    # The sweep runs on stream time moved by another conversation's assessment. If that
    # publish fails, the quiet conversation must still be resolved on the redelivery.
    await router.deliver(assessment(conversation_id="conv-1", at=T0, rupture=0.99))
    [fired] = router.published
    clock.advance(timedelta(hours=7))
    later = assessment(conversation_id="conv-2", at=T0 + timedelta(hours=7), rupture=0.1)
    router.alerts_down = True
    with pytest.raises(KafkaConnectionError):
        await router.deliver(later)

    router.alerts_down = False
    await router.deliver(later)

    assert [(a.alert_id, a.status) for a in router.published] == [
        (fired.alert_id, AlertStatus.FIRING),
        (fired.alert_id, AlertStatus.RESOLVED),
    ]


# --- property: one open alert per kind --------------------------------------------------------


def hysteresis(scores: list[float]) -> list[AlertStatus]:
    """The rule in its simplest form: fire at >= fire, resolve after N scores below resolve."""
    out: list[AlertStatus] = []
    is_open, calm = False, 0
    for score in scores:
        if not is_open:
            if score >= CONFIG.rupture.fire:
                out.append(AlertStatus.FIRING)
                is_open, calm = True, 0
        elif score >= CONFIG.rupture.resolve:
            calm = 0
        else:
            calm += 1
            if calm >= CONFIG.resolve_after:
                out.append(AlertStatus.RESOLVED)
                is_open = False
    return out


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(scores=st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=60))
def test_rupture_alerts_alternate_firing_and_resolved(scores: list[float]) -> None:
    alerts = timeline().ruptures(*scores)

    open_id = None
    for a in alerts:
        assert a.kind is AlertKind.RUPTURE
        if a.status is AlertStatus.FIRING:
            assert open_id is None, "fired twice without a resolve in between"
            open_id = a.alert_id
        else:
            assert a.alert_id == open_id, "resolved an alert that was not open"
            open_id = None
    fired = [a.alert_id for a in alerts if a.status is AlertStatus.FIRING]
    assert len(set(fired)) == len(fired), "every episode has its own alert_id"
    assert [a.status for a in alerts] == hysteresis(scores)


# --- accumulated evidence ---------------------------------------------------------------------

ACCUMULATING = replace(CONFIG, rupture=Thresholds(fire=0.9, resolve=0.3), accumulate_floor=0.7)


def test_two_elevated_turns_in_a_row_fire_together() -> None:
    # "fine", then "whatever": neither reaches the threshold alone; together they do (noisy-OR).
    t = timeline(config=ACCUMULATING)
    assert t.ruptures(0.2, 0.75) == []

    [fired] = t.ruptures(0.72)

    assert (fired.kind, fired.status) == (AlertKind.RUPTURE, AlertStatus.FIRING)
    assert fired.risk == round(1 - 0.25 * 0.28, 4)


def test_one_elevated_turn_alone_or_interrupted_does_not_fire() -> None:
    t = timeline(config=ACCUMULATING)
    assert t.ruptures(0.75, 0.4, 0.75, 0.69, 0.8) == []


def test_accumulated_evidence_only_counts_client_turns_of_the_same_conversation() -> None:
    policy = AlertPolicy(ACCUMULATING)
    assert Timeline(policy, "conv-1").ruptures(0.75) == []
    assert Timeline(policy, "conv-2").ruptures(0.75) == []


# --- a minimal reply right after a misattuned AI turn ----------------------------------------

EXCHANGE = replace(CONFIG, rupture=Thresholds(fire=0.9, resolve=0.3), exchange_fire=0.65)


def test_a_withdrawn_exchange_opens_a_withdrawal_alert_on_its_own_threshold() -> None:
    # "fine" right after an unasked-for suggestion: its rupture score is far below the fire
    # threshold, its exchange score is not.
    t = timeline(config=EXCHANGE)
    assert t.assess(rupture=0.3, exchange=0.6).alerts == []

    crossing = t.next(rupture=0.35, exchange=0.7, rupture_type=RuptureType.NONE)
    [fired] = t.send(crossing).alerts

    assert (fired.kind, fired.status) == (AlertKind.RUPTURE, AlertStatus.FIRING)
    assert fired.rupture_type is RuptureType.WITHDRAWAL
    assert fired.severity is Severity.WARNING
    assert fired.risk == 0.7
    assert fired.assessment_ids == (crossing.event_id,)


def test_a_withdrawn_exchange_keeps_one_episode_open_and_resolves_like_any_rupture() -> None:
    t = timeline(config=EXCHANGE)
    opened = t.assess(rupture=0.3, exchange=0.8, rupture_type=RuptureType.NONE).alerts
    more = t.assess(rupture=0.2, exchange=0.75, rupture_type=RuptureType.NONE).alerts
    calm = t.ruptures(0.1, 0.1, 0.1)

    assert statuses(opened + more + calm) == [
        (AlertKind.RUPTURE, AlertStatus.FIRING),
        (AlertKind.RUPTURE, AlertStatus.RESOLVED),
    ]


def test_the_exchange_score_of_a_non_client_assessment_opens_nothing() -> None:
    t = timeline(config=EXCHANGE)
    assert t.assess(exchange=0.9, message_id=None).alerts == []


def test_the_router_defaults_are_the_thresholds_make_train_chose() -> None:
    # `make train` chooses the thresholds for the alert budgets and records them in the manifest;
    # the router's settings must carry the same numbers (see models/MODEL_CARD.md).
    manifest = json.loads(
        (Path(__file__).resolve().parents[2] / "models/artifacts/manifest.json").read_text()
    )
    settings = RouterSettings()
    assert {
        "rupture_fire": settings.rupture_fire,
        "rupture_accumulate_floor": settings.rupture_accumulate_floor,
        "rupture_exchange_fire": settings.rupture_exchange_fire,
        "crisis_critical": settings.crisis_critical,
    } == manifest["router"]


def test_the_critical_tier_was_chosen_within_both_of_its_budgets() -> None:
    # A critical page pauses the AI: the manifest records that the chosen threshold kept both the
    # supportive C-SSRS users and ordinary chats (model-only pages) within their budgets, and that
    # it is never below the possible-crisis threshold.
    manifest = json.loads(
        (Path(__file__).resolve().parents[2] / "models/artifacts/manifest.json").read_text()
    )
    chosen = manifest["selection"]["thresholds"]
    budgets, at = chosen["budgets"], chosen["at_choice"]
    assert at["supportive_paged_critical"] <= budgets["supportive_users_paged_critical"]
    assert at["model_critical_per_100"] <= budgets["model_critical_per_100_client_turns"]
    assert at["model_critical_per_100"] <= at["possible_crisis_per_100"]
    assert chosen["router"]["crisis_critical"] >= chosen["crisis_threshold"]
