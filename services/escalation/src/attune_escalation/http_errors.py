"""Every error answer of the API: one documented shape, fields and reasons, never the input.

- Bodies are read with a size limit and decoded by `json_body` (no NaN, no huge numbers, no deep
  nesting, no lone surrogates), through `StrictJsonRoute`.
- Validation errors name the field and say why; they never carry the value sent, so an answer
  can always be rendered (pydantic's default 422 echoes the input, and a lone surrogate in it
  could not be encoded: a 500).
- An unexpected exception is answered 500 here and not re-raised: the server would otherwise
  log a traceback whose messages can hold SQL parameters (a clinician's note), and close the
  keep-alive connection.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Collection, Coroutine, Iterable, Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attune_escalation import json_body
from attune_schemas import FieldError

log = structlog.get_logger(__name__)

_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})

# pydantic error types whose message is built from the contract alone, never from the input.
_SAFE_MESSAGES = frozenset(
    {
        "missing", "string_type", "string_too_short", "string_too_long",
        "string_pattern_mismatch", "literal_error", "enum", "int_type", "int_parsing",
        "int_parsing_size", "int_from_float", "float_type", "float_parsing", "finite_number",
        "bool_type", "bool_parsing", "greater_than", "greater_than_equal", "less_than",
        "less_than_equal", "model_type", "model_attributes_type", "dict_type", "list_type",
        "too_short", "too_long", "uuid_type", "uuid_version", "value_error",
    }
)  # fmt: skip
_REASONS = {
    "uuid_parsing": "Input should be a valid UUID",  # pydantic's message quotes a character
    "extra_forbidden": "unknown field: not part of the contract",
}


class ErrorAnswer(BaseModel):
    """The body of every 4xx/5xx answer."""

    detail: str = Field(description="What went wrong, in a sentence.")
    errors: list[FieldError] = Field(
        default_factory=list,
        description="Each field at fault and why; never the value that was sent.",
    )


_DESCRIPTIONS = {
    400: "The body is not JSON (a syntax error); `errors` says where.",
    401: "No valid token or session (see POST /v1/auth/token).",
    403: "The caller's role may not do this.",
    404: "No such incident (or silence) in the caller's tenant.",
    409: "The action conflicts with the incident's state (already resolved, or resolved with"
    " another outcome).",
    413: f"The body is larger than {json_body.MAX_BODY_BYTES} bytes.",
    422: "The request breaks the contract: `errors` names each field and the reason (NaN,"
    " Infinity, numbers over 64 characters, nesting over 32 levels and lone surrogates"
    " included), never the value sent.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error codes, all with the ErrorAnswer schema."""
    return {code: {"model": ErrorAnswer, "description": _DESCRIPTIONS[code]} for code in codes}


class BodyRejected(StarletteHTTPException):
    """Raised while reading the body; FastAPI lets HTTP exceptions through from there."""

    def __init__(self, error: json_body.BodyError) -> None:
        super().__init__(error.status, error.detail)
        self.offences = error.offences


class StrictJsonRequest(Request):
    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > json_body.MAX_BODY_BYTES:
                raise BodyRejected(json_body.too_large())
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > json_body.MAX_BODY_BYTES:
                    raise BodyRejected(json_body.too_large())
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = json_body.decode(await self.body())
            except json_body.BodyError as exc:
                raise BodyRejected(exc) from None
        return self._json


class StrictJsonRoute(APIRoute):
    """An APIRoute whose handler reads the body through StrictJsonRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


def field_name(loc: Iterable[str | int], known: Collection[str]) -> str:
    """A dotted field path; a key the API does not declare is shown as `*`, not echoed."""
    parts = []
    for i, segment in enumerate(loc):
        if isinstance(segment, int):
            parts.append(str(segment))
        elif (i == 0 and segment in _SOURCES) or segment in known:
            parts.append(segment)
        else:
            parts.append("*")
    return ".".join(parts) or "body"


def field_errors(errors: Iterable[Mapping[str, Any]], known: Collection[str]) -> list[FieldError]:
    out = []
    for err in errors:
        kind = str(err.get("type", ""))
        loc = tuple(err.get("loc", ()))
        if kind == "extra_forbidden":
            loc = loc[:-1]  # the unknown key itself is input
        if kind in _REASONS:
            reason = _REASONS[kind]
        elif kind in _SAFE_MESSAGES:
            reason = str(err.get("msg", kind))
        else:
            reason = f"invalid value ({kind})"
        out.append(FieldError(field=field_name(loc, known), reason=reason))
    return out


def _answer(status: int, detail: str, errors: list[FieldError]) -> JSONResponse:
    body = ErrorAnswer(detail=detail, errors=errors)
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def install(app: FastAPI, *, known_fields: Collection[str]) -> None:
    """Register the error answers and the last-resort 500 on the app."""

    async def invalid(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _answer(422, "invalid request", field_errors(exc.errors(), known_fields))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            exc.headers = {**(exc.headers or {}), "Allow": _allowed(app, request)}
        errors = []
        if isinstance(exc, BodyRejected):
            errors = [
                FieldError(field=field_name(o.loc, known_fields), reason=o.reason)
                for o in exc.offences
            ]
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        response = _answer(exc.status_code, detail, errors)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_middleware(ContainErrors)


def _allowed(app: FastAPI, request: Request) -> str:
    """Every method some route serves at this path: Starlette names only the first route's."""
    methods: set[str] = set()
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(request.url.path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


class ContainErrors:
    """ASGI middleware: an exception becomes a plain 500 and a log line of types and places."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            # Only the exception's type and where it was raised: its message, like a traceback,
            # may quote SQL parameters or the body.
            log.error(
                "request_failed",
                method=scope.get("method"),
                route=getattr(scope.get("route"), "path", None),
                error=type(exc).__name__,
                at=[f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in _frames(exc)],
            )
            if not started:
                await _answer(500, "internal error", [])(scope, receive, send)


def _frames(exc: BaseException, keep: int = 6) -> list[traceback.FrameSummary]:
    return list(traceback.extract_tb(exc.__traceback__))[-keep:]
