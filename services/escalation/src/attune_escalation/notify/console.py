"""The console channel: a line a clinician on duty (or the demo) reads in the terminal."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

from attune_escalation.notify import signals

log = structlog.get_logger(__name__)

_ICON = {"critical": "!!!", "high": "!! ", "warning": "!  "}


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None, *, channel: str = "console") -> None:
        self.stream = stream or sys.stdout
        self.channel = channel

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        severity = str(payload.get("severity", "warning"))
        detail = signals(payload)
        kind = str(payload.get("alert_kind"))
        if kind == "crisis" and severity != "critical":
            kind = "possible crisis"  # the model's suspicion, for review; the AI was not paused
        line = (
            f"[ATTUNE {_ICON.get(severity, '   ')}{severity.upper()}] {kind} "
            f"({payload.get('reason')}) conversation={payload.get('conversation_id')} "
            f"signals={','.join(detail)} risk={payload.get('risk')} "
            f"{_paged(payload)}-> {payload.get('url')} "
            f"key={idempotency_key}"
        )
        print(line, file=self.stream, flush=True)


def _paged(payload: Mapping[str, Any]) -> str:
    who = payload.get("recipients")
    if not who:
        return ""
    tier = f" tier={payload['tier']}" if payload.get("tier") else ""
    return f"paged={','.join(who)}{tier} "
