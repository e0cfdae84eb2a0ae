"""The operational HTTP routes every service serves: /metrics, /health/live, /health/ready.

The health routes answer anyone (probes carry no tenant data). /metrics answers only
`Authorization: Bearer <ATTUNE_METRICS_TOKEN>`, and nobody while that token is unset.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.types import ASGIApp, Scope
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry, make_asgi_app
from pydantic import SecretStr

from attune_runtime.health import ConsumerProgress, Readiness
from attune_runtime.kafka import ensure_topics
from attune_runtime.settings import ServiceSettings


def _json(body: dict[str, Any], status: int) -> AsgiResponse:
    return AsgiResponse(
        json.dumps(body).encode(), status, headers={"content-type": "application/json"}
    )


class _ScrapeToken:
    """Serves /metrics only to a scraper that presents the configured bearer token."""

    def __init__(self, app: Any, token: SecretStr | None) -> None:
        self.app = app
        self.expected = f"Bearer {token.get_secret_value()}".encode() if token else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if self.expected is not None and hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        reason = "metrics token required" if self.expected else "ATTUNE_METRICS_TOKEN is not set"
        body = json.dumps({"detail": reason}).encode()
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def ops_routes(
    readiness: Readiness, registry: CollectorRegistry, metrics_token: SecretStr | None = None
) -> list[tuple[str, ASGIApp]]:
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
        ("/metrics", _ScrapeToken(make_asgi_app(registry), metrics_token)),
    ]


class _Asgi:
    """Wraps an ASGI callable so Starlette routes to it by exact path (no slash redirect)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def add_ops_routes(
    app: Any,
    readiness: Readiness,
    registry: CollectorRegistry,
    metrics_token: SecretStr | None = None,
) -> None:
    """Install the same ops routes on a FastAPI/Starlette app."""
    from starlette.routing import Route

    for path, route in ops_routes(readiness, registry, metrics_token):
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
        asgi_routes=ops_routes(readiness, registry, settings.metrics_token),
        on_startup=[provision],
        asyncapi_path="/docs/asyncapi",
        logger=logging.getLogger("attune.app"),
        specification=AsyncAPI(title=title, version="0.1.0"),
    )
