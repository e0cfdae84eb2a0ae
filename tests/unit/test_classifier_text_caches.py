"""A full batch's texts stay cached while the batch is scored: each is read once.

A batch of the service's largest size brings its messages, their windows and their context
turns; the rupture features, the crisis windows, the cue gate and the rules each read them. No
cache may evict a text before the batch's later passes ask for it again: every miss adds an
entry that is still there at the end (misses == entries), and the scores are unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune_classifier import lexicon
from attune_classifier.features import is_short, window_inputs
from attune_classifier.model import ModelScorer
from attune_classifier.scoring import ScoringInput
from attune_classifier.settings import ClassifierSettings
from attune_models.corpus import load

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
CACHES: tuple[Any, ...] = (
    lexicon._candidates,
    lexicon._find_markers,
    lexicon.cue_counts,
    lexicon.excluded,
    is_short,
)


def test_a_full_batch_is_read_once_per_text() -> None:
    scorer = ModelScorer.load(ARTIFACTS)
    corpus = load()
    size = ClassifierSettings().batch_max_records  # every record a client message, at most
    distinct = list({e.text: e.scoring_input() for e in corpus.train + corpus.test}.values())
    # Half chat turns, half long posts that the crisis model reads a few sentences at a time.
    half = size // 2
    starts = [(half + 5 * j) % (len(distinct) - 5) for j in range(size - half)]
    posts = [
        ScoringInput(
            text=" ".join(i.text for i in distinct[k : k + 5]), context=distinct[k].context
        )
        for k in starts
    ]
    batch = distinct[:half] + posts
    assert len(batch) == size
    texts = {w.text for item in batch for w in window_inputs(item)}
    assert len(texts | {item.text for item in batch}) > 2 * size  # windows are texts of their own
    for cache in CACHES:
        cache.cache_clear()
    scored = scorer.score_batch(batch)
    for cache in CACHES:
        info = cache.cache_info()
        assert info.misses == info.currsize, cache
    for cache in CACHES:
        cache.cache_clear()
    assert [scorer.score_batch([item])[0] for item in batch[::16]] == scored[::16]
