"""A generic JSON webhook (also fits Slack-style incoming webhooks behind a relay)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from attune_escalation.notify import IDEMPOTENCY_HEADER, NotifyError

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class WebhookNotifier:
    def __init__(self, url: str, *, client: httpx.AsyncClient, index: int = 0) -> None:
        self.url = url
        self.client = client
        self.channel = f"webhook:{index}"

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        body = {"type": "attune.incident", **payload, "idempotency_key": idempotency_key}
        try:
            response = await self.client.post(
                self.url, json=body, headers={IDEMPOTENCY_HEADER: idempotency_key}
            )
        except httpx.TimeoutException as exc:
            raise NotifyError("timeout", retryable=True) from exc
        except httpx.TransportError as exc:
            raise NotifyError(f"transport:{type(exc).__name__}", retryable=True) from exc
        if response.is_success:
            return
        raise NotifyError(
            f"http_{response.status_code}", retryable=response.status_code in RETRYABLE_STATUS
        )
