"""On-call schedules: a rotation with a hand-off time in its own time zone, and overrides.

A rotation hands off at a local wall-clock time (09:00 in Europe/London stays 09:00 across
daylight-saving changes) every `shift_days` days, starting with the first participant on
`start_date`. An override wins for its interval: those written in the YAML here, and those
taken at run time ("take this shift", `oncall.py`), which win over both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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


@dataclass(frozen=True)
class Shift:
    """One turn of a rotation: `clinician` is on call from `start` until `end` (UTC)."""

    clinician: str
    start: datetime
    end: datetime


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
        """Who is on call at `at` (aware), by the file alone."""
        for override in self.overrides:
            if override.start <= at < override.end:
                return override.clinician
        return self.shift_at(at).clinician

    def shift_at(self, at: datetime) -> Shift:
        """The rotation's shift that `at` falls in (overrides aside)."""
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
        first_day = r.start_date + timedelta(days=shifts * r.shift_days)
        # Hand-offs at the local wall-clock time, whatever daylight saving does in between.
        start = datetime.combine(first_day, r.handoff, zone)
        end = datetime.combine(first_day + timedelta(days=r.shift_days), r.handoff, zone)
        return Shift(
            clinician=r.participants[shifts % len(r.participants)],
            start=start.astimezone(UTC),
            end=end.astimezone(UTC),
        )
