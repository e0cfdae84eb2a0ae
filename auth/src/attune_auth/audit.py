"""The audit trail: every action appends who, what, when, why and from where; nothing rewrites it.

The database refuses UPDATE and DELETE on audit_log (a trigger, see the migration); the
application refuses first, whatever the database, so a bug cannot even try.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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


def record(
    session: AsyncSession,
    *,
    at: datetime,
    tenant_id: str,
    actor: str,
    action: str,
    target: str,
    reason: str | None = None,
    source: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Adds one record to the session's transaction (ids and counts in details, never text)."""
    session.add(
        AuditRecord(
            at=at,
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            source=source,
            details=details or {},
        )
    )


class AuditTrail:
    """Appends in a transaction of its own, or in the caller's when both are one database."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, database_url: str | None = None
    ) -> None:
        self.sessions = sessions
        self.database_url = database_url

    def shares(self, database_url: str) -> bool:
        """Whether a service whose database is `database_url` writes to the audit's database:
        then its actions and their audit records can commit (or roll back) together."""
        return self.database_url is not None and self.database_url == database_url

    def within(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        at: datetime,
        action: str,
        target: str,
        reason: str | None = None,
        source: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """`append` inside the caller's transaction (a session of the same database)."""
        record(
            session,
            at=at,
            tenant_id=principal.tenant_id,
            actor=principal.actor,
            action=action,
            target=target,
            reason=reason,
            source=source,
            details=details,
        )

    async def append(
        self,
        principal: Principal,
        *,
        at: datetime,
        action: str,
        target: str,
        reason: str | None = None,
        source: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        await self.add(
            tenant_id=principal.tenant_id,
            actor=principal.actor,
            at=at,
            action=action,
            target=target,
            reason=reason,
            source=source,
            details=details,
        )

    async def add(
        self,
        *,
        tenant_id: str,
        actor: str,
        at: datetime,
        action: str,
        target: str,
        reason: str | None = None,
        source: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """A record for an actor that is not a caller (a scheduled job, the system)."""
        async with self.sessions() as session, session.begin():
            record(
                session,
                at=at,
                tenant_id=tenant_id,
                actor=actor,
                action=action,
                target=target,
                reason=reason,
                source=source,
                details=details,
            )

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
