"""`attune dlq inspect` and `attune dlq redrive` on the real broker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from attune_cli.main import app
from attune_schemas import DeadLetter
from attune_schemas.dead_letter import FieldError
from tests.factories import event_json

pytestmark = pytest.mark.integration


def letter(prefix: str, offset: int, reason: str, payload: str) -> bytes:
    return (
        DeadLetter(
            source_topic=f"{prefix}conversation.raw",
            source_partition=0,
            source_offset=offset,
            key="conv-dlq",
            failed_at=datetime.now(UTC),
            service="ingest",
            reason=reason,
            errors=(FieldError(field="sender", reason="not one of client, ai, clinician"),),
            payload=payload,
        )
        .model_dump_json()
        .encode()
    )


async def run(bootstrap: str, prefix: str, *args: str) -> str:
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ATTUNE_TOPIC_PREFIX": prefix}
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def test_inspect_shows_reasons_not_payloads_and_redrive_republishes_to_the_source(
    bootstrap: str, prefix: str, producer: AIOKafkaProducer, reader: Any
) -> None:
    fixed = event_json(conversation_id="conv-dlq", text="I do not want to talk about my week")
    dlq = f"{prefix}conversation.events.dlq"
    await producer.send_and_wait(dlq, letter(prefix, 7, "invalid_event", json.dumps(fixed)))
    await producer.send_and_wait(dlq, letter(prefix, 8, "invalid_json", "{not json"))

    shown = await run(bootstrap, prefix, "dlq", "inspect", "conversation.events.dlq")
    dry = await run(
        bootstrap, prefix, "dlq", "redrive", "conversation.events.dlq", "--reason",
        "invalid_event", "--dry-run",
    )  # fmt: skip
    raw = await reader(f"{prefix}conversation.raw")
    nothing = await raw.settle(2.0)
    done = await run(
        bootstrap, prefix, "dlq", "redrive", "conversation.events.dlq", "--reason", "invalid_event"
    )
    redriven = await raw.wait_for(lambda v: len(v) == 1)

    assert "invalid_event fields=sender" in shown and "invalid_json" in shown
    assert "2 dead letters" in shown
    assert "talk about my week" not in shown  # conversation text is never printed
    assert "1 dead letters would be re-published (dry run)" in dry and nothing == []
    assert "1 dead letters re-published" in done
    assert redriven == [fixed]
