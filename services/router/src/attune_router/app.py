"""create_app(settings): the router service as one ASGI app."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from attune_router import handlers
from attune_router.metrics import RouterMetrics
from attune_router.policy import AlertPolicy, policy_config
from attune_router.settings import RouterSettings
from attune_runtime.clock import Clock, SystemClock
from attune_runtime.health import ConsumerProgress
from attune_runtime.kafka import make_broker
from attune_runtime.replay import WarmUp
from attune_runtime.service import App, Service, build_service
from attune_schemas import InvalidMessage


@dataclass
class Router:
    policy: AlertPolicy
    warm_up: WarmUp | None


def create_app(settings: RouterSettings) -> App:
    """The router as an ASGI app (`uvicorn --factory`)."""
    return build(settings).app


def build(
    settings: RouterSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    rebuild_on_assign: bool = True,
) -> Service[Router]:
    clock = clock or SystemClock()
    registry = registry or CollectorRegistry()
    progress = ConsumerProgress(clock)
    broker = make_broker(settings, service="router", registry=registry, progress=progress)
    metrics = RouterMetrics(registry)
    policy = AlertPolicy(
        policy_config(settings),
        max_conversations=settings.max_conversations,
        lateness=timedelta(seconds=settings.watermark_lateness_seconds),
    )

    bounds = settings.event_time_bounds()

    def rebuild(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        # Same decisions as live traffic, outputs discarded: open alerts stay open, no re-fire.
        # Out-of-bounds assessments were dead-lettered when live; the rebuild skips them too.
        now = clock.now()
        for record in records:
            try:
                assessment = handlers.decode_assessment(record, bounds=bounds, now=now)
                policy.decide(assessment, record.partition)
            except InvalidMessage:
                continue
            metrics.replayed.inc()

    def forget(partitions: Collection[TopicPartition]) -> None:
        policy.forget_partitions({tp.partition for tp in partitions})

    warm_up = (
        WarmUp(
            kafka=settings,
            group_id=settings.group_id,
            # As far back as the longest window the policy keeps: crisis inhibition outlives
            # an episode, and a restart must not lift it early.
            lookback=timedelta(
                seconds=max(settings.episode_timeout_seconds, settings.crisis_inhibits_seconds)
            ),
            clock=clock,
            apply=rebuild,
            forget=forget,
        )
        if rebuild_on_assign
        else None
    )
    handlers.register(
        broker, settings=settings, policy=policy, metrics=metrics, clock=clock, warm_up=warm_up
    )
    return build_service(
        "router",
        settings=settings,
        broker=broker,
        progress=progress,
        registry=registry,
        parts=Router(policy, warm_up),
    )
