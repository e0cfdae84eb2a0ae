"""Typed channels: every topic a service reads or writes, named in its AsyncAPI with its payload.

Handlers receive the record's bytes and decode them themselves, within limits, so a poison record
reaches `decode_or_dead_letter` instead of failing in the framework and being retried for ever.
`Payload` keeps that while the AsyncAPI document shows the contract's JSON Schema: validation sees
bytes, the schema generator sees the model.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher
from pydantic import WithJsonSchema

from attune_runtime.settings import ServiceSettings
from attune_schemas.topics import topic


def payload(name: str) -> WithJsonSchema:
    """The JSON Schema of topic `name`'s value, self-contained (no `$ref` to resolve)."""
    schema = topic(name).value.json_schema()
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return WithJsonSchema(inlined)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def publisher(broker: KafkaBroker, settings: ServiceSettings, name: str) -> DefaultPublisher:
    """A publisher on topic `name` (prefixed), documented with the topic table's value model."""
    pub: DefaultPublisher = broker.publisher(
        settings.topic(name),
        title=f"{name}:publish",
        description=topic(name).description,
        schema=Annotated[bytes, payload(name)],
    )
    return pub


class Docs(TypedDict):
    title: str
    description: str


def subscriber_docs(name: str) -> Docs:
    """Title and description of a subscriber to topic `name`, from the topic table."""
    return {"title": f"{name}:consume", "description": topic(name).description}
