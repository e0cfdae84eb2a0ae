"""Keep the cyclic garbage collector from walking what lives as long as the process.

The imported libraries, the model and the lexicon's tables are ~200,000 objects the collector
walked on every full collection, which the garbage of a few thousand assessments sets off: a
tenth or more of the classifier's CPU. Frozen, they are never walked again (memory is still freed
by reference counting); the garbage of start-up is collected first.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Collect what start-up left behind, then freeze every object alive now."""
    gc.collect()
    gc.freeze()
