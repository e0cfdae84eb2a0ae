"""Every topic is created with the retention of the topic table, not the broker's default."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from attune_runtime.kafka import ensure_topics
from attune_schemas.topics import TOPICS

pytestmark = pytest.mark.integration


async def test_topics_carry_their_explicit_retention(bootstrap: str, prefix: str) -> None:
    # `prefix` has created every topic of the table (ensure_topics), as a service does; one is
    # then changed by hand, and the next service start puts the table's retention back.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        changed = ConfigResource(
            ConfigResourceType.TOPIC, f"{prefix}alerts", configs={"retention.ms": "12345"}
        )
        await admin.alter_configs([changed])
        await ensure_topics(bootstrap, partitions=3, prefix=prefix)
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, prefix + t.name) for t in TOPICS]
        )
    finally:
        await admin.close()
    found = {}
    for response in described:
        for resource in response.resources:
            _, _, _, name, entries = resource[:5]
            values = {entry[0]: entry[1] for entry in entries}
            found[name.removeprefix(prefix)] = int(values["retention.ms"])

    expected = {t.name: int(t.retention.total_seconds() * 1000) for t in TOPICS}
    assert found == expected
    assert found["conversation.raw"] == 86_400_000
    assert found["conversation.events.dlq"] == 7 * 86_400_000
