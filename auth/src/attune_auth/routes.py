"""Log in: a bearer token for API clients, or a session cookie with a CSRF token for the console."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import select

from attune_auth.audit import record
from attune_auth.db import AuditRecord, User
from attune_auth.guard import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Admin,
    Anyone,
    Guard,
    Unauthenticated,
    guard_of,
    source_of,
)
from attune_auth.passwords import verify_password
from attune_auth.principal import Principal, Role

log = structlog.get_logger(__name__)

# Names an error answer may show (the other keys a client sent are shown as `*`).
FIELD_NAMES = frozenset({"username", "password", "since", "until", "after_seq", "limit"})


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=128)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires; log in again then.")


class SessionAnswer(BaseModel):
    csrf_token: str = Field(description="Send it as X-CSRF-Token with every unsafe request.")
    expires_in: int


class Me(BaseModel):
    tenant_id: str
    subject: str
    role: str | None = Field(description="null for an integrator key")
    via: str


async def _login(request: Request, body: Login) -> Principal:
    """Checks the password (Argon2), rate-limits failures, audits the attempt either way."""
    guard: Guard = guard_of(request)
    source = source_of(request) or "unknown"
    keys = (f"user:{body.username.lower()}", f"addr:{source}")
    wait = guard.logins.retry_after(*keys)
    if wait is not None:
        log.warning("login_throttled", source=source)
        raise _TooMany(wait)
    async with guard.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == body.username))
        ok = verify_password(body.password, user.password_hash if user else None)
        ok = ok and user is not None and user.active
        record(
            session,
            at=guard.clock.now(),
            tenant_id=user.tenant_id if user else "-",
            actor=f"user:{user.username}" if user else "anonymous",
            action="login_succeeded" if ok else "login_failed",
            target="session",
            source=source,
        )
    if not ok or user is None:
        guard.logins.failed(*keys)
        raise Unauthenticated("wrong username or password")
    guard.logins.succeeded(keys[0])
    return Principal(user.tenant_id, user.username, Role(user.role), "token")


class _TooMany(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


def _too_many(exc: _TooMany) -> JSONResponse:
    return JSONResponse(
        {"detail": "too many failed logins; try again later", "errors": []},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


_DESCRIPTIONS = {
    400: "The body is not JSON (a syntax error).",
    401: "No valid key, token or session.",
    403: "The caller's role may not do this (or a session without its X-CSRF-Token).",
    413: "The body is too large.",
    422: "The request breaks the contract: `errors` names each field and the reason.",
    429: "Too many failed logins from this user or address; see Retry-After.",
}


class Answers:
    """Documented error answers, in the shape of the app that mounts these routes."""

    def __init__(self, model: type[BaseModel] | None) -> None:
        self.model = model

    def __call__(self, *codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
        out: dict[int | str, dict[str, Any]] = {}
        for code in codes:
            entry: dict[str, Any] = {
                "description": descriptions.get(f"d{code}", _DESCRIPTIONS[code])
            }
            if self.model is not None:
                entry["model"] = self.model
            out[code] = entry
        return out


def router(
    *, route_class: type[APIRoute] = APIRoute, error_model: type[BaseModel] | None = None
) -> APIRouter:
    api = APIRouter(prefix="/v1/auth", tags=["auth"], route_class=route_class)
    answers = Answers(error_model)
    failures = answers(400, 401, 413, 422, 429, d401="Wrong username or password.")

    @api.post("/token", response_model=TokenAnswer, responses=failures)
    async def token(request: Request, body: Login) -> Response:
        try:
            who = await _login(request, body)
        except _TooMany as exc:
            return _too_many(exc)
        assert who.role is not None
        access, ttl = guard_of(request).tokens.issue(
            tenant_id=who.tenant_id, username=who.subject, role=who.role
        )
        return JSONResponse(TokenAnswer(access_token=access, expires_in=ttl).model_dump())

    @api.post("/session", response_model=SessionAnswer, responses=failures)
    async def session(request: Request, body: Login) -> Response:
        try:
            who = await _login(request, body)
        except _TooMany as exc:
            return _too_many(exc)
        assert who.role is not None
        guard = guard_of(request)
        csrf = secrets.token_urlsafe(24)
        access, ttl = guard.tokens.issue(
            tenant_id=who.tenant_id, username=who.subject, role=who.role, csrf=csrf
        )
        answer = JSONResponse(SessionAnswer(csrf_token=csrf, expires_in=ttl).model_dump())
        secure = guard.settings.cookie_secure
        answer.set_cookie(
            SESSION_COOKIE, access, max_age=ttl, httponly=True, secure=secure, samesite="strict"
        )
        # Readable by the console's script, which echoes it in X-CSRF-Token.
        answer.set_cookie(CSRF_COOKIE, csrf, max_age=ttl, secure=secure, samesite="strict")
        return answer

    @api.post("/logout", status_code=204, responses=answers(401, 403))
    async def logout(request: Request, who: Anyone) -> Response:
        """End this token's or session's life now: it is refused from the next request on."""
        if await guard_of(request).revocations.revoke(who, source=source_of(request)):
            log.info("token_revoked", tenant_id=who.tenant_id, subject=who.subject, via=who.via)
        answer = Response(status_code=204)
        answer.delete_cookie(SESSION_COOKIE)
        answer.delete_cookie(CSRF_COOKIE)
        return answer

    @api.get("/me", response_model=Me, responses=answers(401))
    async def me(who: Anyone) -> Me:
        role = who.role.value if who.role else None
        return Me(tenant_id=who.tenant_id, subject=who.subject, role=role, via=who.via)

    return api


def _iso_only(value: Any) -> Any:
    # pydantic would also read a number as seconds since 1970; the contract says ISO 8601.
    if not isinstance(value, str) or not _ISO.match(value):
        raise ValueError("an ISO 8601 time with its offset, e.g. 2026-12-01T00:00:00Z")
    return value


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_only)]


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    tenant_id: str
    actor: str
    action: str
    target: str
    reason: str | None
    source: str | None
    details: dict[str, Any]


def audit_router(
    *, route_class: type[APIRoute] = APIRoute, error_model: type[BaseModel] | None = None
) -> APIRouter:
    """The auditors' export (admins only, their own tenant's records, oldest first)."""
    api = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=route_class)

    @api.get("", response_model=list[AuditEntry], responses=Answers(error_model)(401, 403, 422))
    async def export(
        request: Request,
        who: Admin,
        since: Instant | None = None,
        until: Instant | None = None,
        after_seq: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> list[AuditEntry]:
        guard = guard_of(request)
        rows = await guard.audit.export(
            tenant_id=who.tenant_id, since=since, until=until, after_seq=after_seq, limit=limit
        )
        await guard.audit.append(
            who,
            at=guard.clock.now(),
            action="audit_exported",
            target=f"tenant:{who.tenant_id}",
            source=source_of(request),
            details={"records": len(rows), "after_seq": after_seq},
        )
        return [_entry(r) for r in rows]

    return api


def _entry(r: AuditRecord) -> AuditEntry:
    return AuditEntry(
        seq=r.seq,
        at=r.at,
        tenant_id=r.tenant_id,
        actor=r.actor,
        action=r.action,
        target=r.target,
        reason=r.reason,
        source=r.source,
        details=r.details,
    )
