"""Builders for contract events, shared by every test tier."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from attune_runtime.ids import derived_id
from attune_schemas import (
    Alert,
    AlertKind,
    AlertStatus,
    Engagement,
    Evidence,
    MarkerFamily,
    MessageSent,
    RecentTurn,
    RuptureAssessment,
    RuptureType,
    Scores,
    Sender,
    Severity,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event_json(
    *,
    conversation_id: str = "conv-1",
    type: str = "message_sent",
    at: datetime = T0,
    **fields: Any,
) -> dict[str, Any]:
    """A conversation event as an integrator would send it (JSON-ready dict)."""
    base: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "conversation_id": conversation_id,
        "tenant_id": "tenant-a",
        "occurred_at": at.isoformat(),
        "type": type,
    }
    if type == "message_sent":
        base.update(
            {"message_id": f"m-{uuid.uuid4().hex[:8]}", "sender": "client", "text": "hello"}
        )
    elif type in ("session_started", "session_ended"):
        base["session_id"] = "s-1"
        if type == "session_ended":
            base["reason"] = "client_left"
    elif type == "session_missed":
        base["scheduled_for"] = at.isoformat()
    elif type == "feedback_submitted":
        base["rating"] = 4
    base.update(fields)
    return base


class Script:
    """A conversation told turn by turn with realistic gaps: `ai(...)`, `client(...)`."""

    def __init__(
        self, conversation_id: str = "conv-1", start: datetime = T0, tenant_id: str = "tenant-a"
    ) -> None:
        self.conversation_id = conversation_id
        self.tenant_id = tenant_id
        self.at = start
        self.events: list[MessageSent] = []
        self.n = 0

    def say(self, sender: Sender, text: str, after: float) -> MessageSent:
        self.at += timedelta(seconds=after)
        self.n += 1
        event = MessageSent(
            event_id=uuid.uuid4(),
            conversation_id=self.conversation_id,
            tenant_id=self.tenant_id,
            occurred_at=self.at,
            message_id=f"m{self.n}",
            sender=sender,
            text=text,
        )
        self.events.append(event)
        return event

    def ai(self, text: str, after: float = 4) -> MessageSent:
        return self.say(Sender.AI, text, after)

    def client(self, text: str, after: float = 40) -> MessageSent:
        return self.say(Sender.CLIENT, text, after)


def assessment(
    *,
    conversation_id: str = "conv-1",
    tenant_id: str = "tenant-a",
    at: datetime = T0,
    rupture: float = 0.0,
    disengagement: float = 0.0,
    exchange: float = 0.0,
    crisis: bool = False,
    crisis_score: float | None = None,
    rupture_type: RuptureType | None = None,
    message_id: str | None = "m1",
    markers: tuple[str, ...] = (),
) -> RuptureAssessment:
    source = uuid.uuid4()
    if rupture_type is None:
        rupture_type = RuptureType.CONFRONTATION if rupture >= 0.5 else RuptureType.NONE
    return RuptureAssessment(
        event_id=derived_id("assessment", source),
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        occurred_at=at,
        source_event_id=source,
        message_id=message_id,
        assessed_at=at,
        model_version="test",
        scores=Scores(
            rupture=rupture,
            withdrawal=0.0,
            confrontation=rupture,
            disengagement=disengagement,
            crisis=crisis_score if crisis_score is not None else (0.97 if crisis else 0.01),
            exchange=exchange,
        ),
        rupture_type=rupture_type,
        crisis=crisis,
        evidence=tuple(
            Evidence(
                marker=m, family=MarkerFamily.CONFRONTATION, message_id=message_id, excerpt="x"
            )
            for m in markers
        ),
        engagement=Engagement(),
    )


def alert(
    *,
    conversation_id: str = "conv-1",
    kind: AlertKind = AlertKind.RUPTURE,
    severity: Severity = Severity.HIGH,
    status: AlertStatus = AlertStatus.FIRING,
    at: datetime = T0,
    alert_id: uuid.UUID | None = None,
    tenant_id: str = "tenant-a",
) -> Alert:
    return Alert(
        event_id=uuid.uuid4(),
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        occurred_at=at,
        alert_id=alert_id or uuid.uuid4(),
        status=status,
        kind=kind,
        severity=severity,
        risk=0.9,
        assessment_ids=(uuid.uuid4(),),
        evidence=(
            Evidence(
                marker="rejecting_intervention",
                family=MarkerFamily.CONFRONTATION,
                message_id="m3",
                excerpt="that's not helpful",
            ),
        ),
        model_version="test",
    )


def recent_turns(
    *said: tuple[Sender, str], first: int = 1, until: datetime = T0
) -> tuple[RecentTurn, ...]:
    """Turns `m<first>`, `m<first+1>`, … ten seconds apart, the last one at `until`."""
    return tuple(
        RecentTurn(
            message_id=f"m{first + n}",
            sender=sender,
            at=until - timedelta(seconds=10 * (len(said) - 1 - n)),
            text=text,
        )
        for n, (sender, text) in enumerate(said)
    )
