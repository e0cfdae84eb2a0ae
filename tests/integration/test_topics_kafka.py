"""Topics as a deploy step on the real broker: apply creates and configures, services only check."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from attune_router.app import build as build_router
from attune_router.settings import RouterSettings
from attune_runtime.topics import HOUR_MS, MissingTopics, TopicSettings, apply_topics
from attune_schemas.topics import TOPICS

pytestmark = pytest.mark.integration


@pytest.fixture
async def bare_prefix(bootstrap: str) -> AsyncIterator[str]:
    """A prefix with no topics yet; whatever the test creates under it is deleted afterwards."""
    value = f"b{uuid.uuid4().hex[:10]}."
    yield value
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(value)]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


async def described(bootstrap: str, prefix: str) -> dict[str, tuple[int, dict[str, str]]]:
    """Cluster name -> (partitions, the configs apply sets) of every topic-table topic.

    The broker answers from its metadata image, which follows the controller closely but not
    instantly: a topic created a moment ago is read again until it shows.
    """
    for _ in range(50):
        found = await _described(bootstrap, prefix)
        if all(p and len(c) == 3 for p, c in found.values()):
            return found
        await asyncio.sleep(0.1)
    return found


async def _described(bootstrap: str, prefix: str) -> dict[str, tuple[int, dict[str, str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = sorted(prefix + t.name for t in TOPICS)
        partitions = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(names)}
        configs: dict[str, dict[str, str]] = {n: {} for n in names}
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        for response in await admin.describe_configs(resources):
            for resource in response.to_object()["resources"]:
                configs[resource["resource_name"]] = {
                    c["config_names"]: c["config_value"]
                    for c in resource["config_entries"]
                    if c["config_names"]
                    in ("min.insync.replicas", "retention.ms", "cleanup.policy")
                }
    finally:
        await admin.close()
    return {n: (partitions.get(n, 0), configs[n]) for n in names}


async def test_apply_creates_every_topic_with_its_configs_and_is_idempotent(
    bootstrap: str, bare_prefix: str
) -> None:
    settings = TopicSettings(
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=bare_prefix,
        partitions=2,
        retention_hours=24,
        dlq_retention_hours=48,
        audit_retention_hours=-1,
    )
    first = await apply_topics(settings)
    second = await apply_topics(settings)

    expected = {bare_prefix + t.name for t in TOPICS}
    assert set(first.created) == expected
    assert second.created == [] and set(second.configured) == expected and second.drift == []
    topics = await described(bootstrap, bare_prefix)
    assert set(topics) == expected
    for name, (partitions, configs) in topics.items():
        assert partitions == 2
        assert configs["min.insync.replicas"] == "1"
        want = (
            "-1"
            if name.endswith(("escalation.events", "silences"))
            else str((48 if name.endswith(".dlq") else 24) * HOUR_MS)
        )
        assert configs["retention.ms"] == want, name
        # Silences are the newest version of each: compacted; everything else is a log.
        compact = "compact" if name.endswith("silences") else "delete"
        assert configs["cleanup.policy"] == compact, name


async def test_apply_changes_the_configs_of_existing_topics_and_reports_drift(
    bootstrap: str, bare_prefix: str
) -> None:
    base: dict[str, Any] = {"kafka_bootstrap_servers": bootstrap, "topic_prefix": bare_prefix}
    await apply_topics(TopicSettings(**base, partitions=2, retention_hours=24))
    await described(bootstrap, bare_prefix)  # created, and known to the broker
    again = await apply_topics(TopicSettings(**base, partitions=3, retention_hours=12))

    alerts = bare_prefix + "alerts"
    for _ in range(50):  # the new value shows once the broker's metadata image has it
        partitions, configs = (await described(bootstrap, bare_prefix))[alerts]
        if configs["retention.ms"] == str(12 * HOUR_MS):
            break
        await asyncio.sleep(0.1)
    assert configs["retention.ms"] == str(12 * HOUR_MS)
    # Partitions are never changed in place (conversations would move partition): reported.
    assert partitions == 2
    assert f"{alerts}: 2 partitions" in again.drift


async def test_the_replication_factor_is_the_one_configured(
    bootstrap: str, bare_prefix: str
) -> None:
    # The local cluster has one broker: asking for two replicas must fail, not quietly give one.
    settings = TopicSettings(
        kafka_bootstrap_servers=bootstrap, topic_prefix=bare_prefix, replication_factor=2
    )
    with pytest.raises(KafkaError, match="replication factor"):
        await apply_topics(settings)


def test_min_insync_replicas_cannot_exceed_the_replication_factor() -> None:
    with pytest.raises(ValueError, match="min_insync_replicas"):
        TopicSettings(replication_factor=2, min_insync_replicas=3)


async def test_a_service_does_not_start_without_its_topics_and_names_them(
    bootstrap: str, bare_prefix: str
) -> None:
    # Only the input topic exists: the router must not consume it and then fail on its outputs.
    await apply_topics(
        TopicSettings(kafka_bootstrap_servers=bootstrap, topic_prefix=bare_prefix),
        names=["rupture.assessments"],
    )
    router = build_router(
        RouterSettings(
            kafka_bootstrap_servers=bootstrap,
            topic_prefix=bare_prefix,
            group_id=f"{bare_prefix}router",
        )
    )

    with pytest.raises(MissingTopics) as missing:
        async with router.running():
            pass

    assert missing.value.missing == [
        f"{bare_prefix}alerts",
        f"{bare_prefix}rupture.assessments.dlq",
        f"{bare_prefix}silences",
    ]
    assert "attune topics apply" in str(missing.value)
