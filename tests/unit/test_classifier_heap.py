"""The model, once loaded, is no longer walked by the cyclic garbage collector."""

from __future__ import annotations

import gc
from pathlib import Path

from attune_classifier.model import ModelScorer

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"


def test_loading_the_model_freezes_it_out_of_full_collections() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    scorer = ModelScorer.load(ARTIFACTS)
    assert gc.get_freeze_count() > 0
    # Frozen objects are no longer among those the collector tracks and walks.
    tracked = {id(o) for o in gc.get_objects()}
    assert id(scorer.fast["rupture"].blocks) not in tracked
    assert scorer.score_batch([]) == []
