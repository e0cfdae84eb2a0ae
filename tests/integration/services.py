"""Run one service in-process against the real broker, inside its own lifespan."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from attune_auth.principal import Role
from attune_classifier.app import Classifier
from attune_classifier.app import build as build_classifier
from attune_classifier.settings import ClassifierSettings
from attune_escalation.app import Escalation
from attune_escalation.app import build as build_escalation
from attune_escalation.settings import EscalationSettings
from attune_ingest.app import build as build_ingest
from attune_ingest.settings import IngestSettings
from attune_router.app import Router
from attune_router.app import build as build_router
from attune_router.settings import RouterSettings
from attune_runtime.clock import SystemClock
from attune_runtime.service import Service
from tests.identity import Identity, seed


def common(bootstrap: str, prefix: str, service: str) -> dict[str, Any]:
    return {
        "kafka_bootstrap_servers": bootstrap,
        "topic_prefix": prefix,
        "group_id": f"{prefix}{service}",
        "retry_backoff_seconds": 0.05,
    }


@asynccontextmanager
async def seeded(identity: Identity | None) -> AsyncIterator[Identity]:
    """The given identity database, or a freshly seeded one for this service alone."""
    if identity is not None:
        yield identity
        return
    with tempfile.TemporaryDirectory() as folder:
        yield await seed(Path(folder) / "identity.db")


@asynccontextmanager
async def ingest(
    bootstrap: str, prefix: str, *, identity: Identity | None = None, **kw: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Ingest with a client that sends as tenant-a's integrator."""
    app_kw = {k: kw.pop(k) for k in ("clock", "producer") if k in kw}
    async with seeded(identity) as ident:
        settings = IngestSettings(
            **common(bootstrap, prefix, "ingest"), auth=ident.settings(), **kw
        )
        svc = build_ingest(settings, **app_kw)
        async with svc.running():
            transport = httpx.ASGITransport(app=svc.app)
            headers = ident.bearer("tenant-a", None, SystemClock())
            async with httpx.AsyncClient(
                transport=transport, base_url="http://ingest", headers=headers
            ) as client:
                yield client


@asynccontextmanager
async def classifier(bootstrap: str, prefix: str, **kw: Any) -> AsyncIterator[Service[Classifier]]:
    build_kw = {k: kw.pop(k) for k in ("clock", "scorer", "rebuild_on_assign") if k in kw}
    svc = build_classifier(
        ClassifierSettings(**common(bootstrap, prefix, "classifier"), **kw), **build_kw
    )
    async with svc.running():
        yield svc


@asynccontextmanager
async def router(bootstrap: str, prefix: str, **kw: Any) -> AsyncIterator[Service[Router]]:
    build_kw = {k: kw.pop(k) for k in ("clock", "rebuild_on_assign") if k in kw}
    svc = build_router(RouterSettings(**common(bootstrap, prefix, "router"), **kw), **build_kw)
    async with svc.running():
        yield svc


@asynccontextmanager
async def escalation(
    bootstrap: str,
    prefix: str,
    database_url: str,
    *,
    identity: Identity | None = None,
    **kw: Any,
) -> AsyncIterator[tuple[Service[Escalation], httpx.AsyncClient]]:
    """Escalation with a client that tenant-a's clinician is logged in to."""
    build_kw = {k: kw.pop(k) for k in ("clock", "notifiers", "http_client") if k in kw}
    async with seeded(identity) as ident:
        settings = EscalationSettings(
            **common(bootstrap, prefix, "escalation"),
            database_url=database_url,
            poll_seconds=0.1,
            auth=ident.settings(),
            **kw,
        )
        svc = build_escalation(settings, **build_kw)
        clock = build_kw.get("clock") or SystemClock()
        async with svc.running():
            transport = httpx.ASGITransport(app=svc.app)
            headers = ident.bearer("tenant-a", Role.CLINICIAN, clock)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://escalation", headers=headers
            ) as client:
                yield svc, client
