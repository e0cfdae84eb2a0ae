"""What the escalation unit tests share: a migrated SQLite file, fakes, the running API."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaMessage, TestKafkaBroker
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.principal import Role
from attune_escalation import incidents
from attune_escalation.app import Escalation, build
from attune_escalation.db import Notification, make_engine, make_sessions
from attune_escalation.incidents import AlertResult
from attune_escalation.metrics import EscalationMetrics
from attune_escalation.migrate import upgrade
from attune_escalation.notify import NotifyError
from attune_escalation.notify.delivery import Delivery
from attune_escalation.policies import EscalationConfig, default_config
from attune_escalation.routing import Routing
from attune_escalation.settings import EscalationSettings
from attune_runtime.clock import ManualClock
from attune_runtime.service import Service
from attune_schemas import Alert, encode
from tests.factories import T0
from tests.identity import METRICS_TOKEN, Identity

Sessions = async_sessionmaker[AsyncSession]

CHANNELS = ("console", "webhook:0")
PUBLIC_URL = "https://attune.example/"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
EXCERPT = "that's not helpful"  # the evidence excerpt every factory alert carries


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per module; each test starts from its own copy of the migrated file."""
    path = tmp_path_factory.mktemp("escalation") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated: Path, tmp_path: Path) -> str:
    path = tmp_path / "escalation.db"
    shutil.copyfile(migrated, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = make_engine(database_url)
    yield make_sessions(engine)
    await engine.dispose()


def routing(
    channels: tuple[str, ...] = CHANNELS,
    *,
    config: EscalationConfig | None = None,
    group_wait: float = 0.0,
    group_interval: float = 60.0,
) -> Routing:
    """Routing for tests: the default policy unless told, no group wait unless told."""
    return Routing(
        config=config or default_config(ack_deadline_seconds=300, renotify_seconds=900),
        channels=channels,
        public_url=PUBLIC_URL,
        group_wait=timedelta(seconds=group_wait),
        group_interval=timedelta(seconds=group_interval),
    )


async def apply(
    sessions: Sessions,
    a: Alert,
    *,
    channels: tuple[str, ...] = CHANNELS,
    now: datetime = T0,
    via: Routing | None = None,
) -> AlertResult:
    async with sessions() as session, session.begin():
        return await incidents.apply_alert(
            session, alert=a, now=now, routing=via or routing(channels)
        )


async def notifications(sessions: Sessions) -> list[Notification]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Notification).order_by(Notification.created_at, Notification.channel)
            )
        )


class FakeNotifier:
    """Fails with the queued errors first, then succeeds; records every payload it was sent."""

    def __init__(self, channel: str = "console", failures: list[NotifyError] | None = None):
        self.channel = channel
        self.failures = list(failures or [])
        self.sent: list[dict[str, Any]] = []
        self.keys: list[str] = []  # the idempotency key of every attempt, failed ones included
        self.attempts = 0

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        self.attempts += 1
        self.keys.append(idempotency_key)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(dict(payload))


def delivery(
    sessions: Sessions, clock: ManualClock, *notifiers: FakeNotifier, max_attempts: int = 4
) -> Delivery:
    return Delivery(
        sessions=sessions,
        notifiers={n.channel: n for n in notifiers},
        clock=clock,
        metrics=EscalationMetrics(CollectorRegistry()),
        max_attempts=max_attempts,
        backoff_seconds=10,
        backoff_max_seconds=15,
        poll_seconds=0.01,
    )


RETRY = NotifyError("http_503", retryable=True)


@dataclass
class Api:
    service: Service[Escalation]
    http: httpx.AsyncClient
    notifier: FakeNotifier
    controls: list[KafkaMessage]
    dead_letters: list[KafkaMessage]

    async def alert(self, a: Alert) -> None:
        await self.service.broker.publish(encode(a), topic="alerts", key=a.conversation_id.encode())

    async def incident_id(self) -> str:
        [summary] = (await self.http.get("/v1/incidents")).json()
        iid: str = summary["id"]
        return iid


@asynccontextmanager
async def running_api(
    database: Path, clock: ManualClock, identity: Identity, **overrides: Any
) -> AsyncIterator[Api]:
    """The service on the in-memory broker, with a SQLite file, its API behind an httpx client
    that a clinician of tenant-a is logged in to. The console's queue stream ends after its
    first answer (an in-memory client reads a response to its end)."""
    settings = EscalationSettings(
        auth=identity.settings(),
        metrics_token=SecretStr(METRICS_TOKEN),
        database_url=f"sqlite+aiosqlite:///{database}",
        migrate_on_start=True,
        public_url=PUBLIC_URL,
        group_wait_seconds=0,
        console_stream_seconds=0,
        **overrides,
    )
    notifier = FakeNotifier("console")
    service = build(
        settings,
        check_topics=False,
        run_workers=False,
        notifiers=[notifier],
        clock=clock,
        registry=CollectorRegistry(),
    )
    controls: list[KafkaMessage] = []

    @service.broker.subscriber("conversation.control")
    async def control_sink(msg: KafkaMessage) -> None:
        controls.append(msg)

    dead_letters: list[KafkaMessage] = []

    @service.broker.subscriber("alerts.dlq")
    async def dead_letter_sink(msg: KafkaMessage) -> None:
        dead_letters.append(msg)

    async with (
        TestKafkaBroker(service.broker),
        service.running(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service.app),
            base_url="http://escalation",
            headers=identity.bearer("tenant-a", Role.CLINICIAN, clock),
        ) as http,
    ):
        yield Api(service, http, notifier, controls, dead_letters)


@pytest.fixture
async def api(tmp_path: Path, clock: ManualClock, identity: Identity) -> AsyncIterator[Api]:
    async with running_api(tmp_path / "api.db", clock, identity) as running:
        yield running
