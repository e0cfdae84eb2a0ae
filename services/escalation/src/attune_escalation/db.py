"""Escalation state: incidents, the alerts grouped into them, their timeline, the outboxes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# One engine recipe and one UTC column type for every database of the product.
from attune_auth.db import UtcDateTime, make_engine, make_sessions

__all__ = ["AlertVerdict", "Base", "EngagementPoint", "EscalationTimer", "Incident",
           "IncidentAlert", "IncidentEvent", "IncidentTurn", "Lease", "Notification",
           "OutboxMessage", "ShiftTakeover", "Silence", "TeamCursor", "UtcDateTime",
           "make_engine", "make_sessions"]  # fmt: skip


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


def new_id() -> str:
    return str(uuid.uuid4())


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # open | acknowledged | joined | resolved
    severity: Mapped[str] = mapped_column(String(16))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    risk: Mapped[float]
    ai_paused: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    joined_at: Mapped[datetime | None]
    joined_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # The escalation chain as its policy stood when the incident opened (policies.Chain).
    chain: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Who was paged last (a tier's recipients), or who acknowledged: the people to remind.
    assignees: Mapped[list[str] | None] = mapped_column(JSON)
    first_paged_at: Mapped[datetime | None]

    alerts: Mapped[list[IncidentAlert]] = relationship(
        back_populates="incident", order_by="IncidentAlert.received_at", lazy="selectin"
    )
    timeline: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.seq", lazy="selectin"
    )

    __table_args__ = (
        # At most one active incident per conversation: new alerts group into it.
        Index(
            "uq_incidents_active_conversation",
            "tenant_id",
            "conversation_id",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_incidents_status_opened", "status", "opened_at"),
    )


class IncidentAlert(Base):
    """Every alert event received; its event_id is the idempotency key of the consumer."""

    __tablename__ = "incident_alerts"

    alert_event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(36), index=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    risk: Mapped[float]
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the alert, evidence included

    incident: Mapped[Incident] = relationship(back_populates="alerts")


class IncidentTurn(Base):
    """One recent message of the incident's conversation (client or AI), once per message id
    whichever of the incident's alerts carried it. `text` is None once retention deleted it."""

    __tablename__ = "incident_turns"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    sender: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    # Read only by the incident page (`turns.of`): not loaded with every incident the queue lists.
    text: Mapped[str | None] = mapped_column(Text)


class IncidentEvent(Base):
    """Append-only timeline; each row is also published to escalation.events via the outbox."""

    __tablename__ = "incident_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    incident: Mapped[Incident] = relationship(back_populates="timeline")


class OutboxMessage(Base):
    """Kafka messages written in the same transaction as the state change; relayed in order."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # W3C trace context of what caused the row (an alert's trace); None outside one.
    traceparent: Mapped[str | None] = mapped_column(String(55))


class Silence(Base):
    """A silence of a tenant's rupture or disengagement alerts; expiring brings `ends_at` forward.

    Never deleted: the silence that muted an alert stays to be read next to it.
    """

    __tablename__ = "silences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str | None] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(String(500))
    expired_at: Mapped[datetime | None]
    expired_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_silences_tenant_ends", "tenant_id", "ends_at"),)


class Notification(Base):
    """One notification to one channel; delivered (and retried) by the notification worker."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    # Delivery order: severity first, then an incident's first page before re-pages
    # (`notification_queue.enqueue`).
    priority: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The trace of what queued it (an alert's); sent as the request's `traceparent` header.
    traceparent: Mapped[str | None] = mapped_column(String(55))

    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)


class EscalationTimer(Base):
    """An incident's next scheduled step: a row, so a deadline survives any restart.

    `purpose` is `escalation` (page the next tier, or remind after an acknowledgement) or
    `update` (tell who was paged what was added since). Every change writes a new `token`; a
    scheduler that claimed the row runs the step only if the token it read is still there.
    """

    __tablename__ = "escalation_timers"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # page | renotify | update
    tier: Mapped[int] = mapped_column(default=0)
    round: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(index=True)
    token: Mapped[str] = mapped_column(String(36))


class TeamCursor(Base):
    """Round-robin position within a team: the next member to page."""

    __tablename__ = "team_cursors"

    team: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


class Lease(Base):
    """A named row a worker locks to be the only one doing a job (the outbox relay)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)


class AlertVerdict(Base):
    """A clinician's verdict on one alert of a resolved incident, with the model that raised it.

    The labels of the feedback loop: exported to the training corpus (text read from the
    incident's alerts at export, so retention applies) and counted for precision by kind.
    """

    __tablename__ = "alert_verdicts"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    rupture_type: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    verdict: Mapped[str] = mapped_column(String(32))
    # Markers the clinician says were present, when they differ from what fired (optional).
    markers: Mapped[list[str] | None] = mapped_column(JSON)
    clinician: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


class EngagementPoint(Base):
    """One client reply's engagement against the client's own baseline (numbers, no text)."""

    __tablename__ = "engagement_points"

    assessment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]
    reply_length_ratio: Mapped[float | None]
    reply_latency_ratio: Mapped[float | None]
    minimal_response_streak: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index("ix_engagement_points_conversation", "tenant_id", "conversation_id", "at"),
    )


class ShiftTakeover(Base):
    """A shift taken at run time ("take this shift"): `clinician` is on call for the tenant's
    pages from `schedule` between `starts_at` and `ends_at`. The newest takeover wins.
    """

    __tablename__ = "shift_takeovers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(128))
    schedule: Mapped[str] = mapped_column(String(128))
    clinician: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_shift_takeovers_schedule", "tenant_id", "schedule", "ends_at"),)
