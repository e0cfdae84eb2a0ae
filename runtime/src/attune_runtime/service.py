"""The one shape of every service: a broker, its HTTP app, and the lifespan that runs them.

`build_service` owns what every service does the same way: its topics checked (with the topic
prefix) before anything consumes, start-up steps, the broker, background workers, and
the reverse on the way down; `/health/live`, `/health/ready` (consumer progress plus the
service's own checks), `/metrics`, and the AsyncAPI document at `/docs/asyncapi`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from fastapi import FastAPI
from faststream.asgi import AsgiResponse, get, make_asyncapi_asgi
from faststream.asgi.types import Scope
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry

from attune_runtime.consumers import ConsumerMetrics
from attune_runtime.health import Check, ConsumerProgress, Readiness
from attune_runtime.ops import add_ops_routes, json_response, mount
from attune_runtime.settings import ServiceSettings
from attune_runtime.topics import verify_topics

P = TypeVar("P")
App = FastAPI  # every service's ASGI app, whether it has an HTTP API of its own or not
Hook = Callable[[], Awaitable[None]]
Worker = Callable[[], Coroutine[Any, Any, None]]
ASYNCAPI_PATH = "/docs/asyncapi"
VERSION = "0.1.0"

log = structlog.get_logger(__name__)


@dataclass
class Service(Generic[P]):
    """A built service: its ASGI app, broker, metrics registry and domain parts (`parts`)."""

    name: str
    app: FastAPI
    broker: KafkaBroker
    registry: CollectorRegistry
    readiness: Readiness
    specification: AsyncAPI
    parts: P
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def running(self) -> AbstractAsyncContextManager[Any]:
        """The service's lifespan (what a server runs around serving): for tests and tools."""
        return self.app.router.lifespan_context(self.app)

    def asyncapi(self) -> dict[str, Any]:
        """The AsyncAPI document: every channel the service reads and writes, with payloads."""
        document: dict[str, Any] = self.specification.to_specification().to_jsonable()
        return document


def topics_of(broker: KafkaBroker) -> set[str]:
    """Every topic the broker's subscribers read and its publishers write (cluster names)."""
    names: set[str] = set()
    for sub in broker.subscribers:
        names.update(getattr(sub, "topic_names", ()))
    for pub in broker.publishers:
        topic = getattr(pub, "topic", "")
        if topic:
            names.add(topic)
    return names


WORKER_STOP_SECONDS = 10.0


async def stop_workers(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the background workers and wait for them, within a bound: a worker that
    outlives its cancellation is named in the log and shutdown carries on without it."""
    for task in tasks:
        task.cancel()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=WORKER_STOP_SECONDS)
        for task in pending:
            log.error("worker_did_not_stop", worker=task.get_name())
    tasks.clear()


def build_service(
    name: str,
    *,
    settings: ServiceSettings,
    broker: KafkaBroker,
    progress: ConsumerProgress,
    registry: CollectorRegistry,
    parts: P,
    http: FastAPI | None = None,
    checks: Sequence[Callable[[], Awaitable[Check]]] = (),
    on_start: Sequence[Hook] = (),
    on_stop: Sequence[Hook] = (),
    workers: Mapping[str, Worker] | None = None,
    check_topics: bool = True,
    run_workers: bool = True,
) -> Service[P]:
    """Wire one service. Subscribers and publishers must already be on `broker`.

    Before anything consumes, every topic the service reads or writes must exist
    (`check_topics`): a missing one fails the start, named (`attune topics apply` creates them).

    `http` is the service's own API (ingest, escalation), or None for a Kafka-only service.
    `on_start` runs in order after the topics and before the broker starts; `on_stop` runs in
    order after the broker stopped, also when start-up failed half way. `workers` are background
    loops started with the broker; one that exits makes the service not ready.
    """
    workers = dict(workers or {})
    app = http or FastAPI(
        title=f"Attune {name}", version=VERSION, openapi_url=None, docs_url=None, redoc_url=None
    )
    specification = AsyncAPI(broker, title=f"Attune {name}", version=VERSION)
    tasks: list[asyncio.Task[None]] = []

    async def workers_check() -> Check:
        stopped = [t.get_name() for t in tasks if t.done()]
        return Check("workers", not stopped, {"stopped": stopped} if stopped else {})

    readiness = Readiness(
        subscribers=list(broker.subscribers),
        progress=progress,
        stall_after_seconds=settings.stall_after_seconds,
        extra_checks=[*checks, *([workers_check] if workers and run_workers else [])],
        silent_after_seconds=settings.broker_silent_after_seconds,
    )
    consumer_metrics = ConsumerMetrics(registry)

    async def measure_consumers() -> None:
        await consumer_metrics.run(
            readiness.subscribers, readiness, settings.metrics_interval_seconds
        )

    workers["consumer_metrics"] = measure_consumers
    service = Service(name, app, broker, registry, readiness, specification, parts, tasks)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        try:
            if check_topics:
                await verify_topics(settings, topics_of(broker))
            for hook in on_start:
                await hook()
            await broker.start()
            try:
                if run_workers:
                    tasks[:] = [asyncio.create_task(w(), name=n) for n, w in workers.items()]
                yield
            finally:
                await stop_workers(tasks)
                await broker.stop()
        finally:
            for hook in on_stop:
                await hook()

    app.router.lifespan_context = lifespan
    app.state.service = service  # reachable from a request, and from tests holding only the app
    add_ops_routes(app, readiness, registry, settings.metrics_token)

    @get(include_in_schema=False)
    async def asyncapi_json(scope: Scope) -> AsgiResponse:
        return json_response(service.asyncapi(), 200)

    mount(app, ASYNCAPI_PATH, make_asyncapi_asgi(specification, include_in_schema=False))
    mount(app, f"{ASYNCAPI_PATH}.json", asyncapi_json)
    return service
