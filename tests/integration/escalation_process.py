"""Escalation as a real process (`python -m attune_escalation`), for tests that need a real
server (uvicorn, JSON logs) or a real kill -9 while it works."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from attune_auth.principal import Role
from attune_runtime.clock import SystemClock
from attune_runtime.kafka import ensure_topics
from tests.identity import process_env, user_bearer

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EscalationProcess:
    """One escalation process at a time on a fixed port, database and log file; restartable."""

    bootstrap: str
    workdir: Path
    settings: dict[str, str] = field(default_factory=dict)
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}.")
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "escalation.log"

    @property
    def headers(self) -> dict[str, str]:
        """An admin of tenant-a (the tenant of every factory alert): may call every route."""
        return user_bearer("tenant-a", Role.ADMIN, SystemClock())

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
        return {
            **base,
            "PYTHONUNBUFFERED": "1",  # every log line reaches the file before the next request
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "ATTUNE_TOPIC_PREFIX": self.prefix,
            "ATTUNE_ESCALATION_GROUP_ID": f"{self.prefix}escalation",
            "ATTUNE_ESCALATION_HTTP_PORT": str(self.port),
            "ATTUNE_ESCALATION_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'esc.db'}",
            "ATTUNE_ESCALATION_POLL_SECONDS": "0.1",
            "ATTUNE_ESCALATION_RETRY_BACKOFF_SECONDS": "0.05",
            **process_env(f"sqlite+aiosqlite:///{self.workdir / 'identity.db'}"),
            **self.settings,
        }

    async def start(self) -> None:
        """Start and wait until ready. After a kill -9 that takes the dead consumer's session
        timeout: its partitions are not handed over before."""
        # The deploy step (`attune topics apply`): the service itself only checks its topics.
        await ensure_topics(self.bootstrap, partitions=3, prefix=self.prefix)
        self.launch()
        await self.wait_ready()

    def launch(self) -> None:
        assert self.proc is None
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "attune_escalation"],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    async def wait_ready(self, within: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        async with httpx.AsyncClient(timeout=2) as client:
            while asyncio.get_running_loop().time() < deadline:
                assert self.proc is not None and self.proc.poll() is None, self.tail()
                try:
                    if (await client.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"escalation not ready\n{self.tail()}")

    def kill(self) -> None:
        """kill -9: no shutdown, no rollback but the database's own."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def delete_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(self.prefix)]
            if topics:
                await admin.delete_topics(topics)
        finally:
            await admin.close()
