"""The annotation guide's examples are a contract: hard negatives never alert, crisis is flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune_classifier.model import ModelScorer
from attune_models.corpus import Example, guide_examples
from attune_router.policy import policy_config

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
EXAMPLES = guide_examples()
FIRE = policy_config().rupture.fire


@pytest.fixture(scope="module")
def scorer() -> ModelScorer:
    return ModelScorer.load(ARTIFACTS)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.hard_negative], ids=lambda e: e.id)
def test_hard_negative_does_not_alert(scorer: ModelScorer, example: Example) -> None:
    (score,) = scorer.score_batch([example.scoring_input()])
    assert not score.crisis_detected, f"{example.id} flagged as crisis: {example.note}"
    assert score.rupture < FIRE, f"{example.id} rupture {score.rupture:.2f}: {example.note}"


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.label == "crisis"], ids=lambda e: e.id
)
def test_crisis_positive_is_flagged(scorer: ModelScorer, example: Example) -> None:
    (score,) = scorer.score_batch([example.scoring_input()])
    assert score.crisis_detected, f"{example.id} missed: {example.note}"
