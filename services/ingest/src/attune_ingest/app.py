"""create_app(settings): the ingest service as one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from attune_ingest import api, handlers
from attune_ingest.intake import Intake
from attune_ingest.metrics import IngestMetrics
from attune_ingest.settings import IngestSettings
from attune_runtime.clock import Clock, SystemClock
from attune_runtime.dedup import SeenIds
from attune_runtime.health import Check, ConsumerProgress, Readiness
from attune_runtime.kafka import ensure_topics, make_broker
from attune_runtime.ops import add_ops_routes
from attune_schemas.topics import CONVERSATION_EVENTS


def create_app(
    settings: IngestSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    manage_topics: bool = True,
) -> FastAPI:
    clock = clock or SystemClock()
    registry = registry or CollectorRegistry()
    progress = ConsumerProgress(clock)
    broker = make_broker(settings, service="ingest", registry=registry, progress=progress)
    metrics = IngestMetrics(registry)
    seen = SeenIds(
        window=timedelta(seconds=settings.dedup_window_seconds),
        max_size=settings.dedup_max_ids,
        clock=clock,
    )
    intake = Intake(
        broker=broker, seen=seen, metrics=metrics, topic=settings.topic(CONVERSATION_EVENTS)
    )
    handlers.register(broker, settings=settings, intake=intake, metrics=metrics, clock=clock)

    async def producer_check() -> Check:
        return Check("kafka_producer", await broker.ping(timeout=2.0))

    readiness = Readiness(
        subscribers=list(broker.subscribers),
        progress=progress,
        stall_after_seconds=settings.stall_after_seconds,
        extra_checks=[producer_check],
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_topics:
            await ensure_topics(
                settings.kafka_bootstrap_servers, partitions=settings.topic_partitions
            )
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()

    app = FastAPI(title="Attune ingest", version="0.1.0", lifespan=lifespan)
    app.include_router(api.router(intake, settings))
    add_ops_routes(app, readiness, registry)
    app.state.broker = broker
    app.state.intake = intake
    app.state.settings = settings
    return app
