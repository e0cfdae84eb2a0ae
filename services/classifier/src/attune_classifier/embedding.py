"""Pretrained sentence embeddings that ship inside an installed wheel and never download.

WordLlama (MIT) packages its 256-dimension token-embedding model in the wheel itself; it is
loaded from the installed package's folder with downloads disabled, so the classifier makes no
network call at start or at run time. Embeddings are mean-pooled static token vectors, about two
orders of magnitude faster than a transformer encoder, which is what lets the service score
thousands of messages per second per core.

The model object lives in this module, never inside the skops artifact: the artifact names the
embedding (`EMBEDDING_MODEL`, dimension) and the service loads it from the wheel.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

EMBEDDING_MODEL = "wordllama-l2_supercat"
FULL_DIM = 256


class EmbeddingUnavailable(RuntimeError):
    """The embedding weights are not installed with the package (no download is attempted)."""


def package_dir() -> Path:
    import wordllama

    return Path(wordllama.__file__).resolve().parent


@lru_cache(maxsize=4)
def _model(dim: int) -> Any:
    from wordllama import WordLlama

    try:
        return WordLlama.load(
            config="l2_supercat",
            cache_dir=package_dir(),
            dim=FULL_DIM,
            trunc_dim=None if dim == FULL_DIM else dim,
            disable_download=True,
        )
    except FileNotFoundError as exc:  # never fall back to a download
        raise EmbeddingUnavailable(
            f"WordLlama weights not found in {package_dir()}; reinstall the locked workspace"
        ) from exc


# The rupture model, the crisis model and the category model all read the same message in one
# batch: each text is embedded once and its vector reused (bounded; oldest entries dropped).
_CACHE: dict[tuple[str, int], NDArray[np.float32]] = {}
CACHE_KEEP = 8192


def embed(texts: list[str], dim: int = FULL_DIM) -> NDArray[np.float32]:
    """Unit-length embeddings, one row per text."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        cached = _CACHE.get((text, dim))
        if cached is None:
            missing.setdefault(text, []).append(i)
        else:
            out[i] = cached
    if missing:
        fresh = list(missing)
        vectors = np.asarray(
            _model(dim).embed([t if t.strip() else "." for t in fresh], norm=True, batch_size=256),
            dtype=np.float32,
        )
        if len(_CACHE) + len(fresh) > CACHE_KEEP:
            for key in list(_CACHE)[: len(_CACHE) + len(fresh) - CACHE_KEEP]:
                del _CACHE[key]
        for text, vector in zip(fresh, vectors, strict=True):
            _CACHE[(text, dim)] = vector
            out[missing[text]] = vector
    return out


def clear_cache() -> None:
    """Forget every cached vector (tests compare fresh computations)."""
    _CACHE.clear()
