"""All four services as real processes on real Kafka, with a local webhook as the pager."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from attune_runtime.kafka import ensure_topics
from demo import TENANT as DEMO_TENANT  # deploy/demo/demo.py
from demo import Pager
from tests.hangs import tasks_dumped_before_timeout  # noqa: F401
from tests.identity import Identity, ServiceAuth, process_env, seed
from tests.integration.conftest import bootstrap, prefix, producer, reader  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "classifier", "router", "escalation")
STACK_TENANTS = (DEMO_TENANT, "tenant-a", "tenant-b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pager() -> Iterator[Pager]:
    """The demo's webhook pager on a free port: the clinical team's side of the webhook."""
    pager = Pager(free_port())
    server = pager.start()
    yield pager
    server.shutdown()


@dataclass
class Stack:
    """The running services; `restart(name)` stops one process and starts a fresh one."""

    prefix: str
    env: dict[str, str]
    ports: dict[str, int]
    logs: Path
    identity: Identity
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def auth(self, tenant: str = DEMO_TENANT) -> ServiceAuth:
        """What the tenant's integrator and clinician present (pass as httpx's `auth`)."""
        return ServiceAuth(self.identity.keys, tenant)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, service: str) -> None:
        log = (self.logs / f"{service}.log").open("ab")
        self.procs[service] = subprocess.Popen(
            [sys.executable, "-m", f"attune_{service}"],
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )

    def start_replica(self, service: str, name: str) -> None:
        """Another instance of `service` in the same consumer group, known as `name`."""
        self.ports[name] = free_port()
        log = (self.logs / f"{name}.log").open("ab")
        env = {**self.env, f"ATTUNE_{service.upper()}_HTTP_PORT": str(self.ports[name])}
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", f"attune_{service}"],
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )

    def stop(self, service: str) -> None:
        proc = self.procs.pop(service)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self, service: str) -> None:
        """kill -9: no shutdown, no commit, no flush; what a crash or an OOM kill does."""
        proc = self.procs.pop(service)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    async def ready(self, service: str, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                proc = self.procs[service]
                if proc.poll() is not None:
                    raise AssertionError(f"{service} exited: {self.log_text(service)[-2000:]}")
                try:
                    if (await client.get(f"{self.url(service)}/health/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        raise AssertionError(f"{service} not ready: {self.log_text(service)[-2000:]}")

    async def restart(self, service: str) -> None:
        self.stop(service)
        self.start(service)
        await self.ready(service)

    def log_text(self, service: str) -> str:
        return (self.logs / f"{service}.log").read_text(errors="replace")


@asynccontextmanager
async def running_stack(
    bootstrap_servers: str,
    topic_prefix: str,
    workdir: Path,
    *,
    services: Sequence[str] = SERVICES,
    pager: Pager | None = None,
    settings: Mapping[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """`services` as processes on `bootstrap_servers` under `topic_prefix`, ready; stopped on exit.

    `settings` are extra environment variables (ATTUNE_<SERVICE>_<SETTING>)."""
    ports = {s: free_port() for s in services}
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "ATTUNE_TOPIC_PREFIX": topic_prefix,
        "ATTUNE_ESCALATION_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'escalation.db'}",
        "ATTUNE_ESCALATION_POLL_SECONDS": "0.1",
        "PYTHONUNBUFFERED": "1",
    }
    if pager is not None:
        env["ATTUNE_ESCALATION_CHANNELS"] = json.dumps(
            {"pager": {"type": "webhook", "url": f"http://127.0.0.1:{pager.port}/pager"}}
        )
    for s in services:
        env[f"ATTUNE_{s.upper()}_HTTP_PORT"] = str(ports[s])
        env[f"ATTUNE_{s.upper()}_GROUP_ID"] = f"{topic_prefix}{s}"
    # Every service authenticates callers against one identity database, as in production.
    identity = await seed(workdir / "identity.db", tenants=STACK_TENANTS)
    env.update(process_env(identity.database_url))
    env.update(settings or {})
    await ensure_topics(bootstrap_servers, partitions=3, prefix=topic_prefix)
    stack = Stack(topic_prefix, env, ports, workdir, identity)
    for s in services:
        stack.start(s)
    try:
        for s in services:
            await stack.ready(s)
        yield stack
    finally:
        for s in list(stack.procs):
            stack.stop(s)


@pytest.fixture
async def stack(bootstrap: str, prefix: str, pager: Pager, tmp_path: Path) -> AsyncIterator[Stack]:  # noqa: F811
    async with running_stack(bootstrap, prefix, tmp_path, pager=pager) as running:
        yield running


def run_id() -> str:
    return uuid.uuid4().hex[:6]


async def wait_until(check: Callable[[], object], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met in time")
