"""What routes an incident: its policy's chain, the named channels, the grouping intervals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from attune_escalation.db import Incident
from attune_escalation.policies import Chain, EscalationConfig
from attune_schemas import Severity


@dataclass(frozen=True)
class Routing:
    config: EscalationConfig
    channels: tuple[str, ...]  # every configured channel, by name
    public_url: str
    # The first page of a non-crisis incident waits this long for what arrives with it;
    # later additions are sent at most once per group interval. A crisis never waits.
    group_wait: timedelta = timedelta(seconds=5)
    group_interval: timedelta = timedelta(seconds=60)

    def chain_for(self, tenant_id: str, severity: Severity) -> Chain:
        return self.config.chain_for(tenant_id, severity)

    def chain_of(self, incident: Incident) -> Chain:
        """The chain copied onto the incident when it opened (today's policy if it has none)."""
        if incident.chain is None:
            return self.chain_for(incident.tenant_id, Severity(incident.severity))
        return Chain.model_validate(incident.chain)

    def channels_for(self, incident: Incident) -> list[str]:
        named = self.chain_of(incident).channels
        return list(self.channels) if named is None else list(named)
