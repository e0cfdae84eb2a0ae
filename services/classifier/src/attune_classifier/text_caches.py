"""Every cache keyed by a text, in one place.

Within a batch, a message, its windows and its context turns are each read by several passes
(the rupture features, the crisis windows, the cue gate, the rules); these caches make each text
read once. A new message is in none of them: the benchmark empties them before each batch it
times, so it measures messages the service has never seen. The tokenizer's word cache and the
loaded models are not text caches and stay.
"""

from __future__ import annotations

from attune_classifier import assess, attribution, embedding, features, lexicon, scoring
from attune_classifier.plain_questions import plain_question

_CACHES = (
    lexicon.cue_counts,
    lexicon._candidates,
    lexicon._find_markers,
    lexicon.excluded,
    features.is_short,
    features.asks_about_safety,
    features.suggests,
    plain_question,
    attribution.attribute,
    scoring.is_closed_question,
    assess._invites_elaboration,
)


def clear() -> None:
    """Forget every text read so far."""
    for cache in _CACHES:
        cache.cache_clear()
    embedding.clear_cache()
