"""HTTP intake: POST /v1/events with one event or a batch."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import structlog
from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic_core import to_json
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Receive, Scope, Send

from attune_auth.guard import Guard, Integrator
from attune_auth.principal import Principal
from attune_ingest.intake import Intake, IntakeResult
from attune_ingest.settings import IngestSettings
from attune_runtime import tracing
from attune_schemas import ConversationEvent, FieldError, InvalidMessage, load_json
from attune_schemas.json_limits import BODY

log = structlog.get_logger(__name__)

REF_TEMPLATE = "#/components/schemas/{model}"
PATH = "/v1/events"


class Rejected(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int | None = Field(description="Position in the batch; null when the whole body is.")
    event_id: str | None = Field(description="The event_id the rejected item carried, if any.")
    reason: str = Field(description="Short machine-friendly reason, e.g. 'invalid_event'.")
    errors: list[FieldError] = Field(description="Each field and why; never the value sent.")


class IntakeAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    detail: str
    accepted: list[UUID] = Field(description="Published now, acknowledged by Kafka.")
    duplicates: list[UUID] = Field(
        description="Already published within the dedup window (acknowledged before)."
    )
    rejected: list[Rejected]


def request_schema(max_batch: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's JSON Schema, and the definitions it refers to (for components)."""
    single = TypeAdapter(ConversationEvent).json_schema(ref_template=REF_TEMPLATE)
    defs = single.pop("$defs", {})
    schema = {"anyOf": [single, {"type": "array", "items": single, "maxItems": max_batch}]}
    return schema, defs


Answer = tuple[int, bytes, dict[str, str]]
JSON = "application/json"
_REASONS = {401: "unauthenticated", 403: "forbidden"}


def _whole_body(status: int, reason: str, detail: str) -> Answer:
    """The whole body is refused: one rejection with index null, never quoting the input."""
    rejection = {
        "index": None,
        "event_id": None,
        "reason": reason,
        "errors": [{"field": BODY, "reason": detail}],
    }
    body = {"detail": detail, "accepted": [], "duplicates": [], "rejected": [rejection]}
    return status, to_json(body), {}


def _body(result: IntakeResult, total: int) -> dict[str, Any]:
    detail = (
        f"{len(result.accepted)} accepted, {len(result.duplicates)} duplicate, "
        f"{len(result.rejected)} rejected of {total}"
    )
    return {
        "detail": detail,
        "accepted": [str(i) for i in result.accepted],
        "duplicates": [str(i) for i in result.duplicates],
        "rejected": [
            {
                "index": r.index,
                "event_id": r.event_id,
                "reason": r.reason,
                "errors": [{"field": e.field, "reason": e.reason} for e in r.errors],
            }
            for r in result.rejected
        ],
    }


def _claimed_tenant(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("tenant_id")
    return getattr(item, "tenant_id", None)


def _foreign_tenant(items: list[Any], tenant_id: str) -> Answer | None:
    """403 naming every event whose tenant_id is not the key's tenant; nothing is published."""
    foreign = [
        {
            "index": i,
            "event_id": None,
            "reason": "tenant_mismatch",
            "errors": [{"field": "tenant_id", "reason": "not the tenant of the API key"}],
        }
        for i, item in enumerate(items)
        if isinstance(_claimed_tenant(item), str) and _claimed_tenant(item) != tenant_id
    ]
    if not foreign:
        return None
    body = {
        "detail": f"{len(foreign)} of {len(items)} events claim a tenant other than the key's;"
        " nothing accepted",
        "accepted": [],
        "duplicates": [],
        "rejected": foreign,
    }
    return 403, to_json(body), {}


class IntakeEndpoint:
    """POST /v1/events: one answer for a raw body, served by the route and the fast path."""

    def __init__(self, intake: Intake, settings: IngestSettings, guard: Guard) -> None:
        self.intake = intake
        self.settings = settings
        self.limits = settings.body_limits()
        self.guard = guard

    async def authenticate(self, authorization: str | None) -> Principal | Answer:
        """The integrator behind an `Authorization: Bearer <key>` header, or the refusal."""
        scheme, _, credentials = (authorization or "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not credentials.strip():
                raise HTTPException(401, "authentication required: Authorization: Bearer <key>")
            principal = await self.guard.from_bearer(credentials.strip())
            if not principal.is_integrator:
                raise HTTPException(403, "sending events needs an integrator key, not a login")
        except HTTPException as exc:
            status, body, _ = _whole_body(exc.status_code, _REASONS[exc.status_code], exc.detail)
            return status, body, {"www-authenticate": "Bearer"} if status == 401 else {}
        except SQLAlchemyError as exc:  # the identity database is down or not migrated yet
            log.error("key_lookup_failed", error=type(exc).__name__)
            status, body, _ = _whole_body(503, "unavailable", "cannot check keys now; retry")
            return status, body, {"retry-after": "5"}
        return principal

    async def answer(
        self, raw: bytes | None, principal: Principal, *, traceparent: str | None = None
    ) -> Answer:
        """`raw` is None when the body was over max_body_bytes (and not read further).

        With a valid W3C `traceparent` from the integrator, its events continue that trace;
        without one, each accepted event starts a trace of its own (`out_record`).
        """
        with tracing.resumed(traceparent, f"POST {PATH}", tracing.SERVER):
            return await self._answer(raw, principal)

    async def _answer(self, raw: bytes | None, principal: Principal) -> Answer:
        settings = self.settings
        if raw is None:
            return _whole_body(413, "too_large", f"body exceeds {settings.max_body_bytes} bytes")
        events = self.intake.parse_valid(raw)
        if events is not None:
            items: list[Any] = events
        else:
            try:
                payload = load_json(raw, self.limits)
            except InvalidMessage as exc:
                self.intake.metrics.rejected.labels("http", exc.reason).inc()
                return _whole_body(422, exc.reason, exc.errors[0].reason)
            items = payload if isinstance(payload, list) else [payload]
        if len(items) > settings.max_batch_events:
            return _whole_body(
                413, "too_large", f"batch exceeds {settings.max_batch_events} events"
            )
        refused = _foreign_tenant(items, principal.tenant_id)
        if refused is not None:
            self.intake.metrics.rejected.labels("http", "tenant_mismatch").inc()
            log.warning("tenant_mismatch", key_id=principal.subject, events=len(items))
            return refused
        try:
            result = await self.intake.submit(items, channel="http", events=events)
        except KafkaError as exc:
            log.error("publish_failed", error=type(exc).__name__, events=len(items))
            body = {
                "detail": "event bus did not acknowledge; retry",
                "accepted": [],
                "duplicates": [],
                "rejected": [],
            }
            return 503, to_json(body), {"retry-after": "5"}
        return (422 if result.rejected else 202), to_json(_body(result, len(items))), {}


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` (nothing more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def router(endpoint: IntakeEndpoint, schema: dict[str, Any]) -> APIRouter:
    """The documented route; POST /v1/events is normally answered by `serve_intake` first."""
    api = APIRouter()
    answers: dict[int | str, dict[str, Any]] = {
        202: {"model": IntakeAnswer, "description": "All events accepted or duplicates."},
        413: {"model": IntakeAnswer, "description": "Body or batch too large; nothing accepted."},
        422: {
            "model": IntakeAnswer,
            "description": "The body, or at least one event, rejected: each rejection names"
            " its index, field and reason; the valid events of a batch are accepted and listed.",
        },
        401: {
            "model": IntakeAnswer,
            "description": "No integrator key, or an unknown or revoked one.",
        },
        403: {
            "model": IntakeAnswer,
            "description": "A user login instead of an integrator key, or events that claim"
            " a tenant other than the key's (each named by index; nothing accepted).",
        },
        503: {
            "model": IntakeAnswer,
            "description": "Kafka did not acknowledge every event, or the key could not be"
            " checked (identity database unavailable): retry the request; events that were"
            " acknowledged are answered as duplicates.",
        },
    }

    @api.post(
        PATH,
        status_code=202,
        summary="Send one conversation event or a batch",
        response_class=Response,
        openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": schema}}}},
        responses=answers,
    )
    async def post_events(request: Request, principal: Integrator) -> Response:
        raw = await _read_body(request, endpoint.settings.max_body_bytes)
        traceparent = request.headers.get(tracing.TRACEPARENT)
        status, body, headers = await endpoint.answer(raw, principal, traceparent=traceparent)
        return Response(body, status_code=status, media_type=JSON, headers=headers)

    return api


_READ_HEADERS = frozenset({b"authorization", tracing.TRACEPARENT.encode()})


def is_intake(scope: Scope) -> bool:
    return bool(scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH)


async def serve_intake(
    endpoint: IntakeEndpoint, scope: Scope, receive: Receive, send: Send
) -> None:
    """POST /v1/events straight on ASGI, ahead of FastAPI's middleware and routing.

    The intake is the one hot path, and FastAPI's per-request layers cost about as much as
    validating and publishing an event (make bench-ingest). The answer is the documented
    route's; an unexpected error is a bare 500 that, like its log line, carries no input.
    """
    try:
        headers_in = {k: v for k, v in scope["headers"] if k in _READ_HEADERS}
        # Authenticated before the body is read: an unknown caller costs no parsing.
        authorization = headers_in.get(b"authorization", b"").decode("latin-1") or None
        who = await endpoint.authenticate(authorization)
        if isinstance(who, Principal):
            raw = await _receive_body(scope, receive, endpoint.settings.max_body_bytes)
            if raw is False:
                return  # the client went away
            traceparent = headers_in.get(b"traceparent", b"").decode("latin-1") or None
            status, body, headers = await endpoint.answer(raw, who, traceparent=traceparent)
        else:
            status, body, headers = who
    except Exception as exc:
        log.error("intake_failed", error=type(exc).__name__)
        status, body, headers = 500, b'{"detail":"internal error"}', {}
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _receive_body(
    scope: Scope, receive: Receive, limit: int
) -> bytes | Literal[False] | None:
    """The body; None once it is known to exceed `limit`; False if the client disconnected."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
