"""HTTP intake: POST /v1/events with one event or a batch."""

from __future__ import annotations

import json
from typing import Any

import structlog
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from attune_ingest.intake import Intake, IntakeResult
from attune_ingest.settings import IngestSettings
from attune_schemas import ConversationEvent

log = structlog.get_logger(__name__)

_request_schema = TypeAdapter(ConversationEvent | list[ConversationEvent]).json_schema(
    ref_template="#/components/schemas/{model}"
)


def _error(status: int, field: str, reason: str) -> JSONResponse:
    return JSONResponse(
        {
            "detail": reason,
            "accepted": [],
            "duplicates": [],
            "rejected": [
                {"index": None, "event_id": None, "errors": [{"field": field, "reason": reason}]}
            ],
        },
        status_code=status,
    )


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
                "errors": [e.model_dump() for e in r.errors],
            }
            for r in result.rejected
        ],
    }


def router(intake: Intake, settings: IngestSettings) -> APIRouter:
    api = APIRouter()

    @api.post(
        "/v1/events",
        status_code=202,
        summary="Send one conversation event or a batch",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _request_schema}},
            }
        },
        responses={
            202: {"description": "All events accepted (duplicates of recent events are listed)."},
            413: {"description": "Body or batch too large."},
            422: {
                "description": "At least one event rejected: the body lists index, field"
                " and reason, and the ids that were accepted."
            },
            503: {"description": "Kafka did not acknowledge; nothing was accepted, retry."},
        },
    )
    async def post_events(request: Request) -> JSONResponse:
        raw = await request.body()
        if len(raw) > settings.max_body_bytes:
            return _error(413, "(body)", f"body exceeds {settings.max_body_bytes} bytes")
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(422, "(body)", "body is not valid JSON")
        items = payload if isinstance(payload, list) else [payload]
        if not items:
            return _error(422, "(body)", "batch is empty")
        if len(items) > settings.max_batch_events:
            return _error(413, "(body)", f"batch exceeds {settings.max_batch_events} events")
        try:
            result = await intake.submit(items, channel="http")
        except KafkaError as exc:
            log.error("publish_failed", error=type(exc).__name__, events=len(items))
            return JSONResponse(
                {"detail": "event bus unavailable; nothing was accepted, retry", "accepted": []},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        status = 422 if result.rejected else 202
        return JSONResponse(_body(result, len(items)), status_code=status)

    return api
