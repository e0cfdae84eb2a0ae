"""Tokens that stop working at once: logout (deny-list by jti), a disabled user, "sign out
everywhere"; the deny-list forgets a token once it has expired anyway. Time is the test's clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from attune_auth import cli
from attune_auth.db import AuditRecord, RevokedToken, make_engine, make_sessions
from attune_auth.guard import SESSION_COOKIE
from attune_auth.principal import Role
from attune_runtime.clock import ManualClock
from tests.identity import PASSWORD, Identity, username
from tests.unit.escalation_support import Api

CLINICIAN = username("tenant-a", Role.CLINICIAN)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def token_of(api: Api, user: str = CLINICIAN) -> str:
    r = await api.http.post(
        "/v1/auth/token",
        json={"username": user, "password": PASSWORD},
        headers={"authorization": ""},
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


async def me(api: Api, token: str) -> int:
    return (await api.http.get("/v1/auth/me", headers=bearer(token))).status_code


async def admin_cli(identity: Identity, *args: str) -> str:
    result = await asyncio.to_thread(
        CliRunner().invoke, cli.app, [*args, "--database-url", identity.database_url]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(autouse=True)
def cli_clock(clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """attune-admin on the test's clock, as the services are."""
    monkeypatch.setattr(cli, "_clock", clock)


async def revoked_rows(identity: Identity) -> list[str]:
    engine = make_engine(identity.database_url)
    try:
        async with make_sessions(engine)() as session:
            return list(await session.scalars(select(RevokedToken.jti)))
    finally:
        await engine.dispose()


async def audited(identity: Identity, action: str) -> int:
    engine = make_engine(identity.database_url)
    try:
        async with make_sessions(engine)() as session:
            count = await session.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def test_logout_refuses_that_token_at_once_and_only_that_one(
    api: Api, identity: Identity
) -> None:
    token, other = await token_of(api), await token_of(api)
    assert await me(api, token) == 200

    out = await api.http.post("/v1/auth/logout", headers=bearer(token))

    assert out.status_code == 204
    assert await me(api, token) == 401  # not in 15 minutes: on the next request
    assert (await api.http.get("/v1/incidents", headers=bearer(token))).status_code == 401
    assert await me(api, other) == 200  # the same user's other sessions go on
    assert await audited(identity, "logged_out") == 1


async def test_a_logged_out_session_cookie_is_refused_even_if_replayed(api: Api) -> None:
    async with httpx.AsyncClient(
        transport=api.http._transport, base_url="http://escalation"
    ) as browser:
        session = await browser.post(
            "/v1/auth/session", json={"username": CLINICIAN, "password": PASSWORD}
        )
        csrf, cookie = session.json()["csrf_token"], browser.cookies[SESSION_COOKIE]
        assert (await browser.get("/v1/auth/me")).status_code == 200
        out = await browser.post("/v1/auth/logout", headers={"x-csrf-token": csrf})
    assert out.status_code == 204

    # Someone who kept a copy of the cookie (a shared computer, a stolen cookie) gets nothing.
    async with httpx.AsyncClient(
        transport=api.http._transport,
        base_url="http://escalation",
        cookies={SESSION_COOKIE: cookie},
    ) as replay:
        assert (await replay.get("/v1/auth/me")).status_code == 401


async def test_disabling_a_user_refuses_its_tokens_at_once_and_its_logins(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    token = await token_of(api)
    clock.advance(timedelta(seconds=5))

    await admin_cli(identity, "user", "disable", CLINICIAN)

    assert await me(api, token) == 401
    login = await api.http.post(
        "/v1/auth/token",
        json={"username": CLINICIAN, "password": PASSWORD},
        headers={"authorization": ""},
    )
    assert login.status_code == 401
    # Another user of the tenant is untouched.
    assert await me(api, await token_of(api, username("tenant-a", Role.SUPERVISOR))) == 200


async def test_sign_out_everywhere_refuses_earlier_tokens_but_not_a_new_login(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    before = await token_of(api)
    clock.advance(timedelta(milliseconds=1))  # a revocation in the same second still holds

    await admin_cli(identity, "user", "revoke-tokens", CLINICIAN)

    assert await me(api, before) == 401
    clock.advance(timedelta(milliseconds=1))
    assert await me(api, await token_of(api)) == 200
    assert await audited(identity, "user_tokens_revoked") == 1


async def test_the_deny_list_keeps_a_token_only_until_it_would_have_expired(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    first = await token_of(api)
    await api.http.post("/v1/auth/logout", headers=bearer(first))
    assert len(await revoked_rows(identity)) == 1

    clock.advance(timedelta(seconds=901))  # the first token has expired: refused as such
    assert await me(api, first) == 401
    second = await token_of(api)
    await api.http.post("/v1/auth/logout", headers=bearer(second))

    assert len(await revoked_rows(identity)) == 1  # the first entry was pruned
    assert await me(api, second) == 401
