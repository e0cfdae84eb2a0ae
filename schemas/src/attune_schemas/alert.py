"""Alerts raised by the router's policy (topic `alerts`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from attune_schemas.assessment import (
    RECENT_TURNS_MAX,
    CrisisCategory,
    Evidence,
    RecentTurn,
    RuptureType,
    TriggeringTurn,
)
from attune_schemas.common import EventEnvelope, Probability


class AlertKind(StrEnum):
    CRISIS = "crisis"
    RUPTURE = "rupture"
    DISENGAGEMENT = "disengagement"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"


SEVERITY_RANK = {Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(EventEnvelope):
    type: Literal["alert"] = "alert"
    alert_id: UUID = Field(description="Stable for one episode: firing and resolved share it.")
    status: AlertStatus
    kind: AlertKind
    severity: Severity
    risk: Probability
    rupture_type: RuptureType = RuptureType.NONE
    crisis_categories: tuple[CrisisCategory, ...] = ()
    assessment_ids: tuple[UUID, ...] = Field(description="Assessments that led to this alert.")
    evidence: tuple[Evidence, ...] = ()
    triggering_turn: TriggeringTurn | None = None
    model_version: str
    recent_turns: Annotated[tuple[RecentTurn, ...], Field(max_length=RECENT_TURNS_MAX)] = Field(
        default=(),
        description="The conversation's recent turns, oldest first, when the alert fired.",
    )
    silenced_by: UUID | None = Field(
        default=None,
        description="The silence that mutes this alert: escalation records it and pages nobody.",
    )
