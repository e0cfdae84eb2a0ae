"""The alert policy as a pipeline of stages, each with one signature: `stage(evaluation)`.

An assessment flows through dedup → crisis → thresholds → inhibition → silences → fire.
The first stages propose alerts (`Proposal`), the muting stages mark the proposals a `Muter`
mutes (inhibition holds them back; a silence lets them out marked, to be recorded and not
paged), and `fire` turns them into state changes and alerts, in proposal order.
A stage that settles the assessment (a duplicate) sets `done` and the rest do not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from attune_router.state import ConversationState, Decision, Episode, Key
from attune_runtime.event_time import Watermarks
from attune_schemas import Alert, AlertKind, Evidence, RuptureAssessment, Severity


class Change(StrEnum):
    CRISIS = "crisis"  # a crisis alert: never held back, never silenced
    OPEN = "open"  # a new episode fires
    RAISE = "raise"  # an open episode fires again at a higher severity
    RESOLVE = "resolve"  # an open episode calmed down
    UNMUTE = "unmute"  # an open episode that went out silenced, once no silence mutes it


@dataclass
class Proposal:
    """An alert a stage wants to send, before the muting stages have had their say."""

    change: Change
    kind: AlertKind
    severity: Severity
    risk: float
    episode: Episode | None = None  # OPEN: the new episode; RAISE, UNMUTE: the open one
    alert: Alert | None = None  # CRISIS and RESOLVE: the alert as it goes out
    evidence: tuple[Evidence, ...] = ()  # RAISE: the evidence behind the higher severity
    held_by: str | None = None  # a muter that holds it back (it is not sent)
    silenced_by: str | None = None  # a silence that mutes it (sent, marked, not paged)

    @property
    def mutable(self) -> bool:
        """Only rupture and disengagement firings may be muted; crisis and resolves never."""
        return (
            self.change in (Change.OPEN, Change.RAISE, Change.UNMUTE)
            and self.kind is not AlertKind.CRISIS
            and self.severity is not Severity.CRITICAL
        )


@dataclass
class Evaluation:
    """One assessment on its way through the stages."""

    assessment: RuptureAssessment
    key: Key
    state: ConversationState
    event_time: Watermarks
    decision: Decision = field(default_factory=Decision)
    proposals: list[Proposal] = field(default_factory=list)
    done: bool = False


class Stage(Protocol):
    def __call__(self, e: Evaluation) -> None: ...


class Muter(Protocol):
    """Inhibition and silences alike: who, if anyone, mutes this proposal."""

    def mutes(self, p: Proposal, e: Evaluation) -> str | None: ...


def run(stages: Sequence[Stage], e: Evaluation) -> Decision:
    for stage in stages:
        if e.done:
            break
        stage(e)
    return e.decision
