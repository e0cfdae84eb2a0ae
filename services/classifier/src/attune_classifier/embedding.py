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


def embed(texts: list[str], dim: int = FULL_DIM) -> NDArray[np.float32]:
    """Unit-length embeddings, one row per text (an empty text embeds as zeros)."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    vectors: NDArray[np.float32] = np.asarray(
        _model(dim).embed([t if t.strip() else "." for t in texts], norm=True), dtype=np.float32
    )
    return vectors
