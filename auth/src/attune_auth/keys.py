"""Integrator API keys: created once (the caller sees the key once), stored as a digest,
several per tenant, revocable, with their creation and last-use times."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.db import ApiKey, Tenant
from attune_runtime.clock import Clock

KEY_PREFIX = "atk_"


class UnknownTenant(LookupError):
    pass


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


@dataclass(frozen=True)
class NewKey:
    id: str
    tenant_id: str
    key: str  # shown once; only its digest is stored


async def create_key(session: AsyncSession, *, tenant_id: str, name: str, now: datetime) -> NewKey:
    if await session.get(Tenant, tenant_id) is None:
        raise UnknownTenant(tenant_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=key[: len(KEY_PREFIX) + 6],
        digest=digest(key),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return NewKey(row.id, tenant_id, key)


async def revoke_key(session: AsyncSession, *, key_id: str, now: datetime) -> ApiKey | None:
    row = await session.get(ApiKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
    return row


async def list_keys(session: AsyncSession, *, tenant_id: str) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at)
    return list(await session.scalars(query))


@dataclass(frozen=True)
class KeyIdentity:
    key_id: str
    tenant_id: str


class KeyVerifier:
    """Looks keys up by digest. A verified key is trusted for `cache` before the store is asked
    again (so a revocation takes effect within it); last_used_at is written at most that often."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock, cache: timedelta
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.cache = cache
        self._known: dict[str, tuple[KeyIdentity, datetime]] = {}

    async def verify(self, key: str) -> KeyIdentity | None:
        if not looks_like_key(key):
            return None
        now = self.clock.now()
        d = digest(key)
        cached = self._known.get(d)
        if cached is not None and now - cached[1] < self.cache:
            return cached[0]
        async with self.sessions() as session, session.begin():
            row = await session.scalar(
                select(ApiKey).where(ApiKey.digest == d, ApiKey.revoked_at.is_(None))
            )
            if row is None:
                self._known.pop(d, None)
                return None
            await session.execute(
                update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now)
            )
            identity = KeyIdentity(row.id, row.tenant_id)
        if len(self._known) > 10_000:  # keys are few; this only bounds a flood of stale entries
            self._known.clear()
        self._known[d] = (identity, now)
        return identity
