"""Tokens that stop working before they expire: logged out, or their user disabled.

Tokens are signed and short-lived, but a signature cannot be taken back. So every request with a
token also asks the identity store two things: is this token's `jti` on the deny-list (logout),
and was it issued before its user's `tokens_valid_after` or is the user disabled (disable, "sign
out everywhere")? Nothing is cached: a revocation holds from the next request on. Deny-list
entries are kept only until the token would have expired anyway, then pruned.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import record
from attune_auth.db import RevokedToken, User
from attune_auth.principal import Principal
from attune_runtime.clock import Clock


class TokenRevoked(Exception):
    pass


class Revocations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def check(self, principal: Principal) -> None:
        """Raise TokenRevoked if `principal`'s token was revoked or its user disabled."""
        if principal.is_integrator:
            return  # keys are revoked on their own (attune_auth.keys)
        async with self.sessions() as session:
            if principal.token_id is not None:
                revoked = await session.get(RevokedToken, principal.token_id)
                if revoked is not None:
                    raise TokenRevoked("token revoked")
            if principal.via == "oidc":
                return  # the issuer's users are not ours to disable
            user = await session.scalar(select(User).where(User.username == principal.subject))
        if user is None:
            return  # not a user of this database: nothing here revokes it (signature checked)
        if not user.active:
            raise TokenRevoked("user disabled")
        cutoff = user.tokens_valid_after
        if cutoff is not None and (
            principal.issued_at is None or principal.issued_at < cutoff.timestamp()
        ):
            raise TokenRevoked("token issued before the user's tokens were revoked")

    async def revoke(self, principal: Principal, *, source: str | None = None) -> bool:
        """Put `principal`'s token on the deny-list until it expires, audited in the same
        transaction; False if the token has no id (nothing to refuse it by)."""
        if principal.token_id is None or principal.expires_at is None:
            return False
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            await prune(session, now)
            if await session.get(RevokedToken, principal.token_id) is None:
                session.add(
                    RevokedToken(
                        jti=principal.token_id,
                        tenant_id=principal.tenant_id,
                        subject=principal.subject,
                        revoked_at=now,
                        expires_at=datetime.fromtimestamp(principal.expires_at, UTC),
                    )
                )
            record(
                session,
                at=now,
                tenant_id=principal.tenant_id,
                actor=principal.actor,
                action="logged_out",
                target=f"user:{principal.subject}",
                source=source,
                details={"via": principal.via},
            )
        return True


async def prune(session: AsyncSession, now: datetime) -> int:
    """Drop deny-list entries of tokens that have expired (they are refused as expired now)."""
    result = await session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_all_of(user: User, now: datetime) -> None:
    """Every token `user` holds stops working; tokens issued from now on are unaffected."""
    user.tokens_valid_after = now
