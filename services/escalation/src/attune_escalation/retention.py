"""Retention: conversation text is kept while an incident is open and for a while after it is
resolved, then deleted; the audit trail (ids, actors, counts) outlives it.

Text lives in the alerts grouped into an incident (evidence excerpts, the triggering AI turn),
in the conversation's recent turns kept with it (`turns`), in the resolution note, and in
outbox rows until they are relayed. A scheduled pass blanks the first three for incidents
resolved more than `keep_for` ago and deletes relayed outbox rows as old; it logs and audits
counts, never text.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import ActionAudit, Entry
from attune_escalation.db import Incident, IncidentTurn, OutboxMessage
from attune_runtime.clock import Clock

log = structlog.get_logger(__name__)

REDACTED = "[deleted after retention]"
# Keys under which an alert body carries what someone said.
TEXT_KEYS = frozenset({"excerpt", "text"})
SYSTEM = "system:retention"


def redact(value: Any) -> Any:
    """The body with every text field blanked, at any depth; ids and scores stay."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if k in TEXT_KEYS and isinstance(v, str) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass
class Purged:
    notes: int = 0
    alerts: int = 0
    turns: int = 0
    outbox: int = 0
    by_tenant: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.notes + self.alerts + self.turns + self.outbox


async def purge(session: AsyncSession, *, now: datetime, keep_for: timedelta) -> Purged:
    """Blank the text of incidents resolved before now - keep_for; open ones keep theirs."""
    cutoff = now - keep_for
    done = Purged()
    resolved_before = (Incident.resolved_at.is_not(None), Incident.resolved_at < cutoff)
    expired = await session.scalars(select(Incident).where(*resolved_before))
    for incident in expired:
        if incident.resolution_note is not None:
            incident.resolution_note = None
            done.notes += 1
            done.by_tenant[incident.tenant_id] += 1
        for alert in incident.alerts:
            blanked = redact(alert.body)
            if blanked != alert.body:
                alert.body = blanked
                done.alerts += 1
                done.by_tenant[incident.tenant_id] += 1
    await _blank_turns(session, resolved_before, done)
    relayed = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.published_at.is_not(None), OutboxMessage.published_at < cutoff
        )
    )
    done.outbox = int(getattr(relayed, "rowcount", 0) or 0)
    return done


async def _blank_turns(
    session: AsyncSession, resolved_before: tuple[ColumnElement[bool], ...], done: Purged
) -> None:
    """Delete the text of the expired incidents' turns (the message ids and times stay)."""
    held = (
        select(Incident.tenant_id, func.count())
        .join(IncidentTurn, IncidentTurn.incident_id == Incident.id)
        .where(*resolved_before, IncidentTurn.text.is_not(None))
        .group_by(Incident.tenant_id)
    )
    for tenant, count in (await session.execute(held)).all():
        done.turns += count
        done.by_tenant[tenant] += count
    if done.turns:
        expired = select(Incident.id).where(*resolved_before)
        await session.execute(
            update(IncidentTurn)
            .where(IncidentTurn.incident_id.in_(expired), IncidentTurn.text.is_not(None))
            .values(text=None)
        )


class RetentionJob:
    """Runs `purge` every `interval` (and once at start), with the service's clock."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        audit: ActionAudit,
        clock: Clock,
        keep_for: timedelta,
        interval: timedelta,
    ) -> None:
        self.sessions = sessions
        self.audit = audit
        self.clock = clock
        self.keep_for = keep_for
        self.interval = interval

    async def run_once(self) -> Purged:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            done = await purge(session, now=now, keep_for=self.keep_for)
            # In one database with the audit, text is deleted only with its audit records.
            audited = [
                self.audit.add(
                    session, tenant_id=tenant, actor=SYSTEM, **self._audit_entry(tenant, count, now)
                )
                for tenant, count in sorted(done.by_tenant.items())
            ]
        log.info(
            "retention_purged",
            notes=done.notes,
            alerts=done.alerts,
            turns=done.turns,
            outbox=done.outbox,
            keep_days=self.keep_for.total_seconds() / 86400,
        )
        for pending in audited:
            await pending.committed()
        return done

    def _audit_entry(self, tenant: str, count: int, now: datetime) -> Entry:
        return {
            "at": now,
            "action": "text_deleted_after_retention",
            "target": f"tenant:{tenant}",
            "reason": f"resolved more than {self.keep_for.days} days ago",
            "details": {"records": count, "keep_days": self.keep_for.days},
        }

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down: the next pass catches up
                log.warning("retention_failed", error=type(exc).__name__)
            await asyncio.sleep(self.interval.total_seconds())
