"""Escalation policies (YAML, validated by pydantic): who is paged, in what order, how soon.

A policy applies to tenants and severities; the first policy that matches an incident wins,
and the file must end every severity with a catch-all (`tenants: ["*"]`) so no incident is
left without a chain. A policy is an ordered list of tiers; each tier notifies the on-call of
a schedule, a named clinician or a team (round-robin) and waits `ack_deadline_seconds` for an
acknowledgement before the next tier is paged. The chain runs `repeat` times.

When an incident opens, its policy is copied onto it as a `Chain`: editing the file later
changes new incidents only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from attune_escalation.schedules import Schedule
from attune_schemas import Severity
from attune_schemas.common import Identifier

Seconds = Annotated[float, Field(gt=0)]
ANY_TENANT = "*"


class Target(BaseModel):
    """Exactly one of: the on-call of a schedule, a named clinician, a team (round-robin)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: str | None = None
    clinician: Identifier | None = None
    team: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if sum(v is not None for v in (self.schedule, self.clinician, self.team)) != 1:
            raise ValueError("a target names exactly one of schedule, clinician or team")
        return self


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    notify: list[Target] = Field(default_factory=list)
    ack_deadline_seconds: Seconds = 300.0


class Chain(BaseModel):
    """What an incident escalates through; copied onto the incident when it opens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str
    tiers: list[Tier] = Field(min_length=1)
    repeat: int = Field(default=1, ge=1)
    renotify_seconds: Seconds = 900.0
    # Channel names (see the channel configuration); None: every configured channel.
    channels: list[str] | None = None


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    tenants: list[Identifier | str] = Field(default_factory=lambda: [ANY_TENANT], min_length=1)
    severities: list[Severity] = Field(default_factory=lambda: list(Severity), min_length=1)
    tiers: list[Tier] = Field(min_length=1)
    repeat: int = Field(default=1, ge=1)
    # An acknowledged incident nobody resolves is raised again this often.
    renotify_seconds: Seconds = 900.0
    channels: list[str] | None = None

    def matches(self, tenant_id: str, severity: Severity) -> bool:
        tenant_ok = ANY_TENANT in self.tenants or tenant_id in self.tenants
        return tenant_ok and severity in self.severities

    def chain(self) -> Chain:
        return Chain(
            policy=self.name,
            tiers=self.tiers,
            repeat=self.repeat,
            renotify_seconds=self.renotify_seconds,
            channels=self.channels,
        )


class Clinician(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = None


class EscalationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clinicians: dict[Identifier, Clinician] = Field(default_factory=dict)
    teams: dict[str, list[Identifier]] = Field(default_factory=dict)
    schedules: dict[str, Schedule] = Field(default_factory=dict)
    policies: list[Policy] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> EscalationConfig:
        for policy in self.policies:
            for tier in policy.tiers:
                for target in tier.notify:
                    if target.schedule is not None and target.schedule not in self.schedules:
                        raise ValueError(
                            f"policy {policy.name}: unknown schedule {target.schedule}"
                        )
                    if target.team is not None and not self.teams.get(target.team):
                        raise ValueError(
                            f"policy {policy.name}: unknown or empty team {target.team}"
                        )
        covered = {s for p in self.policies if ANY_TENANT in p.tenants for s in p.severities}
        missing = [s.value for s in Severity if s not in covered]
        if missing:
            raise ValueError(f"no catch-all policy (tenants: ['*']) for severities {missing}")
        return self

    def chain_for(self, tenant_id: str, severity: Severity) -> Chain:
        return next(p for p in self.policies if p.matches(tenant_id, severity)).chain()

    def schedules_for(self, tenant_id: str) -> list[str]:
        """The schedules that the tenant's incidents may page, in the file's order."""
        named = {
            target.schedule
            for severity in Severity
            for tier in self.chain_for(tenant_id, severity).tiers
            for target in tier.notify
            if target.schedule is not None
        }
        return [name for name in self.schedules if name in named]

    def channel_names(self) -> Iterable[str]:
        return {c for p in self.policies for c in p.channels or ()}


def load(path: Path) -> EscalationConfig:
    return EscalationConfig.model_validate(yaml.safe_load(path.read_text()))


def default_config(*, ack_deadline_seconds: float, renotify_seconds: float) -> EscalationConfig:
    """Without a policy file: every channel, paged again at each deadline, three times."""
    return EscalationConfig(
        policies=[
            Policy(
                name="default",
                tiers=[Tier(ack_deadline_seconds=ack_deadline_seconds)],
                repeat=3,
                renotify_seconds=renotify_seconds,
            )
        ]
    )
