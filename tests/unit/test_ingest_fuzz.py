"""Hostile bodies against the ingest app: never a 5xx, never the event text in a log line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune_ingest.app import build
from attune_ingest.settings import IngestSettings
from attune_runtime.clock import ManualClock
from tests.factories import T0, event_json
from tests.identity import Identity
from tests.kafka_fakes import FakeProducer
from tests.logs import CapturedLogs, captured_logs

SECRET = "sentinel-words-of-the-client"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
FIELDS = ["event_id", "type", "sender", "occurred_at", "rating", "session_id", "schema_version"]
TYPES = ["message_sent", "session_started", "session_ended", "session_missed", "feedback_submitted"]


@st.composite
def hostile_events(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible event carrying the secret as its text, with some fields made wrong."""
    at = T0 + timedelta(seconds=draw(st.integers(-(10**9), 10**9)))
    event = event_json(type=draw(st.sampled_from(TYPES)), at=at if draw(st.booleans()) else T0)
    event["text"] = draw(
        st.sampled_from([SECRET, SECRET * 400, f"{SECRET}\ud800", SECRET + "\x00"])
    )
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        event[name] = draw(json_values)
    if draw(st.booleans()):
        event["note"] = SECRET  # an unknown field holding text
    return event


def encoded(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def nested(depth: int) -> bytes:
    return ("[" * depth + json.dumps(SECRET) + "]" * depth).encode()


hostile_bodies = st.one_of(
    hostile_events().map(encoded),
    st.lists(hostile_events(), max_size=7).map(encoded),
    st.integers(1, 3000).map(nested),
    st.sampled_from(
        [
            b'{"text": "' + SECRET.encode() + b'", "rating": NaN}',
            b'{"text": "' + SECRET.encode() + b'", "rating": ' + b"9" * 5000 + b"}",
            b'{"text": "' + SECRET.encode() + b'\\ud800"}',
            b'{"text": "' + SECRET.encode() + b'\xff"}',
            b'{"text": "' + SECRET.encode() + b'"',
            SECRET.encode(),
        ]
    ),
    st.binary(max_size=200).map(lambda b: b + SECRET.encode()),
)


@pytest.fixture(scope="module")
async def app_and_logs(
    identity_template: Identity,
) -> AsyncIterator[tuple[httpx.AsyncClient, CapturedLogs]]:
    settings_ = IngestSettings(
        auth=identity_template.settings(),
        dedup_rebuild=False,
        max_body_bytes=50_000,
        max_batch_events=5,
    )
    app = build(settings_, clock=ManualClock(T0), check_topics=False, producer=FakeProducer()).app
    with captured_logs(level="DEBUG") as logs:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = {"authorization": f"Bearer {identity_template.keys['tenant-a']}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ingest", headers=headers
        ) as http:
            yield http, logs


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=hostile_bodies)
async def test_no_hostile_body_gets_a_5xx_or_reaches_the_logs(
    app_and_logs: tuple[httpx.AsyncClient, CapturedLogs], body: bytes
) -> None:
    http, logs = app_and_logs

    response = await http.post(
        "/v1/events", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code in {202, 413, 422}, response.text
    assert SECRET not in response.text
    assert SECRET not in logs.text
