"""Every route of every service, walked from the apps themselves (so a new route cannot be
forgotten), with no credentials, another tenant's, too small a role, and the right ones.

Another tenant's object answers 404, never 403: no answer tells that it exists.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from faststream.asgi import AsgiFastStream
from faststream.kafka import TestKafkaBroker
from pydantic import SecretStr
from starlette.routing import Route

from attune_auth.principal import Role
from attune_classifier.app import build as build_classifier
from attune_classifier.scoring import LexiconScorer
from attune_classifier.settings import ClassifierSettings
from attune_ingest.app import build as build_ingest
from attune_ingest.settings import IngestSettings
from attune_router.app import build as build_router
from attune_router.settings import RouterSettings
from attune_runtime.clock import ManualClock
from tests.factories import T0, alert, event_json
from tests.identity import METRICS_TOKEN, PASSWORD, Identity, username
from tests.kafka_fakes import FakeProducer
from tests.unit.escalation_support import Api, running_api

Need = Literal[
    "public",
    "metrics",
    "login",
    "integrator",
    "anyone",
    "clinician",
    "supervisor",
    "admin",
    "console",
]

# What each route requires. A route missing here fails the walk: decide, then add it.
# /health/*: probes, no tenant data. /docs, /openapi.json, /docs/asyncapi: the published
# contract, no data, needed before an integrator has a key. /metrics: the scrape token.
IN_A_DAY = (T0 + timedelta(days=1)).isoformat()
RULES: dict[tuple[str, str, str], Need] = {
    ("ingest", "POST", "/v1/events"): "integrator",
    ("escalation", "GET", "/v1/incidents"): "clinician",
    ("escalation", "GET", "/v1/incidents/{incident_id}"): "clinician",
    ("escalation", "POST", "/v1/incidents/{incident_id}/ack"): "clinician",
    ("escalation", "POST", "/v1/incidents/{incident_id}/join"): "clinician",
    ("escalation", "POST", "/v1/incidents/{incident_id}/resolve"): "clinician",
    ("escalation", "POST", "/v1/incidents/{incident_id}/reassign"): "clinician",
    ("escalation", "POST", "/v1/incidents/{incident_id}/handback"): "clinician",
    # The console's pages: a clinician's session, else a redirect to its login page.
    ("escalation", "GET", "/console"): "console",
    ("escalation", "GET", "/console/stream"): "console",
    ("escalation", "GET", "/console/incidents/{incident_id}"): "console",
    ("escalation", "GET", "/console/silences"): "console",
    ("escalation", "GET", "/console/oncall"): "console",
    ("escalation", "GET", "/console/login"): "public",
    ("escalation", "GET", "/console/static/{name}"): "public",  # the page's script and style
    ("escalation", "GET", "/v1/silences"): "clinician",
    ("escalation", "POST", "/v1/silences"): "supervisor",
    ("escalation", "POST", "/v1/silences/{silence_id}/expire"): "supervisor",
    ("escalation", "GET", "/v1/oncall"): "clinician",
    # A clinician takes a shift for themself; assigning someone else needs a supervisor.
    ("escalation", "POST", "/v1/oncall/{schedule}/take"): "clinician",
    ("escalation", "POST", "/v1/auth/token"): "login",
    ("escalation", "POST", "/v1/auth/session"): "login",
    ("escalation", "POST", "/v1/auth/logout"): "anyone",
    ("escalation", "GET", "/v1/auth/me"): "anyone",
    ("escalation", "GET", "/v1/audit"): "admin",
    ("escalation", "GET", "/v1/feedback"): "admin",  # verdicts with client text, for training
    **{
        (service, "GET", path): "public"
        for service in ("ingest", "escalation")
        for path in ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
    },
    **{
        (service, "GET", path): "public"
        for service in ("ingest", "escalation", "classifier", "router")
        for path in ("/health/live", "/health/ready")
    },
    **{
        (service, "GET", "/metrics"): "metrics"
        for service in ("ingest", "escalation", "classifier", "router")
    },
    **{
        (service, "GET", path): "public"
        for service in ("ingest", "classifier", "router", "escalation")
        for path in ("/docs/asyncapi", "/docs/asyncapi.json")
    },
}
# The role a route needs, and the next role down that must be refused with 403.
TOO_SMALL: dict[Need, Role | None] = {
    "clinician": None,
    "supervisor": Role.CLINICIAN,
    "admin": Role.SUPERVISOR,
}
RIGHT: dict[Need, Role] = {
    "clinician": Role.CLINICIAN,
    "supervisor": Role.SUPERVISOR,
    "admin": Role.ADMIN,
}
# A schedule that pages tenant-a only: to another tenant it does not exist.
SCHEDULE = "clinic-a-primary"
POLICIES = f"""
schedules:
  {SCHEDULE}:
    rotation: {{participants: [dr-ada, dr-ben], start_date: 2026-03-02}}
policies:
  - name: clinic-a
    tenants: [tenant-a]
    tiers: [{{notify: [{{schedule: {SCHEDULE}}}]}}]
  - name: everyone-else
    tiers: [{{}}]
"""
BODIES: dict[str, dict[str, Any]] = {
    "resolve": {"outcome": "repaired"},
    "reassign": {"to": "clinician@tenant-a"},
    "silences": {"matchers": {"kind": "rupture"}, "ends_at": IN_A_DAY, "comment": "noisy"},
    "take": {"shift": "current"},
}


@dataclass
class Services:
    api: Api
    identity: Identity
    clock: ManualClock
    clients: dict[str, httpx.AsyncClient]

    def bearer(self, tenant: str, role: Role | None) -> dict[str, str]:
        return self.identity.bearer(tenant, role, self.clock)

    async def incident(self) -> str:
        """A fresh incident of tenant-a."""
        conversation = f"c-{uuid.uuid4().hex[:8]}"
        await self.api.alert(alert(conversation_id=conversation))
        found = await self.clients["escalation"].get(
            "/v1/incidents",
            params={"conversation_id": conversation},
            headers=self.bearer("tenant-a", Role.CLINICIAN),
        )
        iid: str = found.json()[0]["id"]
        return iid

    async def silence(self) -> str:
        """A fresh silence of tenant-a."""
        made = await self.clients["escalation"].post(
            "/v1/silences",
            json=BODIES["silences"],
            headers=self.bearer("tenant-a", Role.SUPERVISOR),
        )
        sid: str = made.json()["id"]
        return sid

    async def unchanged(self, path: str, oid: str) -> bool:
        """Is tenant-a's object as it was before another tenant's call?"""
        if "{schedule}" in path:
            [schedule] = (
                await self.clients["escalation"].get(
                    "/v1/oncall", headers=self.bearer("tenant-a", Role.CLINICIAN)
                )
            ).json()
            return bool(schedule["now"]["source"] == "rotation")
        if "{silence_id}" in path:
            listed = await self.clients["escalation"].get(
                "/v1/silences", headers=self.bearer("tenant-a", Role.CLINICIAN)
            )
            return oid in [s["id"] for s in listed.json()]
        incident = await self.clients["escalation"].get(
            f"/v1/incidents/{oid}", headers=self.bearer("tenant-a", Role.CLINICIAN)
        )
        return bool(incident.json()["status"] == "open")


def _routes(routes: list[Any]) -> list[Any]:
    """Every route, those of included routers too (FastAPI keeps an included router whole)."""
    found: list[Any] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found += _routes(included.routes) if included is not None else [route]
    return found


def walk(service: str, app: Any) -> list[tuple[str, str, str]]:
    """(service, method, path) of every route the app serves, documented or not."""
    found: set[tuple[str, str, str]] = set()
    if isinstance(app, FastAPI):
        for path, operations in app.openapi()["paths"].items():
            found |= {(service, method.upper(), path) for method in operations}
        for route in _routes(app.routes):
            if isinstance(route, Route) and not route.include_in_schema:
                methods = (route.methods or {"GET"}) - {"HEAD"}
                found |= {(service, method, route.path) for method in methods}
    else:
        assert isinstance(app, AsgiFastStream)
        for path, handler in app.routes:
            methods = set(getattr(handler, "methods", None) or ("GET",)) - {"HEAD"}
            found |= {(service, method, path) for method in methods}
    return sorted(found)


@pytest.fixture
async def services(
    tmp_path: Any, clock: ManualClock, identity: Identity
) -> AsyncIterator[Services]:
    metrics = SecretStr(METRICS_TOKEN)
    ingest_service = build_ingest(
        IngestSettings(auth=identity.settings(), metrics_token=metrics, dedup_rebuild=False),
        clock=clock,
        check_topics=False,
        producer=FakeProducer(),
    )
    ingest = ingest_service.app
    router = build_router(RouterSettings(metrics_token=metrics), clock=clock)
    classifier = build_classifier(
        ClassifierSettings(scorer="lexicon", metrics_token=metrics),
        clock=clock,
        scorer=LexiconScorer(),
    )
    apps: dict[str, Any] = {"ingest": ingest, "router": router.app, "classifier": classifier.app}
    policies = tmp_path / "policies.yaml"
    policies.write_text(POLICIES)
    async with (
        running_api(tmp_path / "escalation.db", clock, identity, policies_file=policies) as api,
        TestKafkaBroker(ingest_service.broker),
    ):
        apps["escalation"] = api.service.app
        clients = {
            name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            for name, app in apps.items()
        }
        try:
            yield Services(api, identity, clock, clients)
        finally:
            for client in clients.values():
                await client.aclose()


async def test_every_route_of_every_service_is_in_the_table(services: Services) -> None:
    apps = {name: client._transport.app for name, client in services.clients.items()}  # type: ignore[attr-defined]
    served = {route for name, app in apps.items() for route in walk(name, app)}

    assert served - RULES.keys() == set(), "routes with no authorisation rule: add them"
    assert RULES.keys() - served == set(), "rules for routes that no longer exist"


Call = Callable[[dict[str, str]], Awaitable[httpx.Response]]


def caller(s: Services, service: str, method: str, path: str, iid: str | None) -> Call:
    url = path.replace("{incident_id}", iid or "").replace("{silence_id}", iid or "")
    url = url.replace("{schedule}", iid or "")
    url = url.replace("{name}", "console.js")
    body: Any = None
    if service == "ingest":
        body = event_json(tenant_id="tenant-a")
    elif path.startswith("/v1/auth/") and method == "POST" and path != "/v1/auth/logout":
        body = {"username": username("tenant-a", Role.CLINICIAN), "password": PASSWORD}
    elif method == "POST":
        body = BODIES.get(path.rsplit("/", 1)[-1])

    async def call(headers: dict[str, str]) -> httpx.Response:
        return await s.clients[service].request(method, url, json=body, headers=headers)

    return call


async def console_page_answers_as_its_rule_says(s: Services, call: Call, iid: str | None) -> None:
    """A page: without a valid session the login page, never a tenant's data."""
    for nobody in ({}, {"authorization": "Bearer atk_forged"}):
        answer = await call(nobody)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    assert (await call(s.bearer("tenant-a", None))).status_code == 403
    other = await call(s.bearer("tenant-b", Role.CLINICIAN))
    if iid is not None:
        assert other.status_code == 404, "another tenant's object must not be found"
    else:
        assert other.status_code == 200 and iid is None
        assert "data-id" not in other.text  # tenant-b has no incident: none of tenant-a's
    right = await call(s.bearer("tenant-a", Role.CLINICIAN))
    assert right.status_code == 200, right.text
    if iid is not None:
        assert f'data-id="{iid}"' in right.text


@pytest.mark.parametrize(("service", "method", "path"), sorted(RULES))
async def test_each_route_answers_each_caller_as_its_rule_says(
    services: Services, service: str, method: str, path: str
) -> None:
    need = RULES[(service, method, path)]
    s = services
    iid = (
        await s.incident()
        if "{incident_id}" in path
        else await s.silence()
        if "{silence_id}" in path
        else SCHEDULE
        if "{schedule}" in path
        else None
    )
    call = caller(s, service, method, path, iid)
    nobody: dict[str, str] = {}

    if need == "public":
        assert (await call(nobody)).status_code in {200, 503}  # ready may be 503: not started
        return
    if need == "metrics":
        assert (await call(nobody)).status_code == 401
        assert (await call(s.bearer("tenant-a", Role.ADMIN))).status_code == 401
        right = await call({"authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 200 and b"# HELP" in right.content
        return
    if need == "login":
        assert (await call(nobody)).status_code == 200  # the credentials are in the body
        return
    if need == "console":
        await console_page_answers_as_its_rule_says(s, call, iid)
        return

    assert (await call(nobody)).status_code == 401
    assert (await call({"authorization": "Bearer atk_forged"})).status_code == 401
    if need == "integrator":
        # Another tenant's key sending tenant-a's event; a login instead of a key.
        assert (await call(s.bearer("tenant-b", None))).status_code == 403
        assert (await call(s.bearer("tenant-a", Role.ADMIN))).status_code == 403
        assert (await call(s.bearer("tenant-a", None))).status_code == 202
        return
    if need == "anyone":
        assert (await call(s.bearer("tenant-a", Role.CLINICIAN))).status_code in {200, 204}
        return

    # A user route: an integrator key is never enough, nor a smaller role.
    assert (await call(s.bearer("tenant-a", None))).status_code == 403
    smaller = TOO_SMALL[need]
    if smaller is not None:
        assert (await call(s.bearer("tenant-a", smaller))).status_code == 403
    other = await call(s.bearer("tenant-b", RIGHT[need]))
    if iid is not None:
        assert other.status_code == 404, "another tenant's object must not be found"
        assert await s.unchanged(path, iid)
    elif method == "POST":  # creating: in the caller's own tenant, whatever the body says
        assert other.status_code == 201
        assert other.json()["tenant_id"] == "tenant-b"
    else:
        assert other.status_code == 200
        assert "tenant-a" not in other.text  # a list of its own: nothing of tenant-a's
    right = await call(s.bearer("tenant-a", RIGHT[need]))
    assert right.status_code in {200, 201}, right.text
    if iid is not None and path.endswith("}"):
        assert right.json()["id"] == iid
