"""Real Kafka for the integration and e2e tiers.

Uses the broker named by KAFKA_BOOTSTRAP_SERVERS, or starts the project's local broker
(`deploy/kafka/kafka.sh up`, the same as `make kafka-up`). Every test gets its own topic
prefix, so tests never see each other's records and can share one broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from attune_runtime.kafka import ensure_topics
from tests.hangs import tasks_dumped_before_timeout  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("ATTUNE_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def bootstrap() -> str:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        subprocess.run([str(ROOT / "deploy" / "kafka" / "kafka.sh"), "up"], check=True)
        servers = f"127.0.0.1:{os.environ.get('ATTUNE_KAFKA_PORT', '9092')}"
    return servers


@asynccontextmanager
async def topic_prefix(bootstrap: str, partitions: int = 3) -> AsyncIterator[str]:
    """A fresh prefix with every topic of the topic table created; deleted afterwards."""
    value = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(bootstrap, partitions=partitions, prefix=value)
    try:
        yield value
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(value)]
            if topics:
                await admin.delete_topics(topics)
        finally:
            await admin.close()


@pytest.fixture
async def prefix(bootstrap: str) -> AsyncIterator[str]:
    async with topic_prefix(bootstrap) as value:
        yield value


class TopicReader:
    """Reads a topic from the beginning; `wait_for` polls until a predicate holds."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.records: list[Any] = []

    async def start(self) -> TopicReader:
        await self.consumer.start()
        return self

    async def stop(self) -> None:
        # An observer's own fetch that a loaded broker timed out must not fail a test that
        # passed: what the test asserts was read before this point. aiokafka's stop awaits the
        # fetch it cancels; caught in its retry back-off, that cancellation escapes the stop.
        try:
            await self.consumer.stop()
        except KafkaError:
            pass
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this test itself is being cancelled

    @property
    def values(self) -> list[dict[str, Any]]:
        return [json.loads(r.value) for r in self.records]

    async def poll(self, seconds: float = 0.3) -> None:
        batch = await self.consumer.getmany(timeout_ms=int(seconds * 1000))
        for records in batch.values():
            self.records.extend(records)

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], within: float = 30.0
    ) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + within
        while not predicate(self.values):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out on {self.topic}; saw {len(self.records)} records")
            await self.poll()
        return self.values

    async def settle(self, seconds: float = 2.0) -> list[dict[str, Any]]:
        """Keep reading for a while: to show that something did NOT happen."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            await self.poll(0.2)
        return self.values


@pytest.fixture
async def reader(bootstrap: str) -> AsyncIterator[Callable[[str], Any]]:
    readers: list[TopicReader] = []

    async def make(topic: str) -> TopicReader:
        r = await TopicReader(bootstrap, topic).start()
        readers.append(r)
        return r

    yield make
    for r in readers:
        await r.stop()


@pytest.fixture
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await p.start()
    yield p
    await p.stop()


async def committed(bootstrap: str, group: str, topic: str) -> int:
    """Sum of the group's committed offsets over the topic's partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'escalation.db'}"
        return
    if not POSTGRES:
        pytest.skip("ATTUNE_TEST_POSTGRES_URL not set (.ci/run sets it)")
    import asyncpg  # type: ignore[import-untyped]

    name = f"attune_{uuid.uuid4().hex[:10]}"
    admin_dsn = POSTGRES.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base, _, _ = POSTGRES.rpartition("/")
    yield f"{base}/{name}"
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()
