"""create_app(settings): the classifier service as one ASGI app."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from attune_classifier import handlers
from attune_classifier.assess import Assessor
from attune_classifier.heap import freeze_long_lived
from attune_classifier.metrics import ClassifierMetrics
from attune_classifier.model import load_scorer
from attune_classifier.scoring import Scorer
from attune_classifier.settings import ClassifierSettings
from attune_classifier.window import Windows
from attune_runtime.clock import Clock, SystemClock
from attune_runtime.health import ConsumerProgress
from attune_runtime.kafka import make_broker
from attune_runtime.replay import WarmUp
from attune_runtime.service import App, Service, build_service


@dataclass
class Classifier:
    windows: Windows
    assessor: Assessor
    warm_up: WarmUp | None


def create_app(settings: ClassifierSettings) -> App:
    """The classifier as an ASGI app (`uvicorn --factory`)."""
    return build(settings).app


_settled = False


def settle_heap() -> None:
    """Once per process, after start-up: freeze what lives forever (`heap`), the service's
    broker and subscribers with it."""
    global _settled
    if not _settled:
        _settled = True
        freeze_long_lived()


def build(
    settings: ClassifierSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    scorer: Scorer | None = None,
    rebuild_on_assign: bool = True,
) -> Service[Classifier]:
    clock = clock or SystemClock()
    registry = registry or CollectorRegistry()
    scorer = scorer or load_scorer(settings)
    progress = ConsumerProgress(clock)
    broker = make_broker(settings, service="classifier", registry=registry, progress=progress)
    metrics = ClassifierMetrics(registry)
    metrics.model_info.labels(scorer.version).set(1)
    windows = Windows(
        max_conversations=settings.max_conversations,
        idle_expiry=timedelta(seconds=settings.idle_expiry_seconds),
        lateness=timedelta(seconds=settings.watermark_lateness_seconds),
    )
    assessor = Assessor(scorer=scorer, windows=windows, clock=clock)

    bounds = settings.event_time_bounds()

    def rebuild(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        # Out-of-bounds events were dead-lettered when live; the rebuild skips them the same way.
        events, _ = handlers.decode_records(records, bounds=bounds, now=clock.now())
        assessor.process(events)  # same code path as live traffic; output discarded
        metrics.replayed.inc(len(events))

    def forget(partitions: Collection[TopicPartition]) -> None:
        windows.forget_partitions({tp.partition for tp in partitions})

    warm_up = (
        WarmUp(
            kafka=settings,
            group_id=settings.group_id,
            lookback=timedelta(seconds=settings.idle_expiry_seconds),
            clock=clock,
            apply=rebuild,
            forget=forget,
        )
        if rebuild_on_assign
        else None
    )
    handlers.register(
        broker,
        settings=settings,
        assessor=assessor,
        windows=windows,
        metrics=metrics,
        clock=clock,
        warm_up=warm_up,
    )
    settle_heap()
    return build_service(
        "classifier",
        settings=settings,
        broker=broker,
        progress=progress,
        registry=registry,
        parts=Classifier(windows, assessor, warm_up),
    )
