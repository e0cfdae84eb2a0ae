"""Capture what the services' logging writes (the real JSON configuration) in a test."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from attune_runtime.logging import configure_logging


class CapturedLogs:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@contextmanager
def captured_logs(service: str = "test", level: str = "DEBUG") -> Iterator[CapturedLogs]:
    """configure_logging into a buffer; the previous configuration is restored afterwards."""
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    captured = CapturedLogs()
    configure_logging(service, level, stream=captured.stream)
    try:
        yield captured
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        root.handlers[:] = handlers
        root.setLevel(root_level)
