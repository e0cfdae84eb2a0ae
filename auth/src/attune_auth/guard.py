"""FastAPI dependencies: who is calling, in which tenant, with which role.

Routes only declare what they need (`Depends(require(Role.CLINICIAN))`, `Depends(integrator)`);
the guard behind them is built once per app and kept on `app.state.guard`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attune_auth.audit import AuditTrail
from attune_auth.keys import KeyVerifier, looks_like_key
from attune_auth.limiter import FailedLogins
from attune_auth.principal import Principal, Role
from attune_auth.revocation import Revocations, TokenRevoked
from attune_auth.settings import AuthSettings
from attune_auth.tokens import InvalidToken, Tokens
from attune_runtime.clock import Clock

SESSION_COOKIE = "attune_session"
CSRF_COOKIE = "attune_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(
    auto_error=False,
    description="An integrator key (`atk_…`, ingest only) or a user's token from"
    " POST /v1/auth/token.",
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The console's session (POST /v1/auth/session); unsafe methods also need the"
    " X-CSRF-Token header.",
)


class Unauthenticated(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(401, reason, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(403, reason)


class Guard:
    def __init__(
        self,
        settings: AuthSettings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.tokens = Tokens(settings, clock=clock)
        self.keys = KeyVerifier(
            sessions, clock=clock, cache=timedelta(seconds=settings.key_cache_seconds)
        )
        self.audit = AuditTrail(sessions, database_url=settings.database_url)
        self.revocations = Revocations(sessions, clock=clock)
        self.logins = FailedLogins(
            clock=clock,
            max_failures=settings.login_max_failures,
            window=timedelta(seconds=settings.login_window_seconds),
        )

    async def from_bearer(self, token: str) -> Principal:
        if looks_like_key(token):
            identity = await self.keys.verify(token)
            if identity is None:
                raise Unauthenticated("unknown or revoked key")
            return Principal(identity.tenant_id, identity.key_id, None, "key")
        try:
            principal = self.tokens.verify(token)
        except InvalidToken:
            raise Unauthenticated("invalid or expired token") from None
        await self._not_revoked(principal, "token")
        return principal

    async def _not_revoked(self, principal: Principal, what: str) -> None:
        try:
            await self.revocations.check(principal)
        except TokenRevoked:
            raise Unauthenticated(f"{what} revoked (logged out or user disabled)") from None

    async def from_cookie(self, request: Request, token: str) -> Principal:
        try:
            principal = self.tokens.verify(token, via="cookie")
            csrf = self.tokens.csrf_of(token)
        except InvalidToken:
            raise Unauthenticated("invalid or expired session") from None
        await self._not_revoked(principal, "session")
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != csrf:
            raise Forbidden("missing or wrong X-CSRF-Token for this session")
        return principal

    async def authenticate(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None
    ) -> Principal:
        if credentials is not None and credentials.credentials:
            return await self.from_bearer(credentials.credentials)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await self.from_cookie(request, cookie)
        raise Unauthenticated("authentication required")


def guard_of(request: Request) -> Guard:
    guard: Guard = request.app.state.guard
    return guard


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
SessionCookie = Annotated[str | None, Depends(session_cookie)]


async def authenticated(
    request: Request, credentials: Credentials, _cookie: SessionCookie
) -> Principal:
    """Any caller with a valid key, token or session."""
    principal = await guard_of(request).authenticate(request, credentials)
    request.state.principal = principal
    return principal


def require(role: Role) -> object:
    """A dependency: a user of at least `role` (an integrator key is never enough)."""

    async def dependency(
        principal: Annotated[Principal, Depends(authenticated)],
    ) -> Principal:
        if principal.role is None:
            raise Forbidden(f"an integrator key cannot do this; it needs a {role.value} login")
        if not principal.role.covers(role):
            raise Forbidden(f"needs the {role.value} role")
        return principal

    return Depends(dependency)


async def _integrator(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    if principal.role is not None:
        raise Forbidden("sending events needs an integrator key, not a user login")
    return principal


Clinician = Annotated[Principal, require(Role.CLINICIAN)]
Supervisor = Annotated[Principal, require(Role.SUPERVISOR)]
Admin = Annotated[Principal, require(Role.ADMIN)]
Integrator = Annotated[Principal, Depends(_integrator)]
Anyone = Annotated[Principal, Depends(authenticated)]


def source_of(request: Request) -> str | None:
    """Where a request came from, for the audit trail (the proxy's address unless uvicorn is
    told to trust its forwarded headers)."""
    return request.client.host if request.client else None
