"""A Slack-compatible incoming webhook: a Block Kit message naming severity, kind, how long the
incident has waited and a link. Never conversation text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from attune_escalation.notify import IDEMPOTENCY_HEADER, signals
from attune_escalation.notify.webhook import post_json
from attune_runtime.clock import Clock

_EMOJI = {"critical": ":rotating_light:", "high": ":warning:", "warning": ":large_yellow_circle:"}
_HEADLINE = {
    "opened": "needs a clinician",
    "escalated": "still unacknowledged: escalated",
    "severity": "severity raised",
    "crisis": "new crisis evidence",
    "update": "new signals",
    "renotify": "acknowledged but not resolved",
    "reassigned": "reassigned",
    "resolved": "resolved",
}


def waited(opened_at: str, now: datetime) -> str:
    seconds = max(0, int((now - datetime.fromisoformat(opened_at)).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"


def blocks(payload: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    severity = str(payload.get("severity"))
    kind = str(payload.get("alert_kind") or ",".join(payload.get("kinds", [])))
    reason = str(payload.get("reason"))
    headline = f"{severity.upper()} {kind}: {_HEADLINE.get(reason, reason)}"
    who = ", ".join(payload.get("recipients") or []) or "on-call"
    fields = [
        f"*Severity*\n{severity}",
        f"*Kind*\n{kind}",
        f"*Waiting*\n{waited(str(payload['opened_at']), now)}",
        f"*Paged*\n{who}" + (f" (tier {payload['tier']})" if payload.get("tier") else ""),
        f"*Signals*\n{', '.join(signals(payload)) or '-'}",
        f"*Conversation*\n`{payload.get('conversation_id')}`",
    ]
    return {
        "text": f"{_EMOJI.get(severity, '')} Attune: {headline}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"Attune: {headline}"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open incident"},
                        "url": str(payload.get("url")),
                        "style": "danger" if severity == "critical" else "primary",
                    }
                ],
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"incident `{payload.get('incident_id')}`"}
                ],
            },
        ],
    }


class SlackNotifier:
    def __init__(
        self, url: str, *, client: httpx.AsyncClient, clock: Clock, channel: str = "slack"
    ) -> None:
        self.url = url
        self.client = client
        self.clock = clock
        self.channel = channel

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        body = json.dumps(blocks(payload, self.clock.now())).encode()
        await post_json(self.client, self.url, body, {IDEMPOTENCY_HEADER: idempotency_key})
