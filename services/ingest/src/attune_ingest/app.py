"""create_app(settings): the ingest service as one ASGI app."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CollectorRegistry
from starlette.types import Receive, Scope, Send

from attune_auth.db import make_engine, make_sessions
from attune_auth.guard import Guard
from attune_ingest import api, handlers
from attune_ingest.intake import Intake
from attune_ingest.metrics import IngestMetrics
from attune_ingest.published import dedup_key, remember_published
from attune_ingest.settings import IngestSettings
from attune_runtime.clock import Clock, SystemClock
from attune_runtime.dedup import PublishOnce, SeenIds
from attune_runtime.health import Check, ConsumerProgress
from attune_runtime.kafka import ManagedProducer, Producer, make_broker
from attune_runtime.service import App, Service, build_service
from attune_schemas import ConversationEvent
from attune_schemas.topics import CONVERSATION_EVENTS

log = structlog.get_logger(__name__)


class IngestApp(FastAPI):
    """FastAPI, except that POST /v1/events is answered before any of FastAPI's layers."""

    intake_endpoint: api.IntakeEndpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if api.is_intake(scope):
            await api.serve_intake(self.intake_endpoint, scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


@dataclass
class Ingest:
    intake: Intake
    seen: SeenIds


def serving(settings: IngestSettings) -> Service[Ingest]:
    """The service as a server runs it, for the whole life of the process."""
    service = build(settings)
    # Modules and the app live as long as the process: keep them out of the collector's full
    # passes, which otherwise tax every request (make bench-ingest).
    gc.freeze()
    return service


def create_app(settings: IngestSettings) -> App:
    """The ingest service as an ASGI app (`uvicorn --factory`)."""
    return build(settings).app


def build(
    settings: IngestSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    check_topics: bool = True,
    producer: Producer | None = None,
) -> Service[Ingest]:
    """The ingest service. `producer` replaces the Kafka producer (tests); the caller runs it."""
    clock = clock or SystemClock()
    registry = registry or CollectorRegistry()
    progress = ConsumerProgress(clock)
    broker = make_broker(settings, service="ingest", registry=registry, progress=progress)
    metrics = IngestMetrics(registry)
    window = timedelta(seconds=settings.dedup_window_seconds)
    seen = SeenIds(window=window, max_size=settings.dedup_max_ids, clock=clock)
    metrics.dedup_ids.set_function(lambda: len(seen))
    owned = ManagedProducer(
        settings,
        service="ingest",
        linger_ms=settings.producer_linger_ms,
        request_timeout_ms=settings.producer_request_timeout_ms,
    )
    events_topic = settings.topic(CONVERSATION_EVENTS)
    intake = Intake(
        producer=producer or owned,
        once=PublishOnce[ConversationEvent](seen, key=dedup_key),
        metrics=metrics,
        topic=events_topic,
        clock=clock,
        bounds=settings.event_time_bounds(),
    )
    handlers.register(broker, settings=settings, intake=intake, metrics=metrics, clock=clock)
    identity = make_engine(settings.auth.database_url)
    guard = Guard(settings.auth, sessions=make_sessions(identity), clock=clock)

    async def producer_check() -> Check:
        return Check("kafka_producer", await broker.ping(timeout=2.0))

    async def intake_producer_check() -> Check:
        # The producer HTTP requests publish through: not ready while its deliveries fail.
        return owned.check() if producer is None else Check("intake_producer", True)

    async def rebuild_dedup() -> None:
        try:
            found = await remember_published(
                seen,
                kafka=settings,
                topic=events_topic,
                window=window,
                clock=clock,
            )
        except Exception as exc:  # serve anyway: a republished duplicate is absorbed downstream
            log.error("dedup_rebuild_failed", topic=events_topic, error=type(exc).__name__)
            return
        metrics.dedup_rebuilt.inc(found)

    async def start_producer() -> None:
        if producer is None:
            await owned.start()

    async def dedup_before_serving() -> None:
        # Before the first request or record: a retry of an event published before a
        # restart must be answered as a duplicate, not published again.
        if settings.dedup_rebuild:
            await rebuild_dedup()

    # No OpenTelemetry here (metrics are Prometheus): FastAPI would check for it per request.
    telemetry: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
    app = IngestApp(title="Attune ingest", version="0.1.0", telemetry=telemetry)
    schema, definitions = api.request_schema(settings.max_batch_events)
    app.state.guard = guard
    app.intake_endpoint = api.IntakeEndpoint(intake, settings, guard)
    app.include_router(api.router(app.intake_endpoint, schema))
    _self_contained_openapi(app, definitions)
    return build_service(
        "ingest",
        settings=settings,
        broker=broker,
        progress=progress,
        registry=registry,
        parts=Ingest(intake, seen),
        http=app,
        checks=[producer_check, intake_producer_check],
        on_start=[start_producer, dedup_before_serving],
        on_stop=[owned.stop, identity.dispose],
        check_topics=check_topics,
    )


def _self_contained_openapi(app: FastAPI, definitions: dict[str, Any]) -> None:
    """Put the request body's definitions into components, where its $refs point."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
            spec.setdefault("components", {}).setdefault("schemas", {}).update(definitions)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
