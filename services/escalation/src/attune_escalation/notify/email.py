"""Email over SMTP to the paged clinicians' addresses (or the channel's own list).

Subject and body carry severity, kind, who is paged and the link; never conversation text.
Connection trouble and 4xx replies are retryable; a 5xx refusal is not.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from attune_escalation.notify import IDEMPOTENCY_HEADER, NotifyError, signals

# What an email is not worth sending for (the pager and the console hear of those).
SKIP_REASONS = frozenset({"acknowledged"})


def message(
    payload: Mapping[str, Any], *, sender: str, to: list[str], idempotency_key: str
) -> EmailMessage:
    severity = str(payload.get("severity"))
    kind = payload.get("alert_kind") or ",".join(payload.get("kinds", []))
    reason = str(payload.get("reason"))
    msg = EmailMessage()
    msg["Subject"] = (
        f"[Attune {severity.upper()}] {kind} ({reason}): conversation {payload['conversation_id']}"
    )
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Message-ID"] = f"<{idempotency_key}@attune>"
    msg[IDEMPOTENCY_HEADER] = idempotency_key
    tier = f" (tier {payload['tier']})" if payload.get("tier") else ""
    msg.set_content(
        "\n".join(
            [
                f"Severity: {severity}",
                f"Kind: {kind}",
                f"Reason: {reason}{tier}",
                f"Paged: {', '.join(payload.get('recipients') or []) or 'on-call'}",
                f"Signals: {', '.join(signals(payload))}",
                f"Opened: {payload.get('opened_at')}",
                "",
                f"Open the incident: {payload.get('url')}",
            ]
        )
    )
    return msg


class EmailNotifier:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        addresses: Mapping[str, str],
        to: list[str],
        timeout: float,
        channel: str = "email",
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.addresses = addresses  # clinician id -> email
        self.to = to
        self.timeout = timeout
        self.channel = channel

    def recipients(self, payload: Mapping[str, Any]) -> list[str]:
        paged = [self.addresses[c] for c in payload.get("recipients") or [] if c in self.addresses]
        return paged or list(self.to)

    async def send(self, payload: Mapping[str, Any], *, idempotency_key: str) -> None:
        if payload.get("reason") in SKIP_REASONS:
            return
        to = self.recipients(payload)
        if not to:
            raise NotifyError("no_recipient_address", retryable=False)
        msg = message(payload, sender=self.sender, to=to, idempotency_key=idempotency_key)
        await asyncio.to_thread(self._deliver, msg)

    def _deliver(self, msg: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(f"smtp_{exc.smtp_code}", retryable=exc.smtp_code < 500) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifyError("smtp_recipients_refused", retryable=False) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(f"smtp:{type(exc).__name__}", retryable=True) from exc
