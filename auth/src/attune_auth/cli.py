"""attune-admin: create the first tenant, admin, integrator keys and users; export the audit.

The database comes from ATTUNE_AUTH_DATABASE_URL (or --database-url); every command migrates it
first and appends what it did to the audit trail, as `cli:<login name>`.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attune_auth import keys
from attune_auth.audit import AuditTrail, record
from attune_auth.db import Tenant, User, make_engine, make_sessions
from attune_auth.migrate import upgrade
from attune_auth.passwords import hash_password
from attune_auth.principal import Role
from attune_auth.revocation import revoke_all_of
from attune_auth.settings import AuthSettings
from attune_runtime.clock import SystemClock

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
tenant_app = typer.Typer(help="Tenants (clinics).", no_args_is_help=True)
key_app = typer.Typer(help="Integrator API keys.", no_args_is_help=True)
user_app = typer.Typer(help="Clinician, supervisor and admin logins.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(key_app, name="key")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")

T = TypeVar("T")
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Default: ATTUNE_AUTH_DATABASE_URL.")
]
_clock = SystemClock()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _run(database_url: str | None, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    url = database_url or AuthSettings().database_url
    upgrade(url)

    async def go() -> T:
        engine = make_engine(url)
        try:
            async with make_sessions(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except IntegrityError:
        typer.echo("refused: it exists already (or names something that does not)", err=True)
        raise typer.Exit(1) from None
    except (keys.UnknownTenant, LookupError, ValueError) as exc:
        typer.echo(f"refused: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from None


def _audit(session: AsyncSession, tenant_id: str, action: str, target: str) -> None:
    record(
        session,
        at=_clock.now(),
        tenant_id=tenant_id,
        actor=_actor(),
        action=action,
        target=target,
        source="cli",
    )


@app.command()
def init(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the identity database."""

    async def work(_: AsyncSession) -> None:
        return None

    _run(database_url, work)
    typer.echo("identity database is up to date")


@tenant_app.command("create")
def tenant_create(
    tenant_id: str,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a tenant; its id is the tenant_id its integrators' events carry."""

    async def work(session: AsyncSession) -> None:
        session.add(Tenant(id=tenant_id, name=name or tenant_id, created_at=_clock.now()))
        _audit(session, tenant_id, "tenant_created", f"tenant:{tenant_id}")

    _run(database_url, work)
    typer.echo(f"tenant {tenant_id} created")


@key_app.command("create")
def key_create(
    tenant: Annotated[str, typer.Option(help="The tenant the key sends events for.")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. the integrator.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create an integrator key and print it once (only its digest is stored)."""

    async def work(session: AsyncSession) -> keys.NewKey:
        new = await keys.create_key(session, tenant_id=tenant, name=name, now=_clock.now())
        _audit(session, tenant, "api_key_created", f"api_key:{new.id}")
        return new

    new = _run(database_url, work)
    typer.echo(f"key id {new.id} for tenant {new.tenant_id}; the key (shown once):", err=True)
    typer.echo(new.key)


@key_app.command("list")
def key_list(tenant: Annotated[str, typer.Option()], database_url: DatabaseUrl = None) -> None:
    """The tenant's keys: id, name, prefix, created, last used, revoked."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {
                "id": k.id,
                "name": k.name,
                "prefix": k.prefix,
                "created_at": _iso(k.created_at),
                "last_used_at": _iso(k.last_used_at),
                "revoked_at": _iso(k.revoked_at),
            }
            for k in await keys.list_keys(session, tenant_id=tenant)
        ]

    for row in _run(database_url, work):
        typer.echo(json.dumps(row))


@key_app.command("revoke")
def key_revoke(key_id: str, database_url: DatabaseUrl = None) -> None:
    """Revoke a key: refused from then on (at most ATTUNE_AUTH_KEY_CACHE_SECONDS later)."""

    async def work(session: AsyncSession) -> None:
        row = await keys.revoke_key(session, key_id=key_id, now=_clock.now())
        if row is None:
            raise LookupError("no such key")
        _audit(session, row.tenant_id, "api_key_revoked", f"api_key:{key_id}")

    _run(database_url, work)
    typer.echo(f"key {key_id} revoked")


@user_app.command("create")
def user_create(
    tenant: Annotated[str, typer.Option()],
    username: Annotated[str, typer.Option()],
    role: Annotated[Role, typer.Option()] = Role.CLINICIAN,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a login (Argon2-hashed password, at least 12 characters)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = os.environ.get("ATTUNE_ADMIN_PASSWORD") or typer.prompt(
            "password", hide_input=True, confirmation_prompt=True
        )
    hashed = hash_password(password)

    async def work(session: AsyncSession) -> None:
        if await session.get(Tenant, tenant) is None:
            raise LookupError(f"no tenant {tenant}")
        user = User(
            tenant_id=tenant,
            username=username,
            role=role.value,
            password_hash=hashed,
            active=True,
            created_at=_clock.now(),
        )
        session.add(user)
        await session.flush()
        _audit(session, tenant, "user_created", f"user:{username}")

    _run(database_url, work)
    typer.echo(f"user {username} ({role.value}) created in tenant {tenant}")


@user_app.command("disable")
def user_disable(username: str, database_url: DatabaseUrl = None) -> None:
    """Disable a login: it can no longer log in, and the tokens it holds stop working at once."""

    async def work(session: AsyncSession) -> None:
        user = await _user(session, username)
        user.active = False
        revoke_all_of(user, _clock.now())
        _audit(session, user.tenant_id, "user_disabled", f"user:{username}")

    _run(database_url, work)
    typer.echo(f"user {username} disabled; its tokens and sessions are refused from now on")


@user_app.command("revoke-tokens")
def user_revoke_tokens(username: str, database_url: DatabaseUrl = None) -> None:
    """Sign a user out everywhere: every token and session it holds stops working at once."""

    async def work(session: AsyncSession) -> None:
        user = await _user(session, username)
        revoke_all_of(user, _clock.now())
        _audit(session, user.tenant_id, "user_tokens_revoked", f"user:{username}")

    _run(database_url, work)
    typer.echo(f"every token of {username} issued until now is refused")


async def _user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise LookupError("no such user")
    return user


@audit_app.command("export")
def audit_export(
    tenant: Annotated[str | None, typer.Option(help="Default: every tenant.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Every audit record as JSON lines, oldest first."""
    url = database_url or AuthSettings().database_url
    upgrade(url)

    async def go() -> None:
        engine = make_engine(url)
        trail, after = AuditTrail(make_sessions(engine)), 0
        try:
            while rows := await trail.export(tenant_id=tenant, after_seq=after):
                for row in rows:
                    typer.echo(json.dumps(audit_row(row)))
                after = rows[-1].seq
        finally:
            await engine.dispose()

    asyncio.run(go())


def audit_row(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": _iso(row.at),
        "tenant_id": row.tenant_id,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "reason": row.reason,
        "source": row.source,
        "details": row.details,
    }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def main() -> None:
    app()
