"""The operational HTTP routes every service serves: /metrics, /health/live, /health/ready."""

from __future__ import annotations

import json
import logging
from typing import Any

from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.types import ASGIApp, Scope
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry, make_asgi_app

from attune_runtime.health import ConsumerProgress, Readiness
from attune_runtime.kafka import ensure_topics
from attune_runtime.settings import ServiceSettings


def _json(body: dict[str, Any], status: int) -> AsgiResponse:
    return AsgiResponse(
        json.dumps(body).encode(), status, headers={"content-type": "application/json"}
    )


def ops_routes(readiness: Readiness, registry: CollectorRegistry) -> list[tuple[str, ASGIApp]]:
    @get(include_in_schema=False)
    async def live(scope: Scope) -> AsgiResponse:
        # The event loop answered: the process is alive. Kafka trouble is readiness, not liveness.
        return _json({"status": "alive"}, 200)

    @get(include_in_schema=False)
    async def ready(scope: Scope) -> AsgiResponse:
        ok, report = await readiness.evaluate()
        return _json(report, 200 if ok else 503)

    return [
        ("/health/live", live),
        ("/health/ready", ready),
        ("/metrics", make_asgi_app(registry)),
    ]


class _Asgi:
    """Wraps an ASGI callable so Starlette routes to it by exact path (no slash redirect)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def add_ops_routes(app: Any, readiness: Readiness, registry: CollectorRegistry) -> None:
    """Install the same ops routes on a FastAPI/Starlette app."""
    from starlette.routing import Route

    for path, route in ops_routes(readiness, registry):
        app.router.routes.append(Route(path, _Asgi(route), include_in_schema=False))


def stream_app(
    broker: KafkaBroker,
    *,
    settings: ServiceSettings,
    progress: ConsumerProgress,
    registry: CollectorRegistry,
    title: str,
) -> AsgiFastStream:
    """A Kafka-only service as an ASGI app: topics provisioned, ops routes, AsyncAPI docs."""
    readiness = Readiness(
        subscribers=list(broker.subscribers),
        progress=progress,
        stall_after_seconds=settings.stall_after_seconds,
    )

    async def provision() -> None:
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            partitions=settings.topic_partitions,
            prefix=settings.topic_prefix,
        )

    return AsgiFastStream(
        broker,
        asgi_routes=ops_routes(readiness, registry),
        on_startup=[provision],
        asyncapi_path="/docs/asyncapi",
        logger=logging.getLogger("attune.app"),
        specification=AsyncAPI(title=title, version="0.1.0"),
    )
