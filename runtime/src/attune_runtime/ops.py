"""The operational HTTP routes every service serves: /metrics, /health/live, /health/ready.

The health routes answer anyone (probes carry no tenant data). /metrics answers only
`Authorization: Bearer <ATTUNE_METRICS_TOKEN>`, and nobody while that token is unset.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from faststream.asgi import AsgiResponse, get
from faststream.asgi.types import ASGIApp, Scope
from prometheus_client import CollectorRegistry, make_asgi_app
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Route

from attune_runtime.health import Readiness


def json_response(body: dict[str, Any], status: int) -> AsgiResponse:
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
        return json_response({"status": "alive"}, 200)

    @get(include_in_schema=False)
    async def ready(scope: Scope) -> AsgiResponse:
        ok, report = await readiness.evaluate()
        return json_response(report, 200 if ok else 503)

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


def mount(app: Starlette, path: str, route: ASGIApp) -> None:
    """Serve the ASGI callable `route` at exactly `path`, outside the app's OpenAPI."""
    app.router.routes.append(Route(path, _Asgi(route), include_in_schema=False))


def add_ops_routes(
    app: Starlette,
    readiness: Readiness,
    registry: CollectorRegistry,
    metrics_token: SecretStr | None = None,
) -> None:
    """Install the ops routes on a FastAPI/Starlette app."""
    for path, route in ops_routes(readiness, registry, metrics_token):
        mount(app, path, route)
