"""Structured JSON logs. Conversation text never reaches a log line."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import PurePath
from types import TracebackType
from typing import Any, TextIO
from uuid import UUID

import structlog

# Fields that could hold client or AI text, a request body or a record's payload. A safety net:
# call sites log ids and scores only.
TEXT_FIELDS = frozenset(
    {
        "text",
        "excerpt",
        "payload",
        "body",
        "content",
        "utterance",
        "message_text",
        "note",
        "request_body",
        "raw",
        "data",
        "input",
        "input_value",
        "locals",
    }
)
REDACTED = "[redacted]"
_MAX_NESTING = 8  # nested values deeper than this are dropped whole
# Values rendered as they are: none of them can carry text of their own.
_PLAIN = (str, int, float, bool, type(None), UUID, datetime, date, timedelta, Enum, PurePath)


def redact_text(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop anything that can carry conversation text or a request body.

    Text-like fields anywhere in the event (nested too), bytes, exception objects (their message
    can quote input), and tracebacks: an exception is logged as its type and frames only, never
    its message or locals, and its message is cut out of the event line that repeats it.
    """
    event_dict.pop("color_message", None)  # uvicorn's ANSI duplicate of the message
    exc = _exception(event_dict.pop("exc_info", None))
    if exc is not None:
        event_dict["exception"] = _frames_only(exc)
        message = str(exc)
        event = event_dict.get("event")
        if message and isinstance(event, str) and message in event:
            event_dict["event"] = event.replace(message, REDACTED)
    for key, value in list(event_dict.items()):
        if key == "exception" and exc is not None:
            continue
        event_dict[key] = REDACTED if _is_text_field(key) else _clean(value, 0)
    return event_dict


def _is_text_field(key: object) -> bool:
    return isinstance(key, str) and key.lower() in TEXT_FIELDS


def _clean(value: Any, depth: int) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if depth >= _MAX_NESTING:
        return REDACTED
    if isinstance(value, BaseException):
        return type(value).__name__
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[{len(value)} bytes]"
    if isinstance(value, Mapping):
        return {
            k: REDACTED if _is_text_field(k) else _clean(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    # Any other object would be rendered through its repr, which can carry its fields.
    return f"<{type(value).__name__}>"


def _exception(exc_info: Any) -> BaseException | None:
    if exc_info is None or exc_info is False:
        return None
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1] if isinstance(exc_info[1], BaseException) else None
    return sys.exc_info()[1]  # exc_info=True


def _frames_only(exc: BaseException) -> str:
    """A traceback with exception types and frames, without messages, source or locals."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(_one(current, current.__traceback__))
        current = current.__cause__ or current.__context__
    return "\n\nwhile handling the one above:\n\n".join(reversed(parts))


def _one(exc: BaseException, tb: TracebackType | None) -> str:
    frames = [
        f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in traceback.extract_tb(tb)
    ]
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return "\n".join(["Traceback (most recent call last):", *frames, f"{kind} (message withheld)"])


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        # Redaction last before rendering, so nothing added earlier escapes it.
        processors=[*shared, redact_text, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Library logs (uvicorn, aiokafka, FastStream) go through the same redaction and renderer.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_text,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
