"""The console's pages: login, the queue (live over server-sent events), an incident, the
silences, and who is on call.

Pages need a clinician's session (the cookie from POST /v1/auth/session); without one they
redirect to the login page. The page's script performs every action through the JSON API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse, ServerSentEvent

from attune_auth.audit import AuditTrail
from attune_auth.guard import Credentials, Forbidden, SessionCookie, Unauthenticated, guard_of
from attune_auth.principal import Principal, Role
from attune_escalation import engagement, turns
from attune_escalation.api import audited_read
from attune_escalation.console import clinical, oncall_page, silence_page, views
from attune_escalation.console.protocols import Protocols
from attune_escalation.policies import EscalationConfig
from attune_runtime.clock import Clock

HERE = Path(__file__).parent
LOGIN = "/console/login"
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(), enable_async=False
)


def waited(seconds: int) -> str:
    """Waiting time as the page's script shows it: m:ss, or h:mm:ss."""
    h, rest = divmod(max(0, seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def utc(at: datetime) -> str:
    return at.strftime("%H:%M:%S UTC")


def day_utc(at: datetime) -> str:
    return at.strftime("%a %d %b %H:%M UTC")


templates.filters["waited"] = waited
templates.filters["utc"] = utc
templates.filters["day_utc"] = day_utc
templates.globals["clinical"] = clinical


async def console_user(request: Request, credentials: Credentials, _: SessionCookie) -> Principal:
    """A clinician (or more) of some tenant; anyone else is sent to the login page."""
    try:
        who = await guard_of(request).authenticate(request, credentials)
    except Unauthenticated:
        raise HTTPException(303, "login required", headers={"Location": LOGIN}) from None
    if who.role is None or not who.role.covers(Role.CLINICIAN):
        raise Forbidden("the console needs a clinician login")
    return who


ConsoleUser = Annotated[Principal, Depends(console_user)]


def supervises(who: Principal) -> bool:
    """Supervisors and admins act on silences and assign shifts; clinicians read."""
    return who.role is not None and who.role.covers(Role.SUPERVISOR)


def page(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(
        templates.get_template(name).render(**context),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def router(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    audit: AuditTrail,
    protocols: Protocols,
    config: EscalationConfig,
    poll_seconds: float,
    stream_seconds: float,
) -> APIRouter:
    console = APIRouter(prefix="/console", include_in_schema=False)

    @console.get("/login")
    async def login() -> HTMLResponse:
        return page("login.html")

    @console.get("/static/{name}")
    async def static(name: str) -> FileResponse:
        if name not in {"console.js", "console.css"}:
            raise HTTPException(404, "not found")
        return FileResponse(HERE / "static" / name)

    async def rows(tenant_id: str) -> list[views.QueueRow]:
        async with sessions() as session:
            return await views.queue(session, tenant_id, clock.now())

    @console.get("")
    async def queue(who: ConsoleUser) -> HTMLResponse:
        now = clock.now()
        return page("queue.html", who=who, rows=await rows(who.tenant_id), now=now, section="queue")

    @console.get("/stream")
    async def stream(who: ConsoleUser, request: Request) -> EventSourceResponse:
        """The queue whenever it changes: the rows rendered as on the page."""

        async def changes() -> AsyncIterator[ServerSentEvent]:
            loop = asyncio.get_running_loop()
            ends = loop.time() + stream_seconds
            last: list[tuple[Any, ...]] | None = None
            while True:
                found = await rows(who.tenant_id)
                shown = [r.fingerprint for r in found]
                if shown != last:
                    last = shown
                    html = templates.get_template("_rows.html").render(rows=found)
                    yield ServerSentEvent(data=html, event="queue", retry=2000)
                if loop.time() >= ends or await request.is_disconnected():
                    return
                await asyncio.sleep(poll_seconds)

        return EventSourceResponse(changes(), ping=15, headers={"Cache-Control": "no-store"})

    @console.get("/incidents/{incident_id}")
    async def incident(incident_id: UUID, who: ConsoleUser, request: Request) -> HTMLResponse:
        found = await audited_read(sessions, audit, clock, str(incident_id), who, request)
        now = clock.now()
        async with sessions() as session:
            kept = await turns.of(session, found.id)
            trend = await engagement.trend(
                session,
                tenant_id=found.tenant_id,
                conversation_id=found.conversation_id,
                until=found.resolved_at,
            )
        view = views.incident_page(found, now, kept)
        return page(
            "incident.html",
            who=who,
            now=now,
            view=view,
            chart=views.chart(trend, found.opened_at),
            i=found,
            protocol=protocols.of(who.tenant_id) if view.crisis else None,
            section="queue",
        )

    @console.get("/silences")
    async def silences(who: ConsoleUser, incident: UUID | None = None) -> HTMLResponse:
        """The tenant's silences; `?incident=<id>` pre-fills the form for its conversation."""
        now = clock.now()
        async with sessions() as session:
            shown = await silence_page.rows(session, who.tenant_id, now)
            form = silence_page.Prefill()
            if incident is not None:
                found = await silence_page.prefill(session, who.tenant_id, str(incident))
                if found is None:
                    raise HTTPException(404, "incident not found")
                form = found
        return page(
            "silences.html",
            who=who,
            now=now,
            section="silences",
            rows=shown,
            form=form,
            kinds=silence_page.KINDS,
            durations=silence_page.DURATIONS,
            can_act=supervises(who),
        )

    @console.get("/oncall")
    async def on_call(who: ConsoleUser) -> HTMLResponse:
        now = clock.now()
        async with sessions() as session:
            shown = await oncall_page.rows(session, config, who.tenant_id, who.subject, now)
        return page(
            "oncall.html",
            who=who,
            now=now,
            section="oncall",
            rows=shown,
            can_assign=supervises(who),
        )

    return console
