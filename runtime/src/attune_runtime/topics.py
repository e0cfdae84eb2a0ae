"""Topics as a deploy step: `attune topics apply` creates and configures them; services only check.

Durability is the cluster's business, so it is configured here, once, rather than by whichever
service starts first: replication factor and `min.insync.replicas` (with the producers' acks=all,
a write survives losing replicas - min.insync.replicas brokers), and retention per kind of topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError, for_code
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from attune_runtime.kafka_client import (
    KafkaClientSettings,
    kafka_client_options,
    raise_if_refused,
)
from attune_schemas.topics import ESCALATION_EVENTS, SILENCES, TOPICS

log = structlog.get_logger(__name__)

HOUR_MS = 3_600_000


class TopicSettings(KafkaClientSettings):
    """How the topics are created: `ATTUNE_TOPICS_<SETTING>`, plus the cluster and the prefix."""

    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_TOPICS_", populate_by_name=True, extra="ignore"
    )

    topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        validation_alias=AliasChoices("ATTUNE_TOPIC_PREFIX", "topic_prefix"),
    )
    # Partitions cap how many instances of a service share the work; never lowered, and not
    # raised by `apply` either (that would move conversations to other partitions mid-stream).
    partitions: int = Field(default=3, ge=1)
    # 1 suits the single local broker; a production cluster wants 3 with min_insync_replicas 2.
    replication_factor: int = Field(default=1, ge=1)
    min_insync_replicas: int = Field(default=1, ge=1)
    retention_hours: float = Field(default=7 * 24, gt=0)
    # Dead letters wait for an operator to fix and redrive them: kept longer.
    dlq_retention_hours: float = Field(default=30 * 24, gt=0)
    # The audit trail (escalation.events); -1 keeps it for ever.
    audit_retention_hours: float = Field(default=-1)

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> TopicSettings:
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError("min_insync_replicas cannot exceed replication_factor")
        return self

    def configs(self, name: str) -> dict[str, str]:
        """The topic-level configs of topic-table topic `name`."""
        if name == SILENCES:
            # Compacted: the newest version of every silence, kept for good (a few per day).
            return {
                "min.insync.replicas": str(self.min_insync_replicas),
                "cleanup.policy": "compact",
                "retention.ms": "-1",
            }
        if name == ESCALATION_EVENTS:
            hours = self.audit_retention_hours
        elif name.endswith(".dlq"):
            hours = self.dlq_retention_hours
        else:
            hours = self.retention_hours
        return {
            "min.insync.replicas": str(self.min_insync_replicas),
            "retention.ms": str(-1 if hours < 0 else round(hours * HOUR_MS)),
        }


@dataclass
class Applied:
    """What `apply_topics` did; `drift` names what it cannot change in place."""

    created: list[str] = field(default_factory=list)
    configured: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


class MissingTopics(RuntimeError):
    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            f"topics missing on the cluster: {', '.join(self.missing)} "
            "(create them with `attune topics apply`)"
        )


async def _admin(kafka: KafkaClientSettings, wait_seconds: float) -> AIOKafkaAdminClient:
    """A started admin client; waits up to `wait_seconds` for the cluster to answer."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        admin = AIOKafkaAdminClient(**kafka_client_options(kafka), request_timeout_ms=10_000)
        try:
            await admin.start()
            return admin
        except KafkaConnectionError:
            await admin.close()
            await raise_if_refused(kafka)
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning(
                "kafka_unavailable_retrying", bootstrap_servers=kafka.kafka_bootstrap_servers
            )
            await asyncio.sleep(1.0)


async def apply_topics(
    settings: TopicSettings,
    *,
    names: Iterable[str] | None = None,
    wait_seconds: float = 60.0,
) -> Applied:
    """Create the missing topics of the topic table and set every one's configs; idempotent.

    `names` are topic-table names (default: all of them), prefixed here.
    """
    wanted = {
        settings.topic_prefix + n: n for n in ([t.name for t in TOPICS] if names is None else names)
    }
    applied = Applied()
    admin = await _admin(settings, wait_seconds)
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(wanted) - existing)
        if missing:
            applied.created = await _create(admin, settings, {m: wanted[m] for m in missing})
        # Including any that the listing did not show yet but the broker says already exist.
        present = sorted(set(wanted) - set(applied.created))
        if present:
            for description in await admin.describe_topics(present):
                name, partitions = description["topic"], description["partitions"]
                if description["error_code"] or not partitions:
                    continue  # just created and not in this broker's metadata yet: nothing to say
                replicas = {len(p["replicas"]) for p in partitions}
                if len(partitions) != settings.partitions:
                    applied.drift.append(f"{name}: {len(partitions)} partitions")
                if replicas != {settings.replication_factor}:
                    applied.drift.append(f"{name}: replication factor {sorted(replicas)}")
            await _configure(admin, settings, {p: wanted[p] for p in present})
            applied.configured = present
    finally:
        await admin.close()
    log.info(
        "topics_applied",
        created=applied.created,
        configured=len(applied.configured),
        drift=applied.drift,
        partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        min_insync_replicas=settings.min_insync_replicas,
    )
    return applied


async def _create(
    admin: AIOKafkaAdminClient, settings: TopicSettings, names: dict[str, str]
) -> list[str]:
    topics = [
        NewTopic(
            name=cluster_name,
            num_partitions=settings.partitions,
            replication_factor=settings.replication_factor,
            topic_configs=settings.configs(table_name),
        )
        for cluster_name, table_name in names.items()
    ]
    try:
        response = await admin.create_topics(topics)
    except TopicAlreadyExistsError:
        return []
    created = []
    for topic_error in response.to_object()["topic_errors"]:
        code = topic_error["error_code"]
        # Another process may have created it between our list and create: that is fine.
        if code and code != TopicAlreadyExistsError.errno:
            raise for_code(code)(
                f"creating topic {topic_error['topic']}: {topic_error.get('error_message')}"
            )
        if not code:
            created.append(topic_error["topic"])
    return sorted(created)


async def _configure(
    admin: AIOKafkaAdminClient, settings: TopicSettings, names: dict[str, str]
) -> None:
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, cluster_name, settings.configs(table_name))
        for cluster_name, table_name in names.items()
    ]
    for response in await admin.alter_configs(resources):
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise for_code(resource["error_code"])(
                    f"configuring topic {resource['resource_name']}: {resource['error_message']}"
                )


async def verify_topics(
    kafka: KafkaClientSettings,
    names: Iterable[str],
    *,
    wait_seconds: float = 60.0,
    grace_seconds: float = 10.0,
) -> None:
    """Raise MissingTopics naming every topic of `names` (cluster names) the cluster lacks.

    A topic created a moment ago may not be in every broker's metadata yet: missing ones are
    listed again for `grace_seconds` before the verdict.
    """
    wanted = set(names)
    admin = await _admin(kafka, wait_seconds)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        while missing := sorted(wanted - set(await admin.list_topics())):
            if loop.time() > deadline:
                log.error("topics_missing", topics=missing)
                raise MissingTopics(missing)
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
