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

import itertools
import json
import re
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


def load(dim: int = FULL_DIM) -> None:
    """Load the weights and the tokenizer now, not on the first message: about 0.4 s of CPU that
    would otherwise delay the first message after a start, while the service already reads as
    ready."""
    _tokenizer(dim)


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
        vectors = _pooled(_model(dim), _tokenizer(dim), [t if t.strip() else "." for t in fresh])
        if len(_CACHE) + len(fresh) > CACHE_KEEP:
            for key in list(_CACHE)[: len(_CACHE) + len(fresh) - CACHE_KEEP]:
                del _CACHE[key]
        for text, vector in zip(fresh, vectors, strict=True):
            _CACHE[(text, dim)] = vector
            out[missing[text]] = vector
    return out


@lru_cache(maxsize=4)
def _tokenizer(dim: int) -> Segments:
    """The model's tokenizer, read word by word (`Segments`), without WordLlama's padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(_model(dim).tokenizer.to_str())
    tokenizer.no_padding()
    return Segments(tokenizer)


_MARK = "\u2581"  # SentencePiece's word mark: the tokenizer's normaliser turns spaces into it
_SEGMENT = re.compile(f"{_MARK}+[^{_MARK}]*")
SEGMENTS_KEEP = 100_000


class Segments:
    """The tokenizer's ids for a text, segment by segment from a cache.

    The tokenizer (BPE, no pre-tokenizer) runs on the whole text at once, so its own word cache
    never applies. Its normaliser marks each space with "\u2581" and prepends one, and no token
    of its vocabulary holds the mark after another character: no token can span the start of
    a marked run, so the text's ids are the ids of its runs ("\u2581word", "\u2581\u2581x")
    one after another, and each run's ids can be kept. `exact` checks those facts on the loaded
    tokenizer; if one does not hold, or a text holds a special token, the whole text is encoded.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        config = json.loads(tokenizer.to_str())
        self.special = tuple(str(a["content"]) for a in config.get("added_tokens", []))
        self.exact = _segmentable(config)
        # Tuples: the collector stops tracking them, and the cache holds up to SEGMENTS_KEEP.
        self._cache: dict[str, tuple[int, ...]] = {}

    def ids(self, texts: list[str]) -> list[list[int]]:
        if not self.exact:
            encoded = self.tokenizer.encode_batch(texts, add_special_tokens=False)
            return [e.ids for e in encoded]
        return [self._ids(text) for text in texts]

    def _ids(self, text: str) -> list[int]:
        if not text or any(s in text for s in self.special):
            ids: list[int] = self.tokenizer.encode(text, add_special_tokens=False).ids
            return ids
        if len(self._cache) > SEGMENTS_KEEP:
            self._cache.clear()
        out: list[int] = []
        for segment in _SEGMENT.findall(_MARK + text.replace(" ", _MARK)):
            got = self._cache.get(segment)
            if got is None:
                got = self._cache[segment] = tuple(
                    t.id for t in self.tokenizer.model.tokenize(segment)
                )
            out += got
        return out


def _segmentable(config: dict[str, Any]) -> bool:
    """Are a text's ids the ids of its marked runs, one after another? (see `Segments`)"""
    model = config.get("model") or {}
    normalizer = config.get("normalizer") or {}
    steps = normalizer.get("normalizers") if normalizer.get("type") == "Sequence" else None
    expected = [
        {"type": "Prepend", "prepend": _MARK},
        {"type": "Replace", "pattern": {"String": " "}, "content": _MARK},
    ]
    vocabulary = model.get("vocab") or {}
    return (
        model.get("type") == "BPE"
        and model.get("dropout") is None
        and not model.get("continuing_subword_prefix")
        and not model.get("end_of_word_suffix")
        and config.get("pre_tokenizer") is None
        and steps == expected
        and bool(vocabulary)
        and not any(_MARK in token.lstrip(_MARK) for token in vocabulary)
    )


def _pooled(model: Any, tokenizer: Segments, texts: list[str]) -> NDArray[np.float32]:
    """WordLlama's `embed(texts, norm=True)`, bit for bit, without padding every batch.

    WordLlama pads a batch to its longest text and pools a (texts, longest, dim) block; the mean
    of each text's own token vectors is the same sum in the same order (a test holds the two
    equal), at a fraction of the memory traffic.
    """
    table: NDArray[np.float32] = model.embedding
    ids = tokenizer.ids(texts)
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=lengths.sum())
    np.clip(flat, 0, table.shape[0] - 1, out=flat)
    # Each text's token vectors summed one after another, as WordLlama's pooling sums them.
    # Either text by text, or, for a batch of more texts than its longest has tokens, position
    # by position: step j adds the j-th token of every text that has one; with the texts
    # longest first those are a prefix, so a step is one gather and one add. The same additions
    # in the same order either way; the fewer numpy calls win.
    order = np.argsort(-lengths, kind="stable")
    starts = (np.cumsum(lengths) - lengths)[order]
    by_length = lengths[order]
    longest = int(by_length[0]) if len(texts) else 0
    sums = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    if len(texts) <= longest:
        vectors = table[flat]
        for k, (start, n) in enumerate(zip(starts.tolist(), by_length.tolist(), strict=True)):
            sums[k] = vectors[start : start + n].sum(axis=0, dtype=np.float32)
    elif longest:
        # How many texts have more than j tokens, for each position j.
        active = len(texts) - np.searchsorted(by_length[::-1], np.arange(longest), side="right")
        sums[: active[0]] = table[flat[starts[: active[0]]]]
        for j in range(1, longest):
            n = active[j]
            sums[:n] += table[flat[starts[:n] + j]]
    out = np.empty_like(sums)
    out[order] = sums
    # WordLlama divides by the token count (at least one) as float32.
    out /= np.maximum(lengths, 1).astype(np.float32)[:, None]
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def clear_cache() -> None:
    """Forget every cached vector (tests compare fresh computations)."""
    _CACHE.clear()
