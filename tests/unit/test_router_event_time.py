"""Router timelines in event time: per (tenant, conversation), bounded, injected clock.

One future-dated assessment used to move a single global clock: every open alert resolved as
timed out and crisis inhibitions were forgotten, in every tenant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from prometheus_client import CollectorRegistry

from attune_router.app import Router, build
from attune_router.policy import AlertPolicy, PolicyConfig, Thresholds
from attune_router.settings import RouterSettings
from attune_runtime.clock import ManualClock
from attune_runtime.service import Service
from attune_schemas import Alert, AlertKind, AlertStatus, DeadLetter, RuptureAssessment, encode
from tests.factories import T0, assessment

CONFIG = PolicyConfig(
    rupture=Thresholds(fire=0.6, resolve=0.3),
    disengagement=Thresholds(fire=0.55, resolve=0.25),
    resolve_after=3,
    episode_timeout=timedelta(minutes=30),
    crisis_inhibits=timedelta(hours=24),
    crisis_critical=0.5,
    # Accumulated evidence off: these timelines test single assessments against thresholds.
    accumulate_floor=1.01,
    exchange_fire=1.01,
)
WEEK = timedelta(days=7)


@dataclass
class LiveRouter:
    service: Service[Router]
    clock: ManualClock
    alerts: list[Alert] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)

    @property
    def broker(self) -> KafkaBroker:
        return self.service.broker

    async def send(self, a: RuptureAssessment) -> None:
        await self.broker.publish(
            encode(a), topic="rupture.assessments", key=a.conversation_id.encode()
        )


@pytest.fixture
async def router(clock: ManualClock) -> AsyncIterator[LiveRouter]:
    settings = RouterSettings(
        retry_backoff_seconds=0,
        retry_backoff_max_seconds=0,
        rupture_fire=0.6,
        rupture_resolve=0.3,
        episode_timeout_seconds=1800,
        crisis_inhibits_seconds=24 * 3600,
    )
    service = build(settings, clock=clock, registry=CollectorRegistry(), rebuild_on_assign=False)
    live = LiveRouter(service, clock)

    @service.broker.subscriber("alerts")
    async def alerts(msg: KafkaMessage) -> None:
        live.alerts.append(Alert.model_validate_json(msg.body))

    @service.broker.subscriber("rupture.assessments.dlq")
    async def dead_letters(msg: KafkaMessage) -> None:
        live.dead.append(DeadLetter.model_validate_json(msg.body))

    async with TestKafkaBroker(service.broker):
        yield live


def _kinds(alerts: list[Alert], conversation_id: str) -> list[tuple[AlertKind, AlertStatus]]:
    return [(a.kind, a.status) for a in alerts if a.conversation_id == conversation_id]


async def test_a_future_dated_assessment_of_another_tenant_changes_nothing_for_this_one(
    router: LiveRouter,
) -> None:
    await router.send(assessment(conversation_id="c-open", at=T0, rupture=0.8))
    await router.send(assessment(conversation_id="c-crisis", at=T0, crisis=True))

    ahead = assessment(conversation_id="c-b", tenant_id="tenant-b", at=T0 + WEEK, rupture=0.9)
    await router.send(ahead)
    router.clock.advance(timedelta(minutes=20))
    await router.send(assessment(conversation_id="c-crisis", at=router.clock.now(), rupture=0.9))

    [letter] = router.dead
    assert (letter.reason, letter.service, letter.key) == ("occurred_in_future", "router", "c-b")
    assert _kinds(router.alerts, "c-open") == [(AlertKind.RUPTURE, AlertStatus.FIRING)]
    # The crisis inhibition holds: the rupture after it is not alerted.
    assert _kinds(router.alerts, "c-crisis") == [(AlertKind.CRISIS, AlertStatus.FIRING)]
    assert _kinds(router.alerts, "c-b") == []
    states = router.service.parts.policy.states
    assert AlertKind.RUPTURE in states[("tenant-a", "c-open")].open
    assert ("tenant-b", "c-b") not in states


async def test_an_assessment_before_the_epoch_is_dead_lettered(router: LiveRouter) -> None:
    await router.send(assessment(at=datetime(2019, 12, 31, 23, 59, tzinfo=UTC), rupture=0.9))

    assert [d.reason for d in router.dead] == ["occurred_before_epoch"]
    assert router.alerts == []


def test_an_assessment_that_slipped_past_the_bound_still_moves_no_one_else_s_time() -> None:
    # Below the handler: even decided, a week-ahead assessment on the same partition leaves
    # the others' alerts open and inhibitions held, since sweeps stop at the service clock.
    policy = AlertPolicy(CONFIG, lateness=timedelta(minutes=5))
    [fired] = policy.decide(assessment(conversation_id="c-open", at=T0, rupture=0.8), 0).alerts
    policy.decide(assessment(conversation_id="c-crisis", at=T0, crisis=True), 0)
    policy.decide(assessment(conversation_id="c-b", tenant_id="tenant-b", at=T0 + WEEK), 0)
    now = T0 + timedelta(minutes=20)

    swept = policy.sweep(0, now=now) if policy.sweep_due(0, now=now) else []
    later = policy.decide(assessment(conversation_id="c-crisis", at=now, rupture=0.9), 0)

    assert swept == []
    assert later.alerts == [] and later.inhibited == [AlertKind.RUPTURE]
    assert policy.states[("tenant-a", "c-open")].open[AlertKind.RUPTURE].alert_id == fired.alert_id
    # Once the clock has truly moved on, the quiet conversation does resolve.
    [resolved] = policy.sweep(0, now=T0 + timedelta(hours=1))
    assert (resolved.alert_id, resolved.status) == (fired.alert_id, AlertStatus.RESOLVED)


def test_the_same_conversation_id_in_two_tenants_shares_no_state() -> None:
    policy = AlertPolicy(CONFIG)
    minute = timedelta(minutes=1)
    policy.decide(assessment(conversation_id="shared", at=T0, crisis=True))
    policy.decide(assessment(conversation_id="other", at=T0, rupture=0.8))

    a = policy.decide(assessment(conversation_id="shared", at=T0 + minute, rupture=0.9))
    b = policy.decide(
        assessment(conversation_id="shared", tenant_id="tenant-b", at=T0 + minute, rupture=0.9)
    )
    # Tenant b's calm assessments under the same id do not count toward tenant a's alert.
    calm = [
        policy.decide(
            assessment(conversation_id="other", tenant_id="tenant-b", at=T0 + n * minute)
        ).alerts
        for n in range(2, 6)
    ]

    assert a.alerts == [] and a.inhibited == [AlertKind.RUPTURE]  # tenant a: crisis inhibits
    assert [(x.kind, x.status, x.tenant_id) for x in b.alerts] == [
        (AlertKind.RUPTURE, AlertStatus.FIRING, "tenant-b")
    ]
    assert calm == [[], [], [], []]
    assert AlertKind.RUPTURE in policy.states[("tenant-a", "other")].open
    assert policy.states[("tenant-b", "shared")].inhibited_until is None
