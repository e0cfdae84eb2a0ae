"""Ingest's OpenAPI document is self-contained and valid, so schema-driven clients can read it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from attune_ingest.app import build
from attune_ingest.settings import IngestSettings
from tests.kafka_fakes import FakeProducer


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = build(
        IngestSettings(dedup_rebuild=False), check_topics=False, producer=FakeProducer()
    ).app
    return app.openapi()  # what GET /openapi.json serves


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_every_ref_resolves_inside_the_document(spec: dict[str, Any]) -> None:
    found = set(refs(spec))
    assert found, "expected the event models to be referenced"
    for ref in found:
        assert ref.startswith("#/"), ref
        node: Any = spec
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_the_document_is_a_valid_openapi_schema(spec: dict[str, Any]) -> None:
    schemathesis.openapi.from_dict(spec).validate()


def test_the_request_body_and_every_answer_are_described(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/v1/events"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    single, batch = body["anyOf"]
    assert batch == {"type": "array", "items": single, "maxItems": 500}
    assert set(spec["components"]["schemas"]) >= {
        "MessageSent",
        "SessionStarted",
        "SessionEnded",
        "SessionMissed",
        "FeedbackSubmitted",
        "IntakeAnswer",
        "Rejected",
        "FieldError",
    }
    for status in ("202", "413", "422", "503"):
        schema = post["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/IntakeAnswer"}
