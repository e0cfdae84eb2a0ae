"""A PagerDuty Events API v2-compatible sender: trigger, acknowledge and resolve one alert per
incident, keyed by a stable `dedup_key` (the incident id), so the pager closes when Attune does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from attune_escalation.notify import IDEMPOTENCY_HEADER
from attune_escalation.notify.webhook import post_json

EVENTS_V2 = "https://events.pagerduty.com/v2/enqueue"
_SEVERITY = {"critical": "critical", "high": "error", "warning": "warning"}
_ACTION = {"resolved": "resolve", "acknowledged": "acknowledge"}


def event(payload: Mapping[str, Any], *, routing_key: str) -> dict[str, Any]:
    action = _ACTION.get(str(payload.get("reason")), "trigger")
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": f"attune-{payload['incident_id']}",
    }
    if action == "trigger":
        kind = payload.get("alert_kind") or ",".join(payload.get("kinds", []))
        body["payload"] = {
            "summary": f"Attune {payload['severity']} {kind}: conversation "
            f"{payload['conversation_id']} needs a clinician",
            "source": f"attune/{payload['tenant_id']}",
            "severity": _SEVERITY.get(str(payload["severity"]), "warning"),
            "component": "escalation",
            "group": str(payload["tenant_id"]),
            "class": str(kind),
            "custom_details": {
                k: payload.get(k)
                for k in ("incident_id", "reason", "tier", "recipients", "kinds", "markers", "risk")
            },
        }
        body["links"] = [{"href": payload["url"], "text": "Open incident"}]
    return body


class PagerDutyNotifier:
    def __init__(
        self,
        routing_key: str,
        *,
        client: httpx.AsyncClient,
        url: str = EVENTS_V2,
        channel: str = "pagerduty",
    ) -> None:
        self.routing_key = routing_key
        self.client = client
        self.url = url
        self.channel = channel

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        body = json.dumps(event(payload, routing_key=self.routing_key)).encode()
        await post_json(self.client, self.url, body, {IDEMPOTENCY_HEADER: idempotency_key})
