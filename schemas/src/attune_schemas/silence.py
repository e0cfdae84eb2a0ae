"""Silences (topic `silences`, compacted, keyed by silence id): the escalation service's API
creates and expires them; the router reads them all at start and follows the topic.

A silence mutes rupture and disengagement alerts that match every matcher it has while it is in
force. A crisis can never be silenced: `crisis_refusal` is the rule both sides apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from attune_schemas.alert import AlertKind, Severity
from attune_schemas.common import SCHEMA_VERSION, Contract, Identifier, UtcDatetime


class SilenceMatchers(Contract):
    """What a silence matches besides its tenant; a matcher left out matches anything."""

    conversation_id: Identifier | None = None
    kind: AlertKind | None = None
    severity: Severity | None = None


def crisis_refusal(m: SilenceMatchers) -> tuple[str, str] | None:
    """(field, reason) when these matchers could match a crisis alert, else None.

    Crisis alerts are `kind: crisis` with severity critical (explicit language) or high (the
    model's suspicion), so a silence must name a kind other than crisis, or a severity that
    no crisis alert has (warning).
    """
    if m.kind is AlertKind.CRISIS:
        return "kind", "a crisis can never be silenced"
    if m.severity is Severity.CRITICAL:
        return "severity", "critical alerts are crises and can never be silenced"
    if m.kind is None and m.severity is not Severity.WARNING:
        return "kind", (
            "name the kind to silence (rupture or disengagement): without it the silence"
            " could match a crisis alert"
        )
    return None


class Silence(Contract):
    type: Literal["silence"] = "silence"
    event_id: UUID = Field(description="Unique per version of the silence (created, expired).")
    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    silence_id: UUID = Field(description="The key on the topic: the newest version wins.")
    tenant_id: Identifier
    matchers: SilenceMatchers
    starts_at: UtcDatetime
    ends_at: UtcDatetime = Field(description="Expiring a silence brings this forward.")
    created_by: Identifier = Field(description="The user who created it (from their token).")
    created_at: UtcDatetime
    comment: Annotated[str, Field(max_length=500)]
    expired_by: Identifier | None = None

    def in_force(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def matches(
        self, *, tenant_id: str, conversation_id: str, kind: AlertKind, severity: Severity
    ) -> bool:
        m = self.matchers
        return (
            tenant_id == self.tenant_id
            and m.conversation_id in (None, conversation_id)
            and m.kind in (None, kind)
            and m.severity in (None, severity)
        )
