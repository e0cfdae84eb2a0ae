"""The router's pipeline of stages, and its rebuild after a restart reaching far enough back."""

from __future__ import annotations

from datetime import timedelta

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
from attune_router.stages.thresholds import Thresholds
from attune_runtime.clock import ManualClock
from attune_runtime.replay import WarmUp
from attune_schemas import AlertKind, RuptureAssessment, encode
from tests.factories import T0, assessment


def test_every_assessment_goes_through_the_stages_in_order() -> None:
    stages = stages_for(policy_config())

    assert [type(s) for s in stages] == [Dedup, Crisis, Thresholds, Inhibition, Fire]
    muter: Muter = CrisisInhibitor()  # inhibition is a Muter like silences
    assert muter.mutes is not None


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
