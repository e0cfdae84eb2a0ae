"""What the router remembers per (tenant, conversation): open episodes, inhibition, seen ids."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from attune_runtime.ids import derived_id
from attune_schemas import (
    Alert,
    AlertKind,
    AlertStatus,
    Evidence,
    RecentTurn,
    RuptureType,
    Severity,
    TriggeringTurn,
)

SEEN_KEEP = 128

Key = tuple[str, str]  # (tenant_id, conversation_id): two tenants may use the same id


@dataclass
class Episode:
    """One open alert: it fired once and stays open until calm returns."""

    alert_id: UUID
    kind: AlertKind
    severity: Severity
    risk: float
    rupture_type: RuptureType
    opened_at: datetime
    last_at: datetime
    assessment_ids: list[UUID]
    evidence: tuple[Evidence, ...]
    triggering_turn: TriggeringTurn | None
    model_version: str
    recent_turns: tuple[RecentTurn, ...] = ()  # the conversation as it stood when it last fired
    calm: int = 0
    silenced_by: UUID | None = None  # it went out muted by this silence

    def alert(
        self,
        key: Key,
        status: AlertStatus,
        at: datetime,
        cause: object,
        silenced_by: UUID | None = None,
    ) -> Alert:
        tenant_id, conversation_id = key
        return Alert(
            event_id=derived_id("alert-event", self.alert_id, status.value, cause),
            conversation_id=conversation_id,
            tenant_id=tenant_id,
            occurred_at=at,
            alert_id=self.alert_id,
            status=status,
            kind=self.kind,
            severity=self.severity,
            risk=round(self.risk, 4),
            rupture_type=self.rupture_type,
            assessment_ids=tuple(self.assessment_ids),
            evidence=self.evidence,
            triggering_turn=self.triggering_turn,
            model_version=self.model_version,
            recent_turns=self.recent_turns,
            silenced_by=silenced_by,
        )


@dataclass
class ConversationState:
    tenant_id: str
    last_at: datetime
    partition: int | None = None
    open: dict[AlertKind, Episode] = field(default_factory=dict)
    inhibited_until: datetime | None = None
    seen: deque[UUID] = field(default_factory=lambda: deque(maxlen=SEEN_KEEP))
    last_rupture: float = 0.0  # the previous client turn's rupture score


@dataclass
class Decision:
    alerts: list[Alert] = field(default_factory=list)
    inhibited: list[AlertKind] = field(default_factory=list)
    duplicate: bool = False
