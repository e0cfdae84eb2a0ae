from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from attune_runtime.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_INGEST_", populate_by_name=True, extra="ignore"
    )

    http_port: int = 8001
    group_id: str = "attune-ingest"
    # Repeated event_ids inside this window are acknowledged but not published again.
    dedup_window_seconds: float = Field(default=600.0, gt=0)
    dedup_max_ids: int = Field(default=1_000_000, gt=0)
    max_batch_events: int = Field(default=500, gt=0)
    max_body_bytes: int = Field(default=5_000_000, gt=0)
