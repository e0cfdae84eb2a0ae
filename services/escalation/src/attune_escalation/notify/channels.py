"""Channels by name, from configuration (`ATTUNE_ESCALATION_CHANNELS`, JSON):

    {"clinic-a-pager": {"type": "pagerduty", "routing_key": "…"},
     "clinic-a-slack": {"type": "slack", "url": "https://hooks.slack.com/…"},
     "clinic-a-email": {"type": "email", "host": "smtp.clinic-a.example", "sender": "attune@…"},
     "integrator":     {"type": "webhook", "url": "https://…", "secret": "…"}}

Policies name the channels each tenant and severity uses.
"""

from __future__ import annotations

from typing import Annotated, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from attune_escalation.notify import Notifier
from attune_escalation.notify.console import ConsoleNotifier
from attune_escalation.notify.email import EmailNotifier
from attune_escalation.notify.pagerduty import EVENTS_V2, PagerDutyNotifier
from attune_escalation.notify.slack import SlackNotifier
from attune_escalation.notify.webhook import WebhookNotifier
from attune_runtime.clock import Clock


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookChannel(_Channel):
    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = None  # signs every request (HMAC-SHA256)


class SlackChannel(_Channel):
    type: Literal["slack"]
    url: str


class EmailChannel(_Channel):
    type: Literal["email"]
    host: str = "127.0.0.1"
    port: int = 25
    sender: str
    # Used when none of the paged clinicians has an address in the policy file.
    to: list[str] = Field(default_factory=list)


class PagerDutyChannel(_Channel):
    type: Literal["pagerduty"]
    routing_key: SecretStr
    url: str = EVENTS_V2


class ConsoleChannel(_Channel):
    type: Literal["console"]


ChannelConfig = Annotated[
    WebhookChannel | SlackChannel | EmailChannel | PagerDutyChannel | ConsoleChannel,
    Field(discriminator="type"),
]


def build_notifiers(
    channels: dict[str, ChannelConfig],
    *,
    client: httpx.AsyncClient,
    clock: Clock,
    addresses: dict[str, str],
    timeout: float,
) -> list[Notifier]:
    out: list[Notifier] = []
    for name, c in channels.items():
        if isinstance(c, WebhookChannel):
            secret = c.secret.get_secret_value() if c.secret else None
            out.append(
                WebhookNotifier(c.url, client=client, channel=name, secret=secret, clock=clock)
            )
        elif isinstance(c, SlackChannel):
            out.append(SlackNotifier(c.url, client=client, clock=clock, channel=name))
        elif isinstance(c, EmailChannel):
            out.append(
                EmailNotifier(
                    host=c.host,
                    port=c.port,
                    sender=c.sender,
                    addresses=addresses,
                    to=c.to,
                    timeout=timeout,
                    channel=name,
                )
            )
        elif isinstance(c, PagerDutyChannel):
            key = c.routing_key.get_secret_value()
            out.append(PagerDutyNotifier(key, client=client, url=c.url, channel=name))
        else:
            out.append(ConsoleNotifier(channel=name))
    return out
