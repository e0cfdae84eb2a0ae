from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from attune_auth.settings import AuthSettings
from attune_runtime.settings import ServiceSettings
from attune_schemas import JsonLimits
from attune_schemas.json_limits import PARSER_MAX_DEPTH


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_INGEST_", populate_by_name=True, extra="ignore"
    )

    http_port: int = 8001
    # Integrator keys (ATTUNE_AUTH_*): the tenant of every event comes from its key.
    auth: AuthSettings = Field(default_factory=AuthSettings)
    group_id: str = "attune-ingest"
    # Repeated event_ids inside this window are acknowledged but not published again; the
    # memory is rebuilt from conversation.events on start, so it survives a restart.
    dedup_window_seconds: float = Field(default=600.0, gt=0)
    dedup_max_ids: int = Field(default=1_000_000, gt=0)
    dedup_rebuild: bool = True
    max_batch_events: int = Field(default=500, gt=0)
    max_body_bytes: int = Field(default=5_000_000, gt=0)
    # One record on conversation.raw holds one event.
    max_record_bytes: int = Field(default=200_000, gt=0)
    # Limits on untrusted JSON: events nest 3 levels deep (batch, event, value) and carry small
    # integers, so these leave room without letting input exhaust the parser.
    max_json_depth: int = Field(default=16, ge=3, lt=PARSER_MAX_DEPTH)
    max_int_digits: int = Field(default=20, ge=2)
    # How long the producer waits to fill a batch: 0 sends at once; concurrent requests still
    # share a batch while the previous one is in flight.
    producer_linger_ms: int = Field(default=0, ge=0)
    # How long the producer waits for the broker to answer one request (it then sends the batch
    # again: idempotence keeps that from duplicating), and for room in a full batch before the
    # request is answered 503. aiokafka's default; the fault tests lower it.
    producer_request_timeout_ms: int = Field(default=40_000, gt=0)

    def body_limits(self) -> JsonLimits:
        return JsonLimits(
            max_bytes=self.max_body_bytes,
            max_depth=self.max_json_depth,
            max_int_digits=self.max_int_digits,
        )

    def record_limits(self) -> JsonLimits:
        return JsonLimits(
            max_bytes=self.max_record_bytes,
            max_depth=self.max_json_depth,
            max_int_digits=self.max_int_digits,
        )
