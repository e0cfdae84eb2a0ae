"""On-call schedules: a rotation with a hand-off time in its own time zone, and overrides.

A rotation hands off at a local wall-clock time (09:00 in Europe/London stays 09:00 across
daylight-saving changes) every `shift_days` days, starting with the first participant on
`start_date`. An override ("take this shift") wins for its interval.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from attune_schemas.common import Identifier


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clinician: Identifier
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")
        return self


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participants: list[Identifier] = Field(min_length=1)
    start_date: date
    handoff: time = time(9, 0)
    shift_days: int = Field(default=7, ge=1)


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: str = "UTC"
    rotation: Rotation
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def on_call(self, at: datetime) -> str:
        """Who is on call at `at` (aware)."""
        for override in self.overrides:
            if override.start <= at < override.end:
                return override.clinician
        zone = ZoneInfo(self.time_zone)
        local = at.astimezone(zone)
        r = self.rotation
        # The shift's day: before today's hand-off, yesterday's shift still runs.
        day = (
            local.date()
            if local.timetz().replace(tzinfo=None) >= r.handoff
            else (local.date() - timedelta(days=1))
        )
        shifts = (day - r.start_date).days // r.shift_days
        return r.participants[shifts % len(r.participants)]
