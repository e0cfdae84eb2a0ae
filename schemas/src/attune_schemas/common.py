"""Fields every Attune event carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION = 1

# Ids travel as Kafka keys, URL path segments and log fields: keep them short and printable.
Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$"),
]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware timestamp, normalised to UTC; naive timestamps are rejected."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Contract(BaseModel):
    """Base for every message model: immutable, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class EventEnvelope(Contract):
    event_id: UUID = Field(description="Unique per event; consumers deduplicate on it.")
    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    conversation_id: Identifier = Field(description="Partition key of every topic.")
    tenant_id: Identifier
    occurred_at: UtcDatetime = Field(description="When it happened, aware, stored in UTC.")
