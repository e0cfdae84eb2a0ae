"""Each tenant's crisis protocol: what its clinicians do, and whom they call, in a crisis.

YAML (`ATTUNE_ESCALATION_CRISIS_PROTOCOLS_FILE`), validated at start:

    default:            # any tenant without its own
      steps: ["Stay with the client ...", ...]
      numbers: [{label: "Emergency services", number: "112"}]
    tenants:
      demo-clinic: {...same shape...}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field

Short = Annotated[str, Field(min_length=1, max_length=200)]


class Number(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: Short
    number: Annotated[str, Field(min_length=1, max_length=40)]


class Protocol(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    steps: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=1000)], ...],
                     Field(min_length=1)]  # fmt: skip
    numbers: tuple[Number, ...] = ()


class Protocols(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    default: Protocol
    tenants: dict[str, Protocol] = Field(default_factory=dict)

    def of(self, tenant_id: str) -> Protocol:
        return self.tenants.get(tenant_id, self.default)


# Without a file: the steps every service should have, and a reminder that numbers are local.
BUILT_IN = Protocols(
    default=Protocol(
        steps=(
            "Join the conversation now: the AI is paused while you are with the client.",
            "Ask directly about safety: thoughts of suicide, a plan, means, and timing.",
            "If there is immediate danger, contact emergency services with the client's "
            "location, and stay in the conversation.",
            "Agree a safety plan and who the client will contact next; record the outcome.",
        ),
        numbers=(
            Number(label="Emergency services (set your tenant's local numbers)", number="112"),
        ),
    )
)


def load(path: Path | None) -> Protocols:
    if path is None:
        return BUILT_IN
    return Protocols.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
