"""The console channel: a line a clinician on duty (or the demo) reads in the terminal."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

log = structlog.get_logger(__name__)

_ICON = {"critical": "!!!", "high": "!! ", "warning": "!  "}


class ConsoleNotifier:
    channel = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        severity = str(payload.get("severity", "warning"))
        detail = payload.get("crisis_categories") or payload.get("markers") or []
        kind = str(payload.get("alert_kind"))
        if kind == "crisis" and severity != "critical":
            kind = "possible crisis"  # the model's suspicion, for review; the AI was not paused
        line = (
            f"[ATTUNE {_ICON.get(severity, '   ')}{severity.upper()}] {kind} "
            f"({payload.get('reason')}) conversation={payload.get('conversation_id')} "
            f"signals={','.join(detail)} risk={payload.get('risk')} -> {payload.get('url')} "
            f"key={idempotency_key}"
        )
        print(line, file=self.stream, flush=True)
