"""Who may call: integrator keys at ingest, logins and tokens at escalation, the actor from the
token, sessions with CSRF, rate-limited logins, the append-only audit trail and attune-admin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker
from pydantic import SecretStr
from sqlalchemy import delete, func, select, text, update
from typer.testing import CliRunner

from attune_auth import cli
from attune_auth.audit import AppendOnly
from attune_auth.db import ApiKey, AuditRecord, make_engine, make_sessions
from attune_auth.principal import Role
from attune_auth.settings import AuthSettings
from attune_auth.tokens import Tokens
from attune_ingest.app import build
from attune_ingest.settings import IngestSettings
from attune_runtime.clock import ManualClock
from attune_schemas import ConversationControl
from tests.factories import T0, alert, event_json
from tests.identity import JWT_SECRET, PASSWORD, Identity, username
from tests.kafka_fakes import FakeProducer
from tests.unit.escalation_support import Api

# --- ingest: integrator keys --------------------------------------------------------------


@dataclass
class Ingest:
    app: FastAPI
    http: httpx.AsyncClient
    producer: FakeProducer
    clock: ManualClock


@pytest.fixture
async def ingest(clock: ManualClock, identity: Identity) -> AsyncIterator[Ingest]:
    settings = IngestSettings(auth=identity.settings(), dedup_rebuild=False)
    producer = FakeProducer()
    service = build(settings, clock=clock, check_topics=False, producer=producer)
    app = service.app
    async with TestKafkaBroker(service.broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
            yield Ingest(app, http, producer, clock)


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


async def test_an_event_without_a_key_is_401_and_not_published(ingest: Ingest) -> None:
    r = await ingest.http.post("/v1/events", json=event_json())

    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["rejected"][0]["reason"] == "unauthenticated"
    assert ingest.producer.acked == []


@pytest.mark.parametrize("secret", ["atk_not-a-key", "not-even-shaped-like-one", ""])
async def test_an_unknown_key_is_401(ingest: Ingest, secret: str) -> None:
    r = await ingest.http.post("/v1/events", json=event_json(), headers=bearer(secret))

    assert r.status_code == 401
    assert ingest.producer.acked == []


async def test_the_tenant_comes_from_the_key_and_another_tenant_is_403_with_the_reason(
    ingest: Ingest, identity: Identity
) -> None:
    mine = event_json(tenant_id="tenant-a")
    theirs = event_json(tenant_id="tenant-b")

    r = await ingest.http.post(
        "/v1/events", json=[mine, theirs], headers=bearer(identity.keys["tenant-a"])
    )

    assert r.status_code == 403
    body = r.json()
    assert body["accepted"] == []
    assert body["rejected"] == [
        {
            "index": 1,
            "event_id": None,
            "reason": "tenant_mismatch",
            "errors": [{"field": "tenant_id", "reason": "not the tenant of the API key"}],
        }
    ]
    assert ingest.producer.acked == []  # nothing of the batch is published
    ok = await ingest.http.post("/v1/events", json=mine, headers=bearer(identity.keys["tenant-a"]))
    assert ok.status_code == 202


async def test_a_user_token_cannot_send_events(
    ingest: Ingest, identity: Identity, clock: ManualClock
) -> None:
    admin = identity.bearer("tenant-a", Role.ADMIN, clock)

    r = await ingest.http.post("/v1/events", json=event_json(), headers=admin)

    assert r.status_code == 403
    assert "integrator key" in r.json()["detail"]


async def test_a_tenant_has_several_keys_each_revocable_with_created_and_last_used_times(
    ingest: Ingest, identity: Identity, clock: ManualClock
) -> None:
    first = identity.keys["tenant-a"]
    second = await _run_cli(identity, "key", "create", "--tenant", "tenant-a", "--name", "2nd")
    second_key = second.strip()

    for key in (first, second_key):
        r = await ingest.http.post("/v1/events", json=event_json(), headers=bearer(key))
        assert r.status_code == 202

    await _run_cli(identity, "key", "revoke", identity.key_ids["tenant-a"])
    # A verified key is trusted for key_cache_seconds; past that, the revocation holds.
    clock.advance(AuthSettings().key_cache_seconds + 1)
    revoked = await ingest.http.post("/v1/events", json=event_json(), headers=bearer(first))
    still = await ingest.http.post("/v1/events", json=event_json(), headers=bearer(second_key))

    assert (revoked.status_code, still.status_code) == (401, 202)
    listed = [
        json.loads(line)
        for line in (await _run_cli(identity, "key", "list", "--tenant", "tenant-a")).splitlines()
    ]
    by_id = {k["id"]: k for k in listed}
    assert len(listed) == 2
    assert by_id[identity.key_ids["tenant-a"]]["revoked_at"] is not None
    assert all(k["created_at"] and k["last_used_at"] for k in listed)
    assert all(second_key not in line and first not in line for line in map(str, listed))


async def test_keys_are_stored_as_digests_only(identity: Identity) -> None:
    engine = make_engine(identity.database_url)
    async with make_sessions(engine)() as session:
        rows = list(await session.scalars(select(ApiKey)))
    await engine.dispose()
    stored = json.dumps([[r.digest, r.prefix, r.name] for r in rows])
    assert rows and all(key not in stored for key in identity.keys.values())


# --- escalation: logins, tokens, sessions -------------------------------------------------


async def login(api: Api, user: str, password: str = PASSWORD) -> httpx.Response:
    return await api.http.post(
        "/v1/auth/token",
        json={"username": user, "password": password},
        headers={"authorization": ""},
    )


async def test_a_login_gets_a_short_lived_token_that_names_tenant_user_and_role(
    api: Api, clock: ManualClock
) -> None:
    r = await login(api, username("tenant-b", Role.SUPERVISOR))

    assert r.status_code == 200
    token = r.json()["access_token"]
    assert r.json()["expires_in"] == 900
    me = await api.http.get("/v1/auth/me", headers=bearer(token))
    assert me.json() == {
        "tenant_id": "tenant-b",
        "subject": "supervisor@tenant-b",
        "role": "supervisor",
        "via": "token",
    }
    clock.advance(timedelta(seconds=901))
    expired = await api.http.get("/v1/auth/me", headers=bearer(token))
    assert expired.status_code == 401


async def test_a_token_signed_with_another_secret_or_altered_is_401(
    api: Api, clock: ManualClock
) -> None:
    forged, _ = Tokens(AuthSettings(jwt_secret=SecretStr("x" * 40)), clock=clock).issue(
        tenant_id="tenant-a", username="mallory", role=Role.ADMIN
    )
    good = (await login(api, username("tenant-a", Role.CLINICIAN))).json()["access_token"]
    head, claims, signature = good.split(".")
    altered = f"{head}.{claims[:-2]}xx.{signature}"

    for token in (forged, altered, "not-a-token"):
        assert (await api.http.get("/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_failed_logins_are_rate_limited_then_allowed_again(
    api: Api, clock: ManualClock
) -> None:
    user = username("tenant-a", Role.ADMIN)
    for _ in range(5):
        assert (await login(api, user, "wrong password!")).status_code == 401

    throttled = await login(api, user)  # even the right password waits

    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    clock.advance(timedelta(seconds=301))
    assert (await login(api, user)).status_code == 200


async def test_logins_are_audited_without_the_password(api: Api, identity: Identity) -> None:
    await login(api, username("tenant-a", Role.CLINICIAN), "wrong password!")
    await login(api, username("tenant-a", Role.CLINICIAN))

    records = await audit_records(identity)
    actions = [(r.action, r.actor) for r in records if r.action.startswith("login")]
    assert actions == [
        ("login_failed", "user:clinician@tenant-a"),
        ("login_succeeded", "user:clinician@tenant-a"),
    ]
    assert PASSWORD not in json.dumps([[r.details, r.reason] for r in records])


async def test_the_actor_comes_from_the_token_never_from_the_body(api: Api) -> None:
    await api.alert(alert())
    iid = await api.incident_id()

    claimed = await api.http.post(f"/v1/incidents/{iid}/ack", json={"clinician_id": "dr-evil"})
    joined = await api.http.post(f"/v1/incidents/{iid}/join")

    assert claimed.status_code == 422
    assert joined.status_code == 200
    assert joined.json()["joined_by"] == "clinician@tenant-a"
    assert [e["actor"] for e in joined.json()["timeline"]][-1] == "clinician@tenant-a"
    await api.service.parts.relay.relay_once()
    [joining] = [
        c
        for c in (ConversationControl.model_validate_json(m.body) for m in api.controls)
        if c.action == "clinician_joining"
    ]
    assert joining.clinician_id == "clinician@tenant-a"


async def test_a_session_cookie_needs_its_csrf_token_for_actions(api: Api) -> None:
    await api.alert(alert())
    iid = await api.incident_id()
    cookies = httpx.AsyncClient(transport=api.http._transport, base_url="http://escalation")
    async with cookies:
        session = await cookies.post(
            "/v1/auth/session",
            json={"username": username("tenant-a", Role.CLINICIAN), "password": PASSWORD},
        )
        csrf = session.json()["csrf_token"]
        assert "httponly" in session.headers["set-cookie"].lower()

        read = await cookies.get(f"/v1/incidents/{iid}")
        forged = await cookies.post(f"/v1/incidents/{iid}/ack")
        wrong = await cookies.post(f"/v1/incidents/{iid}/ack", headers={"x-csrf-token": "x"})
        acked = await cookies.post(f"/v1/incidents/{iid}/ack", headers={"x-csrf-token": csrf})
        out = await cookies.post("/v1/auth/logout", headers={"x-csrf-token": csrf})

    assert read.status_code == 200
    assert (forged.status_code, wrong.status_code, acked.status_code) == (403, 403, 200)
    assert out.status_code == 204


# --- audit -----------------------------------------------------------------------------


async def audit_records(identity: Identity) -> list[AuditRecord]:
    engine = make_engine(identity.database_url)
    try:
        async with make_sessions(engine)() as session:
            return list(await session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    finally:
        await engine.dispose()


async def test_every_action_and_every_read_of_the_text_is_audited(
    api: Api, identity: Identity
) -> None:
    await api.alert(alert())
    iid = await api.incident_id()

    await api.http.get(f"/v1/incidents/{iid}")
    await api.http.post(f"/v1/incidents/{iid}/ack", json={"reason": "on call"})
    await api.http.post(f"/v1/incidents/{iid}/resolve", json={"outcome": "repaired"})

    records = [r for r in await audit_records(identity) if r.target == f"incident:{iid}"]
    assert [(r.action, r.actor, r.tenant_id) for r in records] == [
        ("incident_read", "user:clinician@tenant-a", "tenant-a"),
        ("incident_acknowledge", "user:clinician@tenant-a", "tenant-a"),
        ("incident_resolve", "user:clinician@tenant-a", "tenant-a"),
    ]
    assert records[1].reason == "on call"
    assert records[2].details == {"outcome": "repaired"}
    assert all(r.source and r.at for r in records)


async def test_the_audit_trail_refuses_update_and_delete_on_sqlite(
    api: Api, identity: Identity
) -> None:
    await api.alert(alert())
    await api.http.get(f"/v1/incidents/{await api.incident_id()}")
    engine = make_engine(identity.database_url)
    sessions = make_sessions(engine)
    try:
        async with sessions() as session:
            [first, *_] = await session.scalars(select(AuditRecord))
            first.action = "nothing_happened"
            with pytest.raises(AppendOnly):
                await session.flush()
        for statement in (
            update(AuditRecord).values(actor="someone else"),
            delete(AuditRecord),
        ):
            async with sessions() as session:
                with pytest.raises(AppendOnly):
                    await session.execute(statement)
        # Past the application: the database's own trigger refuses.
        for raw in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            async with engine.begin() as conn:
                with pytest.raises(Exception, match="append-only"):
                    await conn.execute(text(raw))
        async with sessions() as session:
            count = await session.scalar(select(func.count()).select_from(AuditRecord))
    finally:
        await engine.dispose()
    assert count and count > 0


async def test_the_audit_export_is_for_admins_of_their_own_tenant(
    api: Api, clock: ManualClock, identity: Identity
) -> None:
    await api.alert(alert())
    await api.http.get(f"/v1/incidents/{await api.incident_id()}")  # audited in tenant-a

    clinician = await api.http.get("/v1/audit")
    other = await api.http.get("/v1/audit", headers=identity.bearer("tenant-b", Role.ADMIN, clock))
    admin = await api.http.get("/v1/audit", headers=identity.bearer("tenant-a", Role.ADMIN, clock))

    assert clinician.status_code == 403
    assert [r["action"] for r in other.json()] == []  # tenant-a's records are not theirs
    actions = [r["action"] for r in admin.json()]
    assert "incident_read" in actions
    assert {r["tenant_id"] for r in admin.json()} == {"tenant-a"}
    again = await api.http.get("/v1/audit", headers=identity.bearer("tenant-a", Role.ADMIN, clock))
    assert again.json()[-1]["action"] == "audit_exported"  # exporting is audited too


# --- attune-admin ------------------------------------------------------------------------


async def _run_cli(identity: Identity, *args: str) -> str:
    """attune-admin as an operator runs it (in a thread: it runs its own event loop)."""
    result = await asyncio.to_thread(
        CliRunner().invoke, cli.app, [*args, "--database-url", identity.database_url]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_attune_admin_creates_the_first_tenant_admin_and_key(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    runner = CliRunner()

    def admin(*args: str, stdin: str | None = None) -> str:
        result = runner.invoke(cli.app, [*args, "--database-url", url], input=stdin)
        assert result.exit_code == 0, result.output
        return result.stdout

    admin("init")
    admin("tenant", "create", "clinic-x", "--name", "Clinic X")
    key = admin("key", "create", "--tenant", "clinic-x", "--name", "emr").strip()
    admin(
        "user", "create", "--tenant", "clinic-x", "--username", "root@x", "--role", "admin",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    short = runner.invoke(
        cli.app,
        ["user", "create", "--tenant", "clinic-x", "--username", "u2", "--password-stdin",
         "--database-url", url],
        input="short\n",
    )  # fmt: skip
    exported = [json.loads(line) for line in admin("audit", "export").splitlines()]

    assert key.startswith("atk_")
    assert short.exit_code != 0
    assert [r["action"] for r in exported] == ["tenant_created", "api_key_created", "user_created"]
    assert all(r["actor"].startswith("cli:") for r in exported)
    assert key not in json.dumps(exported)


def test_tokens_issued_by_one_service_are_verified_by_another() -> None:
    clock = ManualClock(T0)
    settings = AuthSettings(jwt_secret=SecretStr(JWT_SECRET))
    token, _ = Tokens(settings, clock=clock).issue(
        tenant_id="tenant-a", username="u", role=Role.SUPERVISOR
    )
    who = Tokens(settings, clock=clock).verify(token)
    assert (who.tenant_id, who.subject, who.role) == ("tenant-a", "u", Role.SUPERVISOR)
