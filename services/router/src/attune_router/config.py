"""The alert policy's numbers, built from the router's settings and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from attune_router.settings import RouterSettings


@dataclass(frozen=True)
class Thresholds:
    fire: float
    resolve: float


@dataclass(frozen=True)
class PolicyConfig:
    """The policy's numbers; built from `RouterSettings` only (`policy_config`)."""

    rupture: Thresholds
    disengagement: Thresholds
    resolve_after: int
    episode_timeout: timedelta
    crisis_inhibits: timedelta
    # Explicit crisis language, or the model at least this sure, is critical: the AI pauses.
    # Below it, a model-only suspicion is a high-severity alert for a person to review.
    crisis_critical: float
    # Accumulated evidence: two client turns in a row, each at least this elevated, count
    # together (noisy-OR) against the rupture threshold. One "fine" after a misattuned turn is
    # common in ordinary chat; "fine", then "whatever", is the withdrawal the product exists for.
    accumulate_floor: float
    # The seed story: one minimal reply right after a misattuned AI turn, scored by the
    # classifier's exchange model, opens a withdrawal alert at this threshold of its own.
    exchange_fire: float

    @property
    def longest_window(self) -> timedelta:
        """How far back state must be rebuilt so a restart changes no decision."""
        return max(self.episode_timeout, self.crisis_inhibits)


def policy_config(settings: RouterSettings | None = None) -> PolicyConfig:
    """The alert policy as the router's settings (environment, defaults) define it."""
    s = settings or RouterSettings()
    return PolicyConfig(
        rupture=Thresholds(s.rupture_fire, s.rupture_resolve),
        disengagement=Thresholds(s.disengagement_fire, s.disengagement_resolve),
        resolve_after=s.resolve_after,
        episode_timeout=timedelta(seconds=s.episode_timeout_seconds),
        crisis_inhibits=timedelta(seconds=s.crisis_inhibits_seconds),
        crisis_critical=s.crisis_critical,
        accumulate_floor=s.rupture_accumulate_floor,
        exchange_fire=s.rupture_exchange_fire,
    )
