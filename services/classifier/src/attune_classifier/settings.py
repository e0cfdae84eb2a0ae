from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from attune_runtime.settings import ServiceSettings

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[4] / "models" / "artifacts"


class ClassifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_CLASSIFIER_", populate_by_name=True, extra="ignore"
    )

    http_port: int = 8002
    group_id: str = "attune-classifier"
    # A backlog is read in batches this large: each batch pays one produce round trip, one
    # commit and the fixed cost of every model call once. Live traffic seldom fills a batch
    # (`batch_timeout_ms` ends it first), so this bounds catching up, not everyday latency.
    batch_max_records: int = Field(default=1024, gt=0)
    batch_timeout_ms: int = Field(default=50, ge=0)
    max_conversations: int = Field(default=200_000, gt=0)
    # Conversations idle longer than this (event time) are dropped; restarts rebuild this far back.
    idle_expiry_seconds: float = Field(default=6 * 3600, gt=0)
    # Idle expiry lags the newest event of each partition by this much (bounded lateness).
    watermark_lateness_seconds: float = Field(default=300.0, ge=0)
    scorer: Literal["model", "lexicon"] = "model"
    model_dir: Path = DEFAULT_MODEL_DIR
