"""A record that can never be processed, with the reason (topics `*.dlq`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from attune_schemas.common import UtcDatetime


class FieldError(BaseModel):
    """One validation failure: where and why, never the offending value."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    field: str
    reason: str


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    source_topic: str
    source_partition: int
    source_offset: int
    key: str | None
    failed_at: UtcDatetime
    service: str
    reason: str = Field(description="Short machine-friendly reason, e.g. 'invalid_event'.")
    errors: tuple[FieldError, ...] = ()
    payload: str = Field(
        description="The original value, decoded as UTF-8 with replacement; its first 4,000"
        " characters only."
    )
