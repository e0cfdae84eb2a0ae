"""Settings every service shares; each service extends them with its own env prefix."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AliasChoices, AwareDatetime, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from attune_runtime.kafka_client import KafkaClientSettings
from attune_schemas.event_time import EPOCH, MAX_FUTURE, EventTimeBounds


class ServiceSettings(KafkaClientSettings):
    """The cluster and its credentials (KafkaClientSettings), and what every service tunes."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    # Prepended to every topic name: lets test runs and tenants share one cluster safely.
    topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        validation_alias=AliasChoices("ATTUNE_TOPIC_PREFIX", "topic_prefix"),
    )
    topic_partitions: int = Field(default=3, ge=1)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    # Prometheus presents it as a bearer token to scrape /metrics; unset, nobody can.
    metrics_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ATTUNE_METRICS_TOKEN", "metrics_token")
    )
    # A consumer with lag that has not moved for this long is reported not ready.
    stall_after_seconds: float = Field(default=60.0, gt=0)
    # A partition the broker has not answered a fetch for in this long is reported not ready
    # (broker unreachable or frozen): lag alone cannot tell that from an idle topic.
    broker_silent_after_seconds: float = Field(default=15.0, gt=0)
    # How often consumer lag and readiness are measured for /metrics.
    metrics_interval_seconds: float = Field(default=5.0, gt=0)
    # Back-off before a message that failed transiently is retried (doubles up to the max).
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    retry_backoff_max_seconds: float = Field(default=30.0, ge=0)
    # A record that failed this many times in a row (broker outages aside) is dead-lettered as
    # poison instead of retried for ever.
    retry_max_failures: int = Field(default=5, ge=1)
    # Event time: the earliest `occurred_at` accepted, and how far ahead of this service's
    # clock an event may be dated (clock skew between the sender and us).
    event_time_epoch: AwareDatetime = EPOCH
    event_time_max_future_seconds: float = Field(default=MAX_FUTURE.total_seconds(), ge=0)

    def topic(self, name: str) -> str:
        """The cluster name of a topic of the topic table."""
        return f"{self.topic_prefix}{name}"

    def event_time_bounds(self) -> EventTimeBounds:
        return EventTimeBounds(
            epoch=self.event_time_epoch,
            max_future=timedelta(seconds=self.event_time_max_future_seconds),
        )
