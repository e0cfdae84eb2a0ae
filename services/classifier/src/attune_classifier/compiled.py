"""The fitted linear models, evaluated as plain matrix products for the live service.

Every model in the artifact is a feature union feeding a logistic regression, sigmoid-calibrated
or not. Through scikit-learn each call walks pipelines, feature unions, joblib and calibrators,
about 10 ms for a single message; the same arithmetic done directly takes a fraction of that.
The weights are read from the verified artifact once at load; each feature part still runs its
own `transform` (the marker, exchange and embedding code, the fitted word vectorizer), so
training and serving share one feature definition. A unit test holds the outputs equal to
scikit-learn's `predict_proba`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler

Array = np.ndarray[Any, Any]
_DEFAULT_TOKEN = r"(?u)\b\w\w+\b"  # scikit-learn's word pattern: a token is one or more \w
# A batch's documents joined for one pass (`WordGrams._one_pass`): a word of its own between
# spaces, lower-case as the documents are; its column is a mark no vocabulary column can be.
_SEPARATOR = "zqxdocumentbreakzqx"
_JOINER = f" {_SEPARATOR} "
_BOUNDARY = -2


@dataclass(frozen=True)
class _Block:
    """One part of the feature union: how to compute it, and its slice of the weights."""

    features: Callable[[Sequence[Any]], Any]
    weights: Array  # (n_features_of_part, n_outputs), scaling folded in
    # `features(items) @ weights` computed without building the features, when it can be.
    product: Callable[[Sequence[Any]], Array] | None = None

    def scores(self, items: Sequence[Any]) -> Array:
        if self.product is not None:
            return self.product(items)
        result: Array = self.features(items) @ self.weights
        return result


class CompiledLinear:
    """`predict_proba` of a fitted union + logistic regression, with its calibration."""

    def __init__(self, model: Any) -> None:
        union, regression, calibrated = _unpack(model)
        coef = regression.coef_.T  # (n_features, n_outputs)
        self.intercept: Array = regression.intercept_
        self.classes_: Array = (calibrated or regression).classes_
        self.multinomial = coef.shape[1] > 1
        self.calibration: list[tuple[float, float]] | None = None
        if calibrated is not None:
            (fold,) = calibrated.calibrated_classifiers_  # ensemble=False: one estimator
            self.calibration = [(float(c.a_), float(c.b_)) for c in fold.calibrators]
        self.blocks: list[_Block] = []
        offset = 0
        for _, part in union.transformer_list:
            block, width = _block(part, coef[offset:])
            self.blocks.append(block)
            offset += width
        if offset != coef.shape[0]:
            raise ValueError(f"feature widths add to {offset}, the model has {coef.shape[0]}")

    def decision_function(self, items: Sequence[Any]) -> Array:
        total: Array = np.tile(self.intercept, (len(items), 1)).astype(np.float64)
        for block in self.blocks:
            total += block.scores(items)
        return total

    def predict_proba(self, items: Sequence[Any]) -> Array:
        decision = self.decision_function(items)
        if self.calibration is None:
            if not self.multinomial:
                p = expit(decision[:, 0])
                return np.column_stack([1 - p, p])
            result: Array = softmax(decision, axis=1)
            return result
        calibrated = np.column_stack(
            [expit(-(a * decision[:, k] + b)) for k, (a, b) in enumerate(self.calibration)]
        )
        if not self.multinomial:
            proba = np.column_stack([1 - calibrated[:, 0], calibrated[:, 0]])
        else:
            denominator = calibrated.sum(axis=1, keepdims=True)
            uniform = np.full_like(calibrated, 1 / calibrated.shape[1])
            proba = np.divide(calibrated, denominator, out=uniform, where=denominator != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def _unpack(model: Any) -> tuple[FeatureUnion, LogisticRegression, CalibratedClassifierCV | None]:
    """(features, regression, calibration) of the two shapes the artifact uses."""
    if isinstance(model, CalibratedClassifierCV):  # calibrated(union -> regression)
        (fold,) = model.calibrated_classifiers_
        pipeline = fold.estimator
        return pipeline.named_steps["features"], pipeline.named_steps["clf"], model
    last = model.steps[-1][1]
    if isinstance(last, CalibratedClassifierCV):  # union -> calibrated(regression)
        (fold,) = last.calibrated_classifiers_
        return model.named_steps["features"], fold.estimator, last
    return model.named_steps["features"], last, None  # union -> regression


def _block(part: Any, coef: Array) -> tuple[_Block, int]:
    """The part's feature function and its weights, with a final MaxAbsScaler folded in."""
    if isinstance(part, Pipeline):
        steps = [step for _, step in part.steps]
        last = steps[-1]
        if isinstance(last, MaxAbsScaler):
            width = int(last.scale_.shape[0])
            scale = np.where(last.scale_ == 0, 1.0, last.scale_)
            weights = coef[:width] / scale[:, None]
            return _Block(_chain(steps[:-1]), weights), width
        if isinstance(last, TfidfVectorizer):
            width = len(last.vocabulary_)
            grams = WordGrams.of(last)
            if grams is None:
                return _Block(_chain(steps), coef[:width]), width
            before = _chain(steps[:-1])
            weights = coef[:width]
            return _Block(
                lambda items: grams.transform(before(items)),
                weights,
                lambda items: grams.product(before(items), weights),
            ), width
        raise TypeError(f"unexpected final step {type(last).__name__}")
    width = int(getattr(part, "dim", 0)) or int(part.transform([]).shape[1])
    # A part with weights of its own outside the artifact (the embedding) loads them here, at
    # start-up, so that the first message costs what any message costs.
    load = getattr(part, "load", None)
    if callable(load):
        load()
    return _Block(part.transform, coef[:width]), width


class WordGrams:
    """A fitted word n-gram `TfidfVectorizer.transform`, by lookups in its fixed vocabulary.

    scikit-learn's transform is a general analyzer chain run gram by gram in Python; for the
    settings the artifact uses (plain lower-cased word n-grams, sublinear tf, idf, l2) the same
    matrix, entry for entry and in the same order, comes from one regex pass per document and a
    dictionary lookup per gram. Other settings are left to scikit-learn (`of` returns None).
    """

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.vocabulary: dict[str, int] = dict(vectorizer.vocabulary_)
        self.idf: Array = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.token = re.compile(vectorizer.token_pattern)
        self.low, self.high = vectorizer.ngram_range
        self.sublinear = bool(vectorizer.sublinear_tf)
        # The vocabulary's n-grams (n >= 2) keyed by their tokens: a lookup by the tuple of
        # adjacent tokens hashes strings whose hashes are known, where joining them first
        # builds and hashes a new string per gram. Only where a token cannot hold a space, so
        # that a gram's tokens are its space-separated parts.
        self.tuples: dict[tuple[str, ...], int] | None = None
        if vectorizer.token_pattern == _DEFAULT_TOKEN:
            self.tuples = {
                tuple(gram.split(" ")): j for gram, j in self.vocabulary.items() if " " in gram
            }
        # Unigrams looked up with the batch's document separator marked (`_one_pass`), where no
        # gram of the vocabulary holds the separator's word.
        self._marked: dict[str, int] | None = None
        if not any(_SEPARATOR in gram for gram in self.vocabulary):
            self._marked = {**self.vocabulary, _SEPARATOR: _BOUNDARY}

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer) -> WordGrams | None:
        plain = (
            vectorizer.analyzer == "word"
            and vectorizer.input == "content"
            and vectorizer.lowercase
            and vectorizer.preprocessor is None
            and vectorizer.tokenizer is None
            and vectorizer.strip_accents is None
            and vectorizer.stop_words is None
            and not vectorizer.binary
            and vectorizer.norm == "l2"
            and vectorizer.use_idf
            and vectorizer.dtype in (np.float64, float)
            and isinstance(vectorizer.token_pattern, str)
            and re.compile(vectorizer.token_pattern).groups == 0
        )
        return cls(vectorizer) if plain else None

    def grams(self, doc: str) -> list[str]:
        """The analyzer's grams of one document: unigrams, then bigrams, ... (order is free)."""
        tokens: list[str] = self.token.findall(doc.lower())
        out = list(tokens) if self.low == 1 else []
        for n in range(max(self.low, 2), self.high + 1):
            shifted = [tokens[k:] for k in range(n)]  # a list: zip over a generator costs more
            out += map(" ".join, zip(*shifted, strict=False))
        return out

    def entries(self, docs: Sequence[str]) -> tuple[Array, Array, Array]:
        """(row, column, value) of every non-zero entry, row by row and column by column."""
        found = self._one_pass(docs)
        if found is None:
            found = self._doc_by_doc(docs)
        return self._values(len(docs), *found)

    def _one_pass(self, docs: Sequence[str]) -> tuple[Array, Array] | None:
        """(row, column) of every gram of the batch's documents, from one regex pass and one
        lookup per gram over them all, or None where that does not apply.

        The documents, each lower-cased, are joined by a separator word that is in no document
        and not in the vocabulary: no token spans a document's edge (the separator's spaces end
        it, as the text's own ends do), a bigram over the separator is in no vocabulary, and each
        gram's row is the number of separators before it. The counts are the same integers as
        document by document, so every value that follows is the same.
        """
        marked = self._marked
        if marked is None or self.tuples is None or (self.low, self.high) != (1, 2) or not docs:
            return None
        joined = _JOINER.join([doc.lower() for doc in docs])
        if joined.count(_SEPARATOR) != len(docs) - 1:
            return None  # a document holds the separator's word
        tokens: list[str] = self.token.findall(joined)
        unigrams = np.fromiter(
            map(marked.get, tokens, itertools.repeat(-1)), dtype=np.int64, count=len(tokens)
        )
        bigrams = np.fromiter(
            map(self.tuples.get, itertools.pairwise(tokens), itertools.repeat(-1)),
            dtype=np.int64,
            count=max(0, len(tokens) - 1),
        )
        row = np.cumsum(unigrams == _BOUNDARY)  # a bigram's row is its first token's
        return np.concatenate([row, row[:-1]]), np.concatenate([unigrams, bigrams])

    def _doc_by_doc(self, docs: Sequence[str]) -> tuple[Array, Array]:
        """(row, column) of every gram, document by document: any settings `of` accepts."""
        lookup = self.vocabulary.get
        columns: list[int] = []  # every gram's column, -1 outside the vocabulary
        lengths: list[int] = []
        for doc in docs:
            if self.tuples is None:
                grams = self.grams(doc)
                columns += map(lookup, grams, itertools.repeat(-1, len(grams)))
                lengths.append(len(grams))
                continue
            # The same grams as `grams(doc)`, each looked up without being joined into a string.
            tokens: list[str] = self.token.findall(doc.lower())
            before = len(columns)
            if self.low == 1:
                columns += map(lookup, tokens, itertools.repeat(-1))
            for n in range(max(self.low, 2), self.high + 1):
                shifted = [tokens[k:] for k in range(n)]
                columns += map(self.tuples.get, zip(*shifted, strict=False), itertools.repeat(-1))
            lengths.append(len(columns) - before)
        column = np.asarray(columns, dtype=np.int64)
        return np.repeat(np.arange(len(docs), dtype=np.int64), lengths), column

    def _values(self, docs: int, row: Array, column: Array) -> tuple[Array, Array, Array]:
        """The tf-idf entries of grams at (row, column); a column < 0 is outside the vocabulary."""
        known = column >= 0
        width = len(self.vocabulary)
        # Sorted unique (row, column) pairs with their counts: scikit-learn's sorted rows.
        keys, counts = np.unique(row[known] * width + column[known], return_counts=True)
        row, column = np.divmod(keys, width)
        value = counts.astype(np.float64)
        if self.sublinear:
            np.log(value, value)
            value += 1.0
        value *= self.idf[column]
        # l2 per row as scikit-learn does it: squares summed in order, then one division each.
        norms = np.sqrt(np.bincount(row, weights=value * value, minlength=docs))
        value /= norms[row]
        return row, column, value

    def transform(self, docs: Sequence[str]) -> Any:
        row, column, value = self.entries(docs)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(docs)))])
        return sp.csr_array((value, column, indptr), shape=(len(docs), len(self.vocabulary)))

    def product(self, docs: Sequence[str], weights: Array) -> Array:
        """`transform(docs) @ weights`, each row summed in column order as scipy sums it."""
        row, column, value = self.entries(docs)
        # Each entry's weights gathered once for every output; the same products, summed alike.
        weighted = weights[column] * value[:, None]
        return np.column_stack(
            [
                np.bincount(row, weights=weighted[:, k], minlength=len(docs))
                for k in range(weights.shape[1])
            ]
        )


def _chain(steps: list[Any]) -> Callable[[Sequence[Any]], Any]:
    def run(items: Sequence[Any]) -> Any:
        out: Any = items
        for step in steps:
            out = step.transform(out)
        return out

    return run
