"""The clinician API on a real server (uvicorn, SQLite, real Kafka): schemathesis against its
OpenAPI, a Hypothesis fuzz of hostile bodies, and keep-alive across rejected requests."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune_schemas import Alert, AlertKind, Severity, encode
from tests.factories import alert
from tests.integration.escalation_process import EscalationProcess

pytestmark = pytest.mark.integration

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass
class Server:
    process: EscalationProcess
    bootstrap: str
    incidents: list[str]  # open incidents any test may act on (schemathesis resolves them)

    @property
    def url(self) -> str:
        return self.process.url

    def log_text(self) -> str:
        return self.process.log.read_text(errors="replace")

    async def open_incident(self) -> str:
        """A fresh incident of this test's own: an alert on a new conversation."""
        conversation = f"c-{uuid.uuid4().hex[:8]}"
        await self.publish(alert(conversation_id=conversation))
        return (await _wait_for_incidents(self.process, {conversation}))[conversation]

    async def publish(self, *alerts: Alert) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            for a in alerts:
                await producer.send_and_wait(
                    f"{self.process.prefix}alerts", encode(a), key=a.conversation_id.encode()
                )
        finally:
            await producer.stop()

    async def flush_log(self) -> None:
        """Act on a fresh incident and wait for its log line: every line before it is written."""
        incident = await self.open_incident()
        async with httpx.AsyncClient(base_url=self.url, headers=self.process.headers) as client:
            response = await client.post(f"/v1/incidents/{incident}/ack")
            assert response.status_code == 200
            for _ in range(300):
                if any(
                    "clinician_action" in line and incident in line
                    for line in self.log_text().splitlines()
                ):
                    return
                await asyncio.sleep(0.1)
        raise AssertionError("the server's log never showed the flush marker")


# One schedule for every tenant, so the on-call routes answer with data (and "take" with 201).
SCHEDULE = "primary"
POLICIES = f"""
schedules:
  {SCHEDULE}:
    time_zone: Europe/London
    rotation: {{participants: [dr-ada, dr-ben], start_date: 2026-01-05, shift_days: 1}}
policies:
  - name: everyone
    tiers: [{{notify: [{{schedule: {SCHEDULE}}}], ack_deadline_seconds: 300}}]
"""


@pytest.fixture(scope="module")
async def server(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    workdir = tmp_path_factory.mktemp("escalation-http")
    policies = workdir / "policies.yaml"
    policies.write_text(POLICIES)
    process = EscalationProcess(
        bootstrap,
        workdir,
        settings={
            "ATTUNE_ESCALATION_LOG_LEVEL": "DEBUG",  # the most a log could ever say
            "ATTUNE_ESCALATION_POLICIES_FILE": str(policies),
        },
    )
    await process.start()
    try:
        server = Server(process, bootstrap, [])
        seeds = [
            alert(conversation_id="c-a"),
            alert(conversation_id="c-b", kind=AlertKind.CRISIS, severity=Severity.CRITICAL),
        ]
        await server.publish(*seeds)
        ids = await _wait_for_incidents(process, {a.conversation_id for a in seeds})
        server.incidents = [ids["c-a"], ids["c-b"]]
        yield server
    finally:
        process.stop()
        await process.delete_topics()


async def _wait_for_incidents(
    process: EscalationProcess, conversations: set[str]
) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=process.url, headers=process.headers) as client:
        for _ in range(300):
            listed = (
                await client.get("/v1/incidents", params={"status": "all", "limit": 500})
            ).json()
            found = {i["conversation_id"]: i["id"] for i in listed}
            if set(found) >= conversations:
                return {c: found[c] for c in conversations}
            await asyncio.sleep(0.1)
    raise AssertionError("seed alerts never became incidents")


# --- schemathesis -----------------------------------------------------------------------------


def test_schemathesis_finds_the_api_true_to_its_openapi(server: Server, tmp_path: Path) -> None:
    """Every phase but stateful, every check, bounded examples, a fixed seed."""
    doc = httpx.get(f"{server.url}/openapi.json").json()
    [authorization] = server.process.headers.values()
    # The seeded incidents as examples of `incident_id`, so the examples phase reaches 200 and
    # 409 answers too; everything else it generates is an unknown id (404) or not one (422).
    for operations in doc["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "incident_id":
                    parameter["examples"] = {
                        f"seeded-{i}": {"value": iid} for i, iid in enumerate(server.incidents)
                    }
                if parameter["name"] == "schedule":
                    parameter["examples"] = {"configured": {"value": SCHEDULE}}
    location = tmp_path / "openapi.json"
    location.write_text(json.dumps(doc))
    # Answers the schema cannot foresee: a reassignment or an assigned shift must name a user of
    # the tenant, and a silence must not be able to match a crisis and must end in the future.
    # Any other value the schema allows is a 422 naming the field there, so 422 is expected
    # there only.
    accepting = '["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]'
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[[operations]]\n"
        'include-name = "POST /v1/incidents/{incident_id}/reassign"\n'
        f"checks.positive_data_acceptance.expected-statuses = {accepting}\n"
        "[[operations]]\n"
        'include-name = "POST /v1/silences"\n'
        f"checks.positive_data_acceptance.expected-statuses = {accepting}\n"
        "[[operations]]\n"
        'include-name = "POST /v1/oncall/{schedule}/take"\n'
        f"checks.positive_data_acceptance.expected-statuses = {accepting}\n"
    )
    # The CLI rather than the pytest plugin: the plugin's lazy schema does not run on pytest 9.
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            f"--config-file={config}",
            "run",
            str(location),
            f"--url={server.url}",
            f"--header=Authorization: {authorization}",
            "--phases=examples,coverage,fuzzing",
            "--checks=all",
            "--max-examples=30",
            "--seed=7",
            "--generation-database=none",
            "--workers=1",
            "--request-timeout=10",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the options above and `config` are the whole configuration
        timeout=240,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


# --- Hypothesis: hostile bodies ---------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text emitted as is: what json.dumps would never write."""

    text: str


def emit(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{emit(k)}:{emit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(emit(v) for v in value) + "]"
    return json.dumps(value)


# Stand-ins for clinical text: each is unique, so finding one anywhere in a log is a leak. The
# space keeps them from ever being a valid id (ids, clinician ids included, are logged).
secrets = st.builds(lambda n: f"client said {n:012d}", st.integers(0, 10**12 - 1))


def hostile(secret: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999")]),
        st.integers(65, 6000).map(lambda n: Raw("9" * n)),
        st.integers(33, 3000).map(lambda n: Raw("[" * n + "]" * n)),
        st.integers(33, 200).map(lambda n: Raw('{"x":' * n + "1" + "}" * n)),
        st.just(Raw(json.dumps(secret)[:-1] + '\\ud800"')),  # escaped lone surrogate
        st.just(Raw(json.dumps(secret)[:-1] + '\udcff"')),  # becomes a raw invalid byte
        st.just(secret + "\x00"),
        st.just(secret * 400),  # over 4,000 characters
        st.just(secret),  # an ordinary note: accepted, stored, and still never logged
        st.sampled_from([None, True, 0, -1, 1.5, [], {}, ["dr-a"], {"a": "b"}]),
    )


@st.composite
def hostile_requests(draw: st.DrawFn, incidents: list[str]) -> tuple[str, bytes, str]:
    secret = draw(secrets)
    path = draw(st.sampled_from(["ack", "join", "resolve"]))
    incident = draw(st.sampled_from([*incidents, UNKNOWN_ID]))
    fields: dict[str, Any] = {
        "reason": draw(st.one_of(st.just("checked in"), hostile(secret))),
        "outcome": draw(st.one_of(st.sampled_from(["repaired", "false_alarm"]), hostile(secret))),
        "note": draw(hostile(secret)),
    }
    body = {k: v for k, v in fields.items() if draw(st.booleans())}
    if draw(st.booleans()):
        body[secret] = draw(hostile(secret))  # an unknown key, itself text
    raw = emit(body).encode("utf-8", errors="surrogateescape")  # \udcff: a raw 0xff byte
    return f"/v1/incidents/{incident}/{path}", raw, secret


async def test_hostile_bodies_never_get_a_5xx_an_echo_or_a_log_line(server: Server) -> None:
    incidents = [await server.open_incident(), await server.open_incident()]
    sent: list[str] = []
    statuses: set[int] = set()

    with httpx.Client(base_url=server.url, headers=server.process.headers) as client:

        @settings(
            max_examples=300,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=hostile_requests(incidents))
        def attempt(request: tuple[str, bytes, str]) -> None:
            path, raw, secret = request
            sent.append(secret)
            response = client.post(path, content=raw, headers={"content-type": "application/json"})
            statuses.add(response.status_code)
            assert response.status_code < 500, (response.status_code, response.text)
            if response.status_code >= 400:
                assert secret not in response.text
                assert set(response.json()) == {"detail", "errors"}

        attempt()  # blocks the loop while it runs: the server is another process

    await server.flush_log()
    log = server.log_text()
    assert [s for s in sent if s in log] == []
    assert 422 in statuses and 400 not in statuses


# --- keep-alive -------------------------------------------------------------------------------


REJECTED = [
    pytest.param(b'{"reason": NaN}', 422, id="nan"),
    pytest.param(b'{"reason": "\\ud800"}', 422, id="surrogate"),
    pytest.param(b"[" * 5000 + b"]" * 5000, 422, id="deep"),
    pytest.param(b'{"reason": ' + b"9" * 5000 + b"}", 422, id="huge-number"),
    pytest.param(b"{", 400, id="not-json"),
    pytest.param(b'{"note": "' + b"x" * 200_000 + b'"}', 413, id="too-large"),
]


@pytest.mark.parametrize(("raw", "status"), REJECTED)
async def test_a_rejected_request_leaves_the_keep_alive_connection_open(
    server: Server, raw: bytes, status: int
) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=server.process.headers) as client:
        bad = await client.post(
            f"/v1/incidents/{UNKNOWN_ID}/ack",
            content=raw,
            headers={"content-type": "application/json"},
        )
        good = await client.get("/v1/incidents")

    assert (bad.status_code, good.status_code) == (status, 200)
    assert "close" not in bad.headers.get("connection", "")
    # One connection served both: the same network stream under both responses.
    assert bad.extensions["network_stream"] is good.extensions["network_stream"]


async def test_a_resolution_note_is_stored_and_never_logged(server: Server) -> None:
    incident = await server.open_incident()
    note = f"Note{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=server.url, headers=server.process.headers) as client:
        resolved = await client.post(
            f"/v1/incidents/{incident}/resolve", json={"outcome": "repaired", "note": note}
        )
    await server.flush_log()

    assert resolved.status_code == 200
    assert resolved.json()["resolution_note"] == note
    assert note not in server.log_text()
