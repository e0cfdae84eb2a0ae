"""Logs never carry conversation text or a request body, whatever a call site or library logs."""

from __future__ import annotations

import logging

import pytest
import structlog
from pydantic import BaseModel

from attune_runtime.logging import REDACTED, TEXT_FIELDS, redact_text
from tests.logs import captured_logs

SECRET = "I have been thinking about ending it"


def test_text_fields_are_redacted_at_any_depth() -> None:
    out = redact_text(
        None,
        "error",
        {
            "event": "request_failed",
            "request_id": "r-1",
            "request": {"headers": {"x": "1"}, "body": SECRET, "json": [{"text": SECRET}]},
        },
    )

    assert out == {
        "event": "request_failed",
        "request_id": "r-1",
        "request": {"headers": {"x": "1"}, "body": REDACTED, "json": [{"text": REDACTED}]},
    }


@pytest.mark.parametrize("name", sorted(TEXT_FIELDS | {"Body", "REQUEST_BODY"}))
def test_every_body_like_field_is_redacted_whatever_its_case(name: str) -> None:
    assert redact_text(None, "error", {"event": "x", name: {"a": SECRET}})[name] == REDACTED


def test_bytes_exceptions_and_objects_are_logged_by_kind_only() -> None:
    class Note(BaseModel):
        note: str

    out = redact_text(
        None,
        "error",
        {
            "event": "x",
            "raw_value": SECRET.encode(),
            "error": ValueError(SECRET),
            "model": Note(note=SECRET),
            "ids": ("a", 1),
        },
    )

    assert out == {
        "event": "x",
        "raw_value": f"[{len(SECRET.encode())} bytes]",
        "error": "ValueError",
        "model": "<Note>",
        "ids": ["a", 1],
    }


def boom() -> None:
    try:
        raise KeyError(SECRET)
    except KeyError as exc:
        raise ValueError(f"could not handle {SECRET!r}") from exc


def test_a_structlog_exception_keeps_types_and_frames_but_no_message() -> None:
    with captured_logs() as logs:
        try:
            boom()
        except ValueError:
            structlog.get_logger("t").exception("intake_failed", body=SECRET)

    assert SECRET not in logs.text
    [line] = logs.lines
    assert line["event"] == "intake_failed" and line["body"] == REDACTED
    assert "builtins.KeyError (message withheld)" in line["exception"]
    assert "builtins.ValueError (message withheld)" in line["exception"]
    assert "in boom" in line["exception"]


def test_a_library_traceback_with_the_message_in_its_text_is_redacted() -> None:
    # The broker (FastStream) logs f"{type}: {exc}" with exc_info; uvicorn its traceback.
    with captured_logs() as logs:
        try:
            boom()
        except ValueError as exc:
            logging.getLogger("attune.test.broker").error("ValueError: %s", exc, exc_info=exc)
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")

    assert SECRET not in logs.text
    first, second = logs.lines
    assert first["event"] == f"ValueError: {REDACTED}"
    assert second["event"] == "Exception in ASGI application"
    assert "ValueError (message withheld)" in second["exception"]


def test_library_extras_are_redacted_too() -> None:
    with captured_logs() as logs:
        logging.getLogger("some.library").warning("bad request", extra={"body": SECRET})

    assert SECRET not in logs.text
    assert logs.lines[0]["body"] == REDACTED


def test_ids_and_numbers_pass_through() -> None:
    with captured_logs() as logs:
        structlog.get_logger("t").info(
            "event_accepted", event_id="e-1", conversation_id="c-1", events=3
        )

    [line] = logs.lines
    assert {k: line[k] for k in ("event", "event_id", "conversation_id", "events", "service")} == {
        "event": "event_accepted",
        "event_id": "e-1",
        "conversation_id": "c-1",
        "events": 3,
        "service": "test",
    }
