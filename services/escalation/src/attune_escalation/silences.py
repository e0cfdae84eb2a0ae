"""Silences: create, list, expire. Each change is staged on the outbox for the `silences` topic
in the same transaction, so every router learns it at least once, in order.

A silence is time-bounded (at most `MAX_DURATION`), belongs to its creator's tenant, and can
never match a crisis (`attune_schemas.crisis_refusal`): refused with the field and the reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attune_escalation import outbox
from attune_escalation.db import Silence
from attune_runtime.ids import derived_id
from attune_schemas import AlertKind, Severity, SilenceMatchers, crisis_refusal
from attune_schemas import Silence as SilenceMessage
from attune_schemas.topics import SILENCES

MAX_DURATION = timedelta(days=30)


class State(StrEnum):
    PENDING = "pending"  # starts later
    ACTIVE = "active"
    EXPIRED = "expired"  # ended, or expired by hand


class Refused(ValueError):
    """The silence breaks a rule: `field` is the body field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


class NotFound(LookupError):
    pass


def state_of(silence: Silence, now: datetime) -> State:
    if silence.ends_at <= now:
        return State.EXPIRED
    return State.PENDING if silence.starts_at > now else State.ACTIVE


def matchers_of(silence: Silence) -> SilenceMatchers:
    return SilenceMatchers(
        conversation_id=silence.conversation_id,
        kind=AlertKind(silence.kind) if silence.kind else None,
        severity=Severity(silence.severity) if silence.severity else None,
    )


def message(silence: Silence, version: str) -> SilenceMessage:
    return SilenceMessage(
        event_id=derived_id("silence", silence.id, version),
        silence_id=uuid.UUID(silence.id),
        tenant_id=silence.tenant_id,
        matchers=matchers_of(silence),
        starts_at=silence.starts_at,
        ends_at=silence.ends_at,
        created_by=silence.created_by,
        created_at=silence.created_at,
        comment=silence.comment,
        expired_by=silence.expired_by,
    )


async def create(
    session: AsyncSession,
    *,
    tenant_id: str,
    created_by: str,
    matchers: SilenceMatchers,
    starts_at: datetime | None,
    ends_at: datetime,
    comment: str,
    now: datetime,
) -> Silence:
    refusal = crisis_refusal(matchers)
    if refusal is not None:
        raise Refused(f"matchers.{refusal[0]}", refusal[1])
    starts = max(starts_at or now, now)
    if ends_at <= starts:
        raise Refused("ends_at", "must be after the start (and in the future)")
    if ends_at - starts > MAX_DURATION:
        raise Refused("ends_at", f"a silence lasts at most {MAX_DURATION.days} days")
    silence = Silence(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        conversation_id=matchers.conversation_id,
        kind=matchers.kind.value if matchers.kind else None,
        severity=matchers.severity.value if matchers.severity else None,
        starts_at=starts,
        ends_at=ends_at,
        created_by=created_by,
        created_at=now,
        comment=comment,
    )
    session.add(silence)
    outbox.stage(session, topic=SILENCES, event=message(silence, "created"), now=now)
    return silence


async def expire(
    session: AsyncSession, *, silence_id: str, tenant_id: str, by: str, now: datetime
) -> Silence:
    """End the silence now; expiring an ended one changes nothing."""
    silence = await session.get(Silence, silence_id, with_for_update=True)
    if silence is None or silence.tenant_id != tenant_id:
        raise NotFound(silence_id)
    if silence.ends_at > now:
        silence.ends_at = now
        silence.starts_at = min(silence.starts_at, now)
        silence.expired_at, silence.expired_by = now, by
        outbox.stage(session, topic=SILENCES, event=message(silence, "expired"), now=now)
    return silence


async def listed(
    session: AsyncSession, *, tenant_id: str, now: datetime, include_expired: bool, limit: int
) -> list[Silence]:
    query = select(Silence).where(Silence.tenant_id == tenant_id)
    if not include_expired:
        query = query.where(Silence.ends_at > now)
    query = query.order_by(Silence.created_at.desc(), Silence.id).limit(limit)
    return list((await session.scalars(query)).all())
