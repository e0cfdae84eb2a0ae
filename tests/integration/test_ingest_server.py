"""Ingest as a real uvicorn server on the real broker: keep-alive and the fuzzed contract."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import event_json
from tests.identity import Identity, process_env

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    url: str
    log: Path
    key: str  # tenant-a's integrator key

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "attune_ingest"], env=env, stdout=out, stderr=out, cwd=ROOT
        )


@pytest.fixture
async def server(
    bootstrap: str, prefix: str, tmp_path: Path, identity: Identity
) -> AsyncIterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ATTUNE_TOPIC_PREFIX": prefix,
        "ATTUNE_INGEST_HTTP_PORT": str(port),
        "ATTUNE_INGEST_GROUP_ID": f"{prefix}ingest",
        "ATTUNE_INGEST_LOG_LEVEL": "DEBUG",
        **process_env(identity.database_url),
    }
    log = tmp_path / "ingest.log"
    proc = spawn(env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if (await client.get(f"{url}/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "ingest did not start"
                await asyncio.sleep(0.2)
        yield Server(url, log, identity.keys["tenant-a"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


BAD_BODIES = [
    b"[" * 5000 + b"]" * 5000,
    b'{"rating": ' + b"9" * 5000 + b"}",
    b'{"rating": NaN}',
    b'{"text": "\\ud800"}',
    b'{"text": "\xff"}',
    b"not json at all",
    b"[]",
]


async def test_keep_alive_connection_survives_rejected_requests(server: Server) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=server.url, limits=limits, timeout=10, headers=server.headers
    ) as client:
        ports = set()
        for body in [*BAD_BODIES, b'{"event_id": 1}']:
            bad = await client.post(
                "/v1/events", content=body, headers={"content-type": "application/json"}
            )
            assert bad.status_code in {202, 422}, bad.text
            assert bad.headers.get("connection") != "close"
            ports.add(bad.extensions["network_stream"].get_extra_info("client_addr"))
        good = await client.post("/v1/events", json=event_json(conversation_id="c-keepalive"))
        ports.add(good.extensions["network_stream"].get_extra_info("client_addr"))

    assert good.status_code == 202, good.text
    assert len(ports) == 1, "the connection was closed after a rejected request"
    assert "ud800" not in server.log.read_text()


def test_schemathesis_finds_no_contract_violation(server: Server, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(ROOT / "tests" / "integration" / "schemathesis-ingest.toml"),
            "--no-color",
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance,negative_data_rejection,positive_data_acceptance",
            "--header",
            f"Authorization: Bearer {server.key}",
            "--max-examples",
            "40",
            "--seed",
            "7",
            "--workers",
            "2",
            "--report-dir",
            str(tmp_path / "schemathesis"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    (tmp_path / "st.out").write_text(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
