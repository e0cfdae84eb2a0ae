"""The JSON webhook, signed: an HMAC-SHA256 of the timestamp and the exact body.

Headers: `X-Attune-Timestamp` (Unix seconds) and `X-Attune-Signature: v1=<hex>`, where the
hex digest is HMAC-SHA256(secret, f"{timestamp}.{body}"). A receiver recomputes it over the raw
body, compares in constant time and refuses a timestamp more than five minutes old (README).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from attune_escalation.notify import IDEMPOTENCY_HEADER, NotifyError
from attune_runtime import tracing
from attune_runtime.clock import Clock

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
TIMESTAMP_HEADER = "X-Attune-Timestamp"
SIGNATURE_HEADER = "X-Attune-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


async def post_json(
    client: httpx.AsyncClient, url: str, body: bytes, headers: Mapping[str, str]
) -> httpx.Response:
    """POST and classify what went wrong: network trouble and 429/5xx are worth a retry.

    Within a trace (the alert's that queued the notification) the request carries it on in
    a `traceparent` header, so a receiver that traces can join it.
    """
    sent = {"content-type": "application/json", **headers}
    traceparent = tracing.current()
    if traceparent is not None:
        sent[tracing.TRACEPARENT] = traceparent
    try:
        response = await client.post(url, content=body, headers=sent)
    except httpx.TimeoutException as exc:
        raise NotifyError("timeout", retryable=True) from exc
    except httpx.TransportError as exc:
        raise NotifyError(f"transport:{type(exc).__name__}", retryable=True) from exc
    if response.is_success:
        return response
    raise NotifyError(
        f"http_{response.status_code}", retryable=response.status_code in RETRYABLE_STATUS
    )


class WebhookNotifier:
    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient,
        channel: str = "webhook",
        secret: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.url = url
        self.client = client
        self.channel = channel
        self.secret = secret
        self.clock = clock

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        body = json.dumps(
            {"type": "attune.incident", **payload, "idempotency_key": idempotency_key},
            separators=(",", ":"),
        ).encode()
        headers = {IDEMPOTENCY_HEADER: idempotency_key}
        if self.secret is not None and self.clock is not None:
            timestamp = int(self.clock.now().timestamp())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = signature(self.secret, timestamp, body)
        await post_json(self.client, self.url, body, headers)
