"""create_app(settings): the escalation service as one ASGI app (consumer, API, workers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from attune_auth import migrate as identity_migrate
from attune_auth import routes as auth_routes
from attune_auth.db import make_engine as make_identity_engine
from attune_auth.db import make_sessions as make_identity_sessions
from attune_auth.guard import Guard
from attune_escalation import api, feedback_api, handlers, http_errors, oncall_api, silence_api
from attune_escalation.console import protocols
from attune_escalation.console import routes as console
from attune_escalation.db import make_engine, make_sessions
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.migrate import upgrade_async
from attune_escalation.notify import Notifier
from attune_escalation.notify.channels import ConsoleChannel, build_notifiers
from attune_escalation.notify.delivery import Delivery
from attune_escalation.outbox import OUTBOX_TOPICS, OutboxRelay
from attune_escalation.retention import RetentionJob
from attune_escalation.routing import Routing
from attune_escalation.settings import EscalationSettings
from attune_escalation.steps import Scheduler
from attune_runtime.channels import publisher
from attune_runtime.clock import Clock, SystemClock
from attune_runtime.health import Check, ConsumerProgress
from attune_runtime.kafka import make_broker
from attune_runtime.service import App, Service, build_service


@dataclass
class Escalation:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    delivery: Delivery
    scheduler: Scheduler
    retention: RetentionJob


def create_app(settings: EscalationSettings) -> App:
    """The escalation service as an ASGI app (`uvicorn --factory`)."""
    return build(settings).app


def build(
    settings: EscalationSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    notifiers: list[Notifier] | None = None,
    http_client: httpx.AsyncClient | None = None,
    check_topics: bool = True,
    run_workers: bool = True,
) -> Service[Escalation]:
    clock = clock or SystemClock()
    registry = registry or CollectorRegistry()
    progress = ConsumerProgress(clock)
    broker = make_broker(settings, service="escalation", registry=registry, progress=progress)
    metrics = EscalationMetrics(registry)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    client = http_client or httpx.AsyncClient(timeout=settings.webhook_timeout_seconds)
    config = settings.escalation_config()
    crisis_protocols = protocols.load(settings.crisis_protocols_file)
    if notifiers is None:
        channels = dict(settings.channels)
        if settings.console_notifications:
            channels.setdefault("console", ConsoleChannel(type="console"))
        notifiers = build_notifiers(
            channels,
            client=client,
            clock=clock,
            addresses={c: p.email for c, p in config.clinicians.items() if p.email},
            timeout=settings.webhook_timeout_seconds,
        )
    by_channel = {n.channel: n for n in notifiers}
    unknown = sorted(set(config.channel_names()) - set(by_channel))
    if unknown:
        raise ValueError(f"policies name channels that are not configured: {unknown}")
    metrics.start_from_zero(channels=by_channel, tiers=max(len(p.tiers) for p in config.policies))
    relay = OutboxRelay(
        sessions=sessions,
        publishers={t: publisher(broker, settings, t) for t in OUTBOX_TOPICS},
        clock=clock,
        metrics=metrics,
        poll_seconds=settings.poll_seconds,
    )
    delivery = Delivery(
        sessions=sessions,
        notifiers=by_channel,
        clock=clock,
        metrics=metrics,
        max_attempts=settings.notify_max_attempts,
        backoff_seconds=settings.notify_backoff_seconds,
        backoff_max_seconds=settings.notify_backoff_max_seconds,
        poll_seconds=settings.poll_seconds,
        quick_attempts=settings.notify_quick_attempts,
    )
    delivery.on_recorded = relay.wakeup
    routing = Routing(
        config=config,
        channels=tuple(by_channel),
        public_url=settings.public_url,
        group_wait=timedelta(seconds=settings.group_wait_seconds),
        group_interval=timedelta(seconds=settings.group_interval_seconds),
    )
    scheduler = Scheduler(
        sessions=sessions,
        routing=routing,
        clock=clock,
        metrics=metrics,
        poll_seconds=settings.poll_seconds,
    )

    def on_commit() -> None:
        relay.wakeup.set()
        delivery.wakeup.set()
        scheduler.wakeup.set()

    scheduler.on_step = delivery.wakeup

    handlers.register(
        broker,
        settings=settings,
        sessions=sessions,
        routing=routing,
        metrics=metrics,
        clock=clock,
        on_commit=on_commit,
    )
    identity = make_identity_engine(settings.auth.database_url)
    guard = Guard(settings.auth, sessions=make_identity_sessions(identity), clock=clock)
    # One decision for every write of this service: is its audit record in the same transaction?
    actions_audit = guard.audit.alongside(settings.database_url)
    retention = RetentionJob(
        sessions=sessions,
        audit=actions_audit,
        clock=clock,
        keep_for=timedelta(days=settings.retention_days),
        interval=timedelta(seconds=settings.retention_interval_seconds),
    )

    async def database_check() -> Check:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return Check("database", True)

    async def migrate() -> None:
        if settings.migrate_on_start:
            await upgrade_async(settings.database_url)
            await identity_migrate.upgrade_async(settings.auth.database_url)

    async def close_client() -> None:
        if http_client is None:
            await client.aclose()

    app = FastAPI(title="Attune escalation", version="0.1.0")
    app.state.guard = guard
    app.include_router(
        api.router(
            sessions=sessions,
            clock=clock,
            metrics=metrics,
            on_commit=on_commit,
            audit=actions_audit,
            routing=routing,
        )
    )
    app.include_router(
        silence_api.router(
            sessions=sessions,
            clock=clock,
            on_commit=on_commit,
            audit=actions_audit,
        )
    )
    app.include_router(
        oncall_api.router(
            sessions=sessions,
            clock=clock,
            config=config,
            on_commit=on_commit,
            audit=actions_audit,
        )
    )
    app.include_router(feedback_api.router(sessions=sessions, clock=clock, audit=guard.audit))
    app.include_router(
        console.router(
            sessions=sessions,
            clock=clock,
            audit=guard.audit,
            protocols=crisis_protocols,
            config=config,
            poll_seconds=settings.console_poll_seconds,
            stream_seconds=settings.console_stream_seconds,
        )
    )
    strict = {"route_class": http_errors.StrictJsonRoute, "error_model": http_errors.ErrorAnswer}
    app.include_router(auth_routes.router(**strict))
    app.include_router(auth_routes.audit_router(**strict))
    http_errors.install(
        app,
        known_fields=api.FIELD_NAMES
        | silence_api.FIELD_NAMES
        | oncall_api.FIELD_NAMES
        | auth_routes.FIELD_NAMES,
    )
    return build_service(
        "escalation",
        settings=settings,
        broker=broker,
        progress=progress,
        registry=registry,
        parts=Escalation(engine, sessions, relay, delivery, scheduler, retention),
        http=app,
        checks=[database_check],
        on_start=[migrate],
        on_stop=[close_client, engine.dispose, identity.dispose],
        workers={
            "outbox_relay": relay.run,
            "notification_delivery": delivery.run,
            "escalation_scheduler": scheduler.run,
            "retention": retention.run,
        },
        check_topics=check_topics,
        run_workers=run_workers,
    )
