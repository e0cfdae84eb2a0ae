"""The clinician API's error answers: hostile bodies are 4xx naming the field, never echoed."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from structlog.testing import capture_logs

from attune_escalation import incidents, json_body
from attune_escalation.db import make_engine
from attune_runtime.clock import ManualClock
from tests.factories import T0, alert
from tests.identity import Identity
from tests.unit.escalation_support import UNKNOWN_ID, Api, running_api

SECRET = "Client-disclosed-zq81"  # stands in for clinical text: must never come back or be logged


@pytest.fixture(scope="module")
async def shared(
    tmp_path_factory: pytest.TempPathFactory, identity_template: Identity
) -> AsyncIterator[Api]:
    """One service for the tests that only need answers, not state of their own."""
    folder = tmp_path_factory.mktemp("http")
    identity = identity_template.copy_to(folder / "identity.db")
    async with running_api(folder / "api.db", ManualClock(T0), identity) as running:
        yield running


async def post(api: Api, path: str, raw: bytes, *, incident_id: str | None = None) -> Any:
    """POST raw bytes as JSON; the body is checked before the incident is looked up."""
    if incident_id is None:
        await api.alert(alert())
        incident_id = await api.incident_id()
    return await api.http.post(
        f"/v1/incidents/{incident_id}/{path}",
        content=raw,
        headers={"content-type": "application/json"},
    )


HOSTILE = [
    pytest.param(b'{"reason": NaN}', "body.reason", "NaN", id="nan"),
    pytest.param(
        b'{"outcome": "repaired", "note": -Infinity}',
        "body.note",
        "NaN and Infinity",
        id="infinity",
    ),
    pytest.param(b'{"reason": 1e999}', "body.reason", "out of range", id="1e999"),
    pytest.param(
        b'{"reason": ' + b"9" * 5000 + b"}",
        "body.reason",
        "longer than 64",
        id="5000-digits",
    ),
    pytest.param(b"[" * 5000 + b"]" * 5000, "body", "nested deeper than 32", id="deep-array"),
    pytest.param(
        b'{"note": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}",
        "body.note",
        "nested deeper than 32",
        id="deep-field",
    ),
    pytest.param(
        b'{"outcome": "repaired", "note": "' + SECRET.encode() + b'\\ud800"}',
        "body.note",
        "lone surrogate",
        id="escaped-surrogate",
    ),
    pytest.param(
        b'{"outcome": "repaired", "note": "' + SECRET.encode() + b'\xed\xa0\x80"}',
        "body.note",
        "lone surrogate",
        id="raw-surrogate-bytes",
    ),
    pytest.param(
        b'{"outcome": "repaired", "note": "' + SECRET.encode() + b'\\u0000"}',
        "body.note",
        "pattern",
        id="nul",
    ),
    pytest.param(
        b'{"reason": "' + SECRET.encode() * 30 + b'"}',
        "body.reason",
        "at most 500 characters",
        id="reason-too-long",
    ),
    pytest.param(
        json.dumps({SECRET: 1}).encode(),
        "body",
        "unknown field",
        id="unknown-key",
    ),
    pytest.param(
        json.dumps({SECRET: float("nan")}).encode(),
        "body.*",
        "NaN",
        id="nan-under-unknown-key",
    ),
    pytest.param(
        json.dumps({"outcome": SECRET}).encode(),
        "body.outcome",
        "Input should be",
        id="bad-enum",
    ),
]


@pytest.mark.parametrize(("raw", "field", "reason"), HOSTILE)
@pytest.mark.parametrize("path", ["ack", "join", "resolve"])
async def test_a_hostile_body_is_422_naming_the_field_and_never_the_value(
    shared: Api, path: str, raw: bytes, field: str, reason: str
) -> None:
    with capture_logs() as logs:
        response = await post(shared, path, raw, incident_id=UNKNOWN_ID)

    assert response.status_code == 422, response.text
    assert SECRET not in response.text
    assert SECRET not in json.dumps(logs)
    body = response.json()
    assert body["detail"] == "invalid request"
    expected = [(field, reason)]
    if path != "resolve" and field in {"body.note", "body.outcome"}:
        expected.append(("body", "unknown field"))  # ack and join have no such field
    assert any(e["field"] == f and r in e["reason"] for e in body["errors"] for f, r in expected)


@pytest.mark.parametrize(
    "raw", [b"{", b'{"reason": "dr-a",}', b"\xff\xfe", b"\xef\xbb\xbf{}"], ids=repr
)
async def test_a_body_that_is_not_json_is_400(shared: Api, raw: bytes) -> None:
    response = await post(shared, "ack", raw, incident_id=UNKNOWN_ID)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "body"


async def test_a_body_over_the_limit_is_413(shared: Api) -> None:
    note = "x" * (json_body.MAX_BODY_BYTES + 1)
    raw = json.dumps({"outcome": "repaired", "note": note}).encode()

    response = await post(shared, "resolve", raw, incident_id=UNKNOWN_ID)

    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


async def test_a_note_at_the_limit_with_every_character_escaped_is_accepted(api: Api) -> None:
    note = "\U0001f600" * 4000  # one code point, twelve bytes as a JSON escape pair
    raw = json.dumps({"outcome": "repaired", "note": note}).encode()

    response = await post(api, "resolve", raw)

    assert response.status_code == 200
    assert response.json()["resolution_note"] == note


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/incidents/not-a-uuid", "path.incident_id"),
        (f"/v1/incidents/{SECRET}%ED%A0%80", "path.incident_id"),
        ("/v1/incidents?limit=NaN", "query.limit"),
        ("/v1/incidents?limit=" + "9" * 5000, "query.limit"),
        ("/v1/incidents?status=%ED%A0%80", "query.status"),
        (f"/v1/incidents?conversation_id={SECRET}%00", "query.conversation_id"),
    ],
)
async def test_bad_path_and_query_values_are_422_without_echo(
    shared: Api, url: str, field: str
) -> None:
    response = await shared.http.get(url)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert SECRET not in response.text
    assert "�" not in response.text


async def test_not_found_does_not_echo_the_id(shared: Api) -> None:
    response = await shared.http.get(f"/v1/incidents/{UNKNOWN_ID}")

    assert response.status_code == 404
    assert response.json() == {"detail": "incident not found", "errors": []}


async def test_an_unexpected_failure_is_a_plain_500_and_the_note_is_never_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: Any, note: str | None, **__: Any) -> None:
        # What a database error looks like when its message quotes the statement's parameters.
        raise RuntimeError(f"INSERT failed [parameters: ('{note}',)]")

    monkeypatch.setattr(incidents, "resolve", broken)
    caplog.set_level(logging.DEBUG)
    body = {"outcome": "repaired", "note": SECRET}

    with capture_logs() as logs:
        response = await post(api, "resolve", json.dumps(body).encode())
        after = await api.http.get("/v1/incidents")

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "errors": []}
    assert after.status_code == 200
    [failed] = [e for e in logs if e["event"] == "request_failed"]
    assert failed["error"] == "RuntimeError"
    assert failed["route"] == "/v1/incidents/{incident_id}/resolve"
    assert SECRET not in json.dumps(logs)
    assert SECRET not in caplog.text


async def test_database_errors_never_quote_their_parameters(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (note TEXT NOT NULL UNIQUE)"))
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": SECRET})
            with pytest.raises(SQLAlchemyError) as info:
                await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": SECRET})
    finally:
        await engine.dispose()

    assert "UNIQUE" in str(info.value)
    assert SECRET not in str(info.value)


# --- the OpenAPI document ---------------------------------------------------------------------


async def openapi(api: Api) -> dict[str, Any]:
    response = await api.http.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


async def test_openapi_is_valid_and_self_contained(shared: Api) -> None:
    doc = await openapi(shared)

    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(doc)))
    assert refs
    for ref in refs:
        assert ref.startswith("#/")
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node[part]


async def test_openapi_documents_every_error_answer_with_its_schema(shared: Api) -> None:
    doc = await openapi(shared)
    error = {"$ref": "#/components/schemas/ErrorAnswer"}

    for path, codes in [
        ("/v1/incidents/{incident_id}/ack", {"400", "401", "403", "404", "409", "413", "422"}),
        ("/v1/incidents/{incident_id}/join", {"400", "401", "403", "404", "409", "413", "422"}),
        ("/v1/incidents/{incident_id}/resolve", {"400", "401", "403", "404", "409", "413", "422"}),
    ]:
        responses = doc["paths"][path]["post"]["responses"]
        assert set(responses) == {"200"} | codes, path
        for code in codes:
            assert responses[code]["content"]["application/json"]["schema"] == error
    detail = doc["paths"]["/v1/incidents/{incident_id}"]["get"]["responses"]
    assert set(detail) == {"200", "401", "403", "404", "422"}
    assert set(doc["paths"]["/v1/incidents"]["get"]["responses"]) == {"200", "401", "403", "422"}
    assert set(doc["components"]["schemas"]["ErrorAnswer"]["properties"]) == {"detail", "errors"}


async def test_error_answers_name_every_declared_field(shared: Api) -> None:
    """Field names come from a list in api.py: every parameter and body field must be on it."""
    from attune_auth.routes import FIELD_NAMES as AUTH_FIELD_NAMES
    from attune_escalation.api import FIELD_NAMES
    from attune_escalation.oncall_api import FIELD_NAMES as ONCALL_FIELD_NAMES
    from attune_escalation.silence_api import FIELD_NAMES as SILENCE_FIELD_NAMES

    doc = await openapi(shared)
    declared = set()
    for operations in doc["paths"].values():
        for op in operations.values():
            declared |= {p["name"] for p in op.get("parameters", [])}
    for name in (
        "ClinicianAction",
        "Resolution",
        "AlertVerdict",
        "Reassignment",
        "Login",
        "NewSilence",
        "SilenceMatchers",
        "TakeShift",
    ):
        declared |= set(doc["components"]["schemas"][name]["properties"])

    assert declared == FIELD_NAMES | AUTH_FIELD_NAMES | SILENCE_FIELD_NAMES | ONCALL_FIELD_NAMES
