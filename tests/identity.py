"""Tenants, integrator keys and logins for tests: seeded once, copied per test."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from attune_auth import keys
from attune_auth.db import Tenant, User, make_engine, make_sessions
from attune_auth.migrate import upgrade
from attune_auth.passwords import hash_password
from attune_auth.principal import Role
from attune_auth.settings import AuthSettings
from attune_auth.tokens import Tokens
from attune_runtime.clock import Clock, SystemClock
from tests.factories import T0

TENANTS = ("tenant-a", "tenant-b")
PASSWORD = "correct horse battery staple"
JWT_SECRET = "test-secret-for-signing-tokens-only-in-tests"
METRICS_TOKEN = "test-metrics-token"


def username(tenant: str, role: Role) -> str:
    return f"{role.value}@{tenant}"


def user_bearer(tenant: str, role: Role, clock: Clock) -> dict[str, str]:
    """A login's bearer header, signed with the tests' secret (no database needed to verify)."""
    settings = AuthSettings(jwt_secret=SecretStr(JWT_SECRET))
    token, _ = Tokens(settings, clock=clock).issue(
        tenant_id=tenant, username=username(tenant, role), role=role
    )
    return {"authorization": f"Bearer {token}"}


def process_env(database_url: str) -> dict[str, str]:
    """What a service process needs to share the tests' identity database and secrets."""
    return {
        "ATTUNE_AUTH_DATABASE_URL": database_url,
        "ATTUNE_AUTH_JWT_SECRET": JWT_SECRET,
        "ATTUNE_AUTH_COOKIE_SECURE": "false",
        "ATTUNE_METRICS_TOKEN": METRICS_TOKEN,
    }


@dataclass
class Identity:
    """A seeded identity database: one integrator key per tenant, one login per role."""

    database_url: str
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    def settings(self, **overrides: object) -> AuthSettings:
        return AuthSettings(
            database_url=self.database_url,
            jwt_secret=SecretStr(JWT_SECRET),
            cookie_secure=False,
            **overrides,  # type: ignore[arg-type]
        )

    def bearer(self, tenant: str, role: Role | None, clock: Clock) -> dict[str, str]:
        """Headers of an integrator (role None) or a user of `tenant`."""
        if role is None:
            return {"authorization": f"Bearer {self.keys[tenant]}"}
        return user_bearer(tenant, role, clock)

    def copy_to(self, path: Path) -> Identity:
        shutil.copyfile(self.database_url.removeprefix("sqlite+aiosqlite:///"), path)
        return Identity(f"sqlite+aiosqlite:///{path}", dict(self.keys), dict(self.key_ids))


async def seed(path: Path, tenants: tuple[str, ...] = TENANTS) -> Identity:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    identity = Identity(url)
    hashed = hash_password(PASSWORD)  # one Argon2 hash serves every test login
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session, session.begin():
            for tenant in tenants:
                session.add(Tenant(id=tenant, name=tenant, created_at=T0))
                await session.flush()
                new = await keys.create_key(session, tenant_id=tenant, name="test", now=T0)
                identity.keys[tenant], identity.key_ids[tenant] = new.key, new.id
                for role in Role:
                    session.add(
                        User(
                            tenant_id=tenant,
                            username=username(tenant, role),
                            role=role.value,
                            password_hash=hashed,
                            active=True,
                            created_at=T0,
                        )
                    )
    finally:
        await engine.dispose()
    return identity


class ServiceAuth(httpx.Auth):
    """Authenticates each request as the real callers would: ingest's /v1/events with the
    integrator key of the tenant the events are from (each tenant's integrator sends its own),
    /metrics with the scrape token, everything else as a user of `tenant`."""

    requires_request_body = True

    def __init__(self, keys: dict[str, str], tenant: str, role: Role = Role.CLINICIAN) -> None:
        self.keys = keys
        self.tenant = tenant
        self.role = role

    def _sender(self, body: bytes) -> str:
        try:
            sent = json.loads(body)
        except ValueError:
            return self.tenant
        first = sent[0] if isinstance(sent, list) and sent else sent
        tenant = first.get("tenant_id") if isinstance(first, dict) else None
        return tenant if tenant in self.keys else self.tenant

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.path == "/v1/events":
            key = self.keys[self._sender(request.content)]
            request.headers["authorization"] = f"Bearer {key}"
        elif request.url.path == "/metrics":
            request.headers["authorization"] = f"Bearer {METRICS_TOKEN}"
        else:
            request.headers.update(user_bearer(self.tenant, self.role, SystemClock()))
        yield request
