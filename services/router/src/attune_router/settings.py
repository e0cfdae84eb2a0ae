from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from attune_runtime.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_ROUTER_", populate_by_name=True, extra="ignore"
    )

    http_port: int = 8003
    group_id: str = "attune-router"
    # Assessments decided per batch, with one commit for the batch once its alerts are acked.
    batch_max_records: int = Field(default=256, gt=0)
    batch_timeout_ms: int = Field(default=50, ge=0)
    # Chosen once on real dev conversations for an alert budget (models/MODEL_CARD.md); `make
    # train` records the same numbers in the model manifest and a test keeps them equal.
    rupture_fire: float = Field(default=0.88, ge=0, le=1)
    rupture_accumulate_floor: float = Field(default=0.58, ge=0, le=1)
    # A minimal reply right after a misattuned AI turn (the assessment's `exchange` score) opens
    # a withdrawal alert on its own at this threshold, within its own share of the budget.
    rupture_exchange_fire: float = Field(default=0.3, ge=0, le=1)
    rupture_resolve: float = Field(default=0.3, ge=0, le=1)
    disengagement_fire: float = Field(default=0.55, ge=0, le=1)
    disengagement_resolve: float = Field(default=0.25, ge=0, le=1)
    # Consecutive calm assessments before an open alert resolves.
    resolve_after: int = Field(default=3, ge=1)
    # An open alert with no new assessment for this long (event time) resolves.
    episode_timeout_seconds: float = Field(default=6 * 3600, gt=0)
    # After a crisis alert, rupture/disengagement alerts for that conversation are inhibited.
    crisis_inhibits_seconds: float = Field(default=24 * 3600, ge=0)
    crisis_critical: float = Field(default=0.58, ge=0, le=1)
    max_conversations: int = Field(default=200_000, gt=0)
    # Assessments dated more than this ahead of the service clock, or before the epoch, are
    # dead-lettered: applied, one bad timestamp would resolve or inhibit alerts early.
    # Quiet conversations are judged on their partition's newest assessment less this much.
    watermark_lateness_seconds: float = Field(default=300.0, ge=0)
