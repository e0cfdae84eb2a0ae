"""Router event-time bounds against a real broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from attune_schemas import encode
from tests.factories import assessment
from tests.integration.services import router

pytestmark = pytest.mark.integration


async def test_a_far_future_assessment_is_dead_lettered_and_the_next_on_its_key_decided(
    bootstrap: str, prefix: str, reader: Any, producer: AIOKafkaProducer
) -> None:
    now = datetime.now(UTC)
    ahead = assessment(conversation_id="c-f", at=now + timedelta(days=7), rupture=0.97)
    fine = assessment(conversation_id="c-f", at=now - timedelta(minutes=1), rupture=0.97)
    topic = f"{prefix}rupture.assessments"
    for a in (ahead, fine):
        await producer.send_and_wait(topic, encode(a), key=b"c-f")
    async with router(bootstrap, prefix):
        dlq = await (await reader(f"{prefix}rupture.assessments.dlq")).wait_for(
            lambda v: len(v) == 1
        )
        alerts = await (await reader(f"{prefix}alerts")).wait_for(lambda v: len(v) == 1)
    assert (dlq[0]["service"], dlq[0]["reason"]) == ("router", "occurred_in_future")
    assert json.loads(dlq[0]["payload"])["event_id"] == str(ahead.event_id)
    assert alerts[0]["assessment_ids"] == [str(fine.event_id)]
