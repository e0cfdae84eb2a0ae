"""The router decides a batch of assessments at a time: in order, atomically, one commit."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields
from datetime import timedelta

import pytest
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from prometheus_client import CollectorRegistry

from attune_router.app import Router, build
from attune_router.policy import AlertPolicy, ConversationState, policy_config
from attune_router.settings import RouterSettings
from attune_runtime.clock import ManualClock
from attune_runtime.service import Service
from attune_schemas import Alert, AlertKind, AlertStatus, DeadLetter, RuptureAssessment, encode
from tests.factories import T0, assessment
from tests.kafka_fakes import fail_publishes


@dataclass
class BatchRouter:
    service: Service[Router]
    registry: CollectorRegistry
    alerts: list[Alert] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    alerts_down: bool = False

    @property
    def broker(self) -> KafkaBroker:
        return self.service.broker

    async def send(self, *records: RuptureAssessment | bytes) -> None:
        """One batch, as one poll of the topic hands it to the subscriber."""
        await self.broker.publish_batch(
            *(r if isinstance(r, bytes) else encode(r) for r in records),
            topic="rupture.assessments",
        )

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


@pytest.fixture
async def router(clock: ManualClock) -> AsyncIterator[BatchRouter]:
    registry = CollectorRegistry()
    settings = RouterSettings(retry_backoff_seconds=0, retry_backoff_max_seconds=0)
    service = build(settings, clock=clock, registry=registry, rebuild_on_assign=False)
    live = BatchRouter(service, registry)

    @service.broker.subscriber("alerts")
    async def alerts_sink(msg: KafkaMessage) -> None:
        live.alerts.append(Alert.model_validate_json(msg.body))

    @service.broker.subscriber("rupture.assessments.dlq")
    async def dead_letters(msg: KafkaMessage) -> None:
        live.dead.append(DeadLetter.model_validate_json(msg.body))

    fail_publishes(service.broker, "alerts", when=lambda: live.alerts_down)
    async with TestKafkaBroker(service.broker):
        yield live


def _story(conversation_id: str) -> list[RuptureAssessment]:
    """Fires, stays open, then calms down three times: firing then resolved, in that order."""
    scores = [0.99, 0.5, 0.1, 0.1, 0.1]
    return [
        assessment(conversation_id=conversation_id, at=T0 + timedelta(seconds=n), rupture=s)
        for n, s in enumerate(scores)
    ]


async def test_a_batch_is_decided_in_order_per_conversation_and_a_poison_record_dead_lettered(
    router: BatchRouter,
) -> None:
    first, second = _story("conv-1"), _story("conv-2")
    interleaved = [a for pair in zip(first, second, strict=True) for a in pair]
    await router.send(*interleaved[:3], b'{"not": "an assessment"}', *interleaved[3:])

    [letter] = router.dead
    assert (letter.reason, letter.service) == ("invalid_event", "router")
    for conversation in ("conv-1", "conv-2"):
        mine = [a for a in router.alerts if a.conversation_id == conversation]
        assert [(a.kind, a.status) for a in mine] == [
            (AlertKind.RUPTURE, AlertStatus.FIRING),
            (AlertKind.RUPTURE, AlertStatus.RESOLVED),
        ]
    assert router.sample("attune_router_batch_size_count") == 1
    assert router.sample("attune_router_batch_size_sum") == 11


async def test_a_batch_whose_alerts_are_not_acked_is_undone_and_decided_again(
    router: BatchRouter,
) -> None:
    batch = [
        assessment(conversation_id="conv-1", rupture=0.99),
        assessment(conversation_id="conv-2", crisis=True),
        assessment(conversation_id="conv-3", rupture=0.1),
    ]
    router.alerts_down = True
    with pytest.raises(KafkaConnectionError):  # not committed: Kafka redelivers the batch
        await router.send(*batch)
    assert router.service.parts.policy.states == {}

    router.alerts_down = False
    await router.send(*batch)
    await router.send(*batch)  # a redelivery after the commit was lost: all duplicates

    assert sorted((a.conversation_id, a.kind, a.status) for a in router.alerts) == [
        ("conv-1", AlertKind.RUPTURE, AlertStatus.FIRING),
        ("conv-2", AlertKind.CRISIS, AlertStatus.FIRING),
    ]
    assert router.sample("attune_router_duplicate_assessments_total") == 3


async def test_open_alerts_are_counted_when_scraped(router: BatchRouter) -> None:
    await router.send(
        assessment(conversation_id="conv-1", rupture=0.99),
        assessment(conversation_id="conv-2", rupture=0.99, disengagement=0.9),
    )
    assert router.sample("attune_router_open_alerts", kind="rupture") == 2
    assert router.sample("attune_router_open_alerts", kind="disengagement") == 1

    # The gauge reads the policy's state itself: a change outside the handler shows at once.
    router.service.parts.policy.states.clear()
    assert router.sample("attune_router_open_alerts", kind="rupture") == 0


def test_a_state_copy_equals_a_deep_copy_and_shares_nothing_a_decision_changes() -> None:
    policy = AlertPolicy(policy_config(RouterSettings()))
    story = [
        assessment(conversation_id="conv-1", at=T0 + timedelta(seconds=n), rupture=0.99)
        for n in range(3)
    ]
    for a in story:
        policy.decide(a, 0)
    state = policy.states[("tenant-a", "conv-1")]
    clone = state.copy()
    assert clone == copy.deepcopy(state)
    for name in (f.name for f in fields(ConversationState)):  # a field added later is copied
        value = getattr(state, name)
        assert not isinstance(value, list | dict | deque) or getattr(clone, name) is not value
    [episode] = state.open.values()
    assert clone.open[AlertKind.RUPTURE] is not episode
    assert clone.open[AlertKind.RUPTURE].assessment_ids is not episode.assessment_ids

    # What deciding a batch changes on the live state leaves the copy as it was.
    policy.decide(assessment(conversation_id="conv-1", at=T0 + timedelta(seconds=9)), 0)
    policy.decide(assessment(conversation_id="conv-1", at=T0 + timedelta(seconds=10)), 0)
    assert len(clone.seen) == 3
    assert clone.open[AlertKind.RUPTURE].assessment_ids == [a.event_id for a in story]
    assert clone.open[AlertKind.RUPTURE].calm == 0
    assert episode.calm == 2
