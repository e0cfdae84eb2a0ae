"""Every service is built by the one builder, and its AsyncAPI document names its real channels."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest

from attune_cli import asyncapi
from attune_runtime import service as service_module
from attune_runtime.service import Service
from attune_schemas.topics import topic as topic_spec
from tests.logs import captured_logs

# What each service reads and writes: the topic table's "produced by" / "consumed by".
CHANNELS = {
    "ingest": {
        "conversation.raw:consume",
        "conversation.events:publish",
        "conversation.events.dlq:publish",
    },
    "classifier": {
        "conversation.events:consume",
        "rupture.assessments:publish",
        "conversation.events.dlq:publish",
    },
    "router": {
        "rupture.assessments:consume",
        "alerts:publish",
        "rupture.assessments.dlq:publish",
    },
    "escalation": {
        "alerts:consume",
        "rupture.assessments:consume",
        "conversation.events:consume",
        "alerts.dlq:publish",
        "escalation.events:publish",
        "conversation.control:publish",
        "silences:publish",
    },
}
# The router reads `silences` with a plain consumer of every partition (no group, so no
# FastStream subscriber): it is in the topic table and the README, not in its AsyncAPI.


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return asyncapi.documents()


@pytest.mark.parametrize("service", sorted(CHANNELS))
def test_asyncapi_names_every_channel_the_service_reads_and_writes(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    assert set(documents[service]["channels"]) == CHANNELS[service]


@pytest.mark.parametrize("service", sorted(CHANNELS))
def test_every_channel_carries_its_contracts_payload(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    doc = documents[service]
    for name, channel in doc["channels"].items():
        topic = channel["address"]
        [ref] = [m["$ref"] for m in channel["messages"].values()]
        message = doc["components"]["messages"][ref.rsplit("/", 1)[-1]]
        payload = doc["components"]["schemas"][message["payload"]["$ref"].rsplit("/", 1)[-1]]
        if payload.get("type") == "array":
            payload = payload["items"]  # a batch subscriber (the classifier): a list of events
        contract = topic_spec(topic).value.json_schema()
        if "properties" in contract:
            assert set(payload["properties"]) == set(contract["properties"]), name
            assert payload["required"] == contract["required"], name
        else:  # a discriminated union: one schema per event type
            assert len(payload["oneOf"]) == len(contract["oneOf"]) > 1, name


def test_exported_asyncapi_is_not_stale() -> None:
    expected = asyncapi.rendered()
    on_disk = {p.name: p.read_text() for p in asyncapi.DEFAULT_DIR.glob("*.json")}
    hint = "schemas/asyncapi/ is stale: run `make schemas` and commit the result"

    assert sorted(on_disk) == sorted(expected), hint
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name}: {hint}"


@pytest.mark.parametrize("service", sorted(CHANNELS))
async def test_every_service_serves_ops_routes_and_its_asyncapi(service: str) -> None:
    built: Service[Any] = asyncapi.BUILDERS[service]()
    transport = httpx.ASGITransport(app=built.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        served = (await http.get("/docs/asyncapi.json")).json()
        page = await http.get("/docs/asyncapi")
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")  # not started: nothing consumes yet
        metrics = await http.get("/metrics")

    assert set(served["channels"]) == CHANNELS[service]
    assert page.status_code == 200 and "asyncapi" in page.text.lower()
    assert live.status_code == 200
    assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
    assert metrics.status_code == 401  # served, to the scraper's token only (none set here)


async def test_shutdown_goes_on_past_a_worker_that_outlives_its_cancellation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that swallows its cancellation (as asyncio.wait_for can on 3.11) is named in
    the log; the service still stops instead of waiting for it for ever."""
    monkeypatch.setattr(service_module, "WORKER_STOP_SECONDS", 0.2)
    stopped = asyncio.Event()

    async def stubborn() -> None:
        while not stopped.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    async def polite() -> None:
        await asyncio.Event().wait()

    tasks = [
        asyncio.create_task(stubborn(), name="stubborn"),
        asyncio.create_task(polite(), name="polite"),
    ]
    await asyncio.sleep(0)
    with captured_logs() as logs:
        await service_module.stop_workers(tasks)
    stopped.set()

    assert tasks == []
    assert [line["worker"] for line in logs.lines if line["event"] == "worker_did_not_stop"] == [
        "stubborn"
    ]
