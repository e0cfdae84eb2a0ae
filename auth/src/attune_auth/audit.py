"""The audit trail: every action appends who, what, when, why and from where; nothing rewrites it.

The database refuses UPDATE and DELETE on audit_log (a trigger, see the migration); the
application refuses first, whatever the database, so a bug cannot even try.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from attune_auth.db import AuditRecord
from attune_auth.principal import Principal


class AppendOnly(Exception):
    """An attempt to change or remove an audit record."""


@event.listens_for(Session, "before_flush")
def _refuse_changed_records(session: Session, *_: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditRecord) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnly("audit records are append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_statements(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is AuditRecord for mapper in state.all_mappers
    ):
        raise AppendOnly("audit records are append-only")


class Entry(TypedDict):
    """What one audit record says besides who: what, when, why and from where."""

    at: datetime
    action: str
    target: str
    reason: NotRequired[str | None]
    source: NotRequired[str | None]
    details: NotRequired[dict[str, Any] | None]  # ids and counts, never text


def record(session: AsyncSession, *, tenant_id: str, actor: str, **entry: Unpack[Entry]) -> None:
    """Adds one record to the session's transaction (ids and counts in details, never text)."""
    session.add(
        AuditRecord(
            at=entry["at"],
            tenant_id=tenant_id,
            actor=actor,
            action=entry["action"],
            target=entry["target"],
            reason=entry.get("reason"),
            source=entry.get("source"),
            details=entry.get("details") or {},
        )
    )


class AuditTrail:
    """Appends in a transaction of its own; `alongside` audits a service's own writes."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, database_url: str | None = None
    ) -> None:
        self.sessions = sessions
        self.database_url = database_url

    def shares(self, database_url: str) -> bool:
        """Whether a service whose database is `database_url` writes to the audit's database:
        then its actions and their audit records can commit (or roll back) together."""
        return self.database_url is not None and self.database_url == database_url

    def alongside(self, database_url: str) -> ActionAudit:
        """How the actions a service writes to `database_url` are audited."""
        return ActionAudit(self, together=self.shares(database_url))

    async def append(self, principal: Principal, **entry: Unpack[Entry]) -> None:
        await self.add(tenant_id=principal.tenant_id, actor=principal.actor, **entry)

    async def add(self, *, tenant_id: str, actor: str, **entry: Unpack[Entry]) -> None:
        """A record for an actor that is not a caller (a scheduled job, the system)."""
        async with self.sessions() as session, session.begin():
            record(session, tenant_id=tenant_id, actor=actor, **entry)

    async def export(
        self,
        *,
        tenant_id: str | None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> Sequence[AuditRecord]:
        query = select(AuditRecord).where(AuditRecord.seq > after_seq)
        if tenant_id is not None:
            query = query.where(AuditRecord.tenant_id == tenant_id)
        if since is not None:
            query = query.where(AuditRecord.at >= since)
        if until is not None:
            query = query.where(AuditRecord.at < until)
        async with self.sessions() as session:
            return list(await session.scalars(query.order_by(AuditRecord.seq).limit(limit)))


@dataclass(frozen=True)
class ActionAudit:
    """Audits the actions a service writes to its own database, decided once for the service.

    `together` (the audit trail is in that database): each record is written in the action's
    transaction, so the action and its record commit together or neither does. Otherwise the
    record gets a transaction of its own in the audit's database, once the action's has
    committed: `Pending.committed`.
    """

    trail: AuditTrail
    together: bool

    def add(
        self, session: AsyncSession, *, tenant_id: str, actor: str, **entry: Unpack[Entry]
    ) -> Pending:
        """Called inside the action's transaction (`session`); then `committed()` after it."""
        if self.together:
            record(session, tenant_id=tenant_id, actor=actor, **entry)
        return Pending(None if self.together else self.trail, tenant_id, actor, entry)

    def by(self, session: AsyncSession, principal: Principal, **entry: Unpack[Entry]) -> Pending:
        """`add` for an action of the caller `principal`."""
        return self.add(session, tenant_id=principal.tenant_id, actor=principal.actor, **entry)


@dataclass(frozen=True)
class Pending:
    """An action's audit record, when the action's transaction could not hold it."""

    trail: AuditTrail | None  # None: written already, with the action
    tenant_id: str
    actor: str
    entry: Entry

    async def committed(self) -> None:
        """Writes the record if it is still to write; call once the action has committed."""
        if self.trail is not None:
            await self.trail.add(tenant_id=self.tenant_id, actor=self.actor, **self.entry)
