"""create_app(settings): the router service as one ASGI app."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from attune_router import handlers
from attune_router.metrics import RouterMetrics
from attune_router.policy import AlertPolicy, policy_config
from attune_router.settings import RouterSettings
from attune_router.silence_feed import SilenceFeed
from attune_router.stages.silences import SilenceBook
from attune_runtime.clock import Clock, SystemClock
from attune_runtime.health import Check, ConsumerProgress
from attune_runtime.kafka import make_broker
from attune_runtime.replay import WarmUp
from attune_runtime.service import App, Service, build_service
from attune_schemas import AlertKind, InvalidMessage
from attune_schemas.topics import SILENCES


@dataclass
class Router:
    policy: AlertPolicy
    warm_up: WarmUp | None
    silences: SilenceFeed | None


def create_app(settings: RouterSettings) -> App:
    """The router as an ASGI app (`uvicorn --factory`)."""
    return build(settings).app


def build(
    settings: RouterSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    rebuild_on_assign: bool = True,
    follow_silences: bool | None = None,
) -> Service[Router]:
    """`rebuild_on_assign` (reads Kafka out of band) and `follow_silences` (default: the same;
    needs the topic's end offsets at start) want a real broker: unit tests on the in-memory
    broker turn them off."""
    clock = clock or SystemClock()
    registry = registry or CollectorRegistry()
    progress = ConsumerProgress(clock)
    broker = make_broker(settings, service="router", registry=registry, progress=progress)
    metrics = RouterMetrics(registry)
    book = SilenceBook()
    policy = AlertPolicy(
        policy_config(settings),
        max_conversations=settings.max_conversations,
        lateness=timedelta(seconds=settings.watermark_lateness_seconds),
        silences=book,
    )
    follow = rebuild_on_assign if follow_silences is None else follow_silences
    feed = (
        SilenceFeed(
            kafka=settings,
            topic=settings.topic(SILENCES),
            book=book,
            metrics=metrics,
        )
        if follow
        else None
    )
    metrics.active_silences.set_function(lambda: len(book.active(clock.now())))
    for kind in (AlertKind.RUPTURE, AlertKind.DISENGAGEMENT):
        metrics.open_alerts.labels(kind.value).set_function(partial(policy.open_alerts, kind))

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
            lookback=policy.config.longest_window,
            clock=clock,
            apply=rebuild,
            forget=forget,
            # Silences as live decisions had them: an episode that went out silenced is rebuilt
            # silenced, so it is sent again unsilenced if it outlasts its silence.
            before=feed.ready.wait if feed is not None else None,
        )
        if rebuild_on_assign
        else None
    )
    if feed is not None:
        handlers.register_silences(broker, settings=settings, feed=feed)
    handlers.register(
        broker,
        settings=settings,
        policy=policy,
        metrics=metrics,
        clock=clock,
        warm_up=warm_up,
        silences=feed,
    )

    async def silences_check() -> Check:
        loaded = feed is None or feed.ready.is_set()
        return Check("silences", loaded, {} if loaded else {"reason": "loading"})

    return build_service(
        "router",
        settings=settings,
        broker=broker,
        progress=progress,
        registry=registry,
        parts=Router(policy, warm_up, feed),
        checks=[silences_check],
        on_start=[feed.load_ends] if feed is not None else [],
    )
