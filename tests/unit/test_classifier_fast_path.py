"""The service's scoring path gives what the plain definitions give, field for field.

The reference is the artifact's own scikit-learn pipelines: their feature transformers
(`features.py`) are the definitions training used, evaluated one message at a time with every
regex run as written. The service runs the same models as matrix products (`compiled`) on
features computed once per message and shared. Both score the corpus's frozen test split and
long multi-sentence messages in varied contexts; every `MessageScore` field must be equal, and the
unrounded probabilities equal to 1e-9.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune_classifier import embedding
from attune_classifier.compiled import WordGrams
from attune_classifier.features import (
    _SELF,
    _SENTENCES,
    _YOU,
    WINDOW_SENTENCES,
    WINDOW_WORDS,
    person_counts,
    window_inputs,
    windows,
    word_text,
)
from attune_classifier.lexicon import normalise
from attune_classifier.model import ModelScorer, as_objects
from attune_classifier.scoring import ContextTurn, MessageScore, ScoringInput
from attune_models.corpus import load

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"

RISK_QUESTIONS = (
    "Are you having thoughts of ending your life?",
    "Are you safe right now?",
    "Have you been hurting yourself?",
    "Do you feel safe at home with him?",
    "Have you had thoughts of hurting someone?",
    "That sounds hard. Did you try the breathing exercise I suggested?",
    "What would you like to focus on today?",
)
SHORT_REPLIES = (
    "yeah",
    "no",
    "sometimes",
    "not really",
    "a bit, yeah",
    "no, I'm fine honestly",
    "idk",
    "ok",
    "whatever you say",
    "i guess. whatever",
)


class _Sklearn:
    """A model of the artifact evaluated by scikit-learn itself (`predict_proba` on objects)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.classes_ = model.classes_

    def predict_proba(self, items: Sequence[ScoringInput]) -> Any:
        return self.model.predict_proba(as_objects(items))


def varied_inputs() -> list[ScoringInput]:
    """The test split, long multi-sentence messages, and short answers to risk questions."""
    corpus = load()
    examples = [e.scoring_input() for e in corpus.test]
    pool = [e.scoring_input() for e in corpus.train + corpus.test]
    rng = random.Random(7)
    long_messages = []
    for _ in range(120):
        parts = rng.sample(pool, rng.randint(3, 9))
        separator = rng.choice([". ", " ", "\n", "! ", "? ", "... "])
        text = separator.join(p.text for p in parts)
        context = rng.choice(pool).context
        long_messages.append(ScoringInput(text=text, context=context, latency_s=rng.random() * 60))
    answers = [
        ScoringInput(
            text=reply,
            context=(ContextTurn("client", "it has been a long week"), ContextTurn("ai", question)),
            length_ratio=rng.choice([None, 0.2, 1.0]),
            latency_ratio=rng.choice([None, 0.5, 4.0]),
            minimal_streak=rng.randint(0, 4),
        )
        for question in RISK_QUESTIONS
        for reply in SHORT_REPLIES
    ]
    odd = [
        ScoringInput(text="I\u2019m fine. Really. It doesn\u2019t matter \u2014 forget it"),
        ScoringInput(text="   "),
        ScoringInput(text="!!!"),
        ScoringInput(text="KILL MYSELF tonight?? \U0001f602 lol"),
        ScoringInput(text=" ".join(["word"] * 400)),
    ]
    return examples + long_messages + answers + odd


@pytest.fixture(scope="module")
def scorers() -> tuple[ModelScorer, ModelScorer]:
    fast = ModelScorer.load(ARTIFACTS)
    reference = ModelScorer(fast.model, fast.manifest)
    reference.fast = {name: _Sklearn(fast.model[name]) for name in reference.fast}  # type: ignore[misc]
    return fast, reference


def _fields(score: MessageScore) -> dict[str, Any]:
    return {name: getattr(score, name) for name in MessageScore.__dataclass_fields__}


def test_every_score_field_equals_the_reference(scorers: tuple[ModelScorer, ModelScorer]) -> None:
    fast, reference = scorers
    items = varied_inputs()
    expected = reference.score_batch(items)
    # In service-sized batches and one message at a time: batching changes nothing.
    got = [s for i in range(0, len(items), 256) for s in fast.score_batch(items[i : i + 256])]
    one_by_one = [fast.score_batch([item])[0] for item in items[::7]]
    assert len(got) == len(expected)
    for item, g, e in zip(items, got, expected, strict=True):
        assert _fields(g) == _fields(e), item.text
    assert one_by_one == expected[::7]


def test_probabilities_equal_the_reference(scorers: tuple[ModelScorer, ModelScorer]) -> None:
    fast, reference = scorers
    items = varied_inputs()
    got, got_windows = fast.probabilities(items)
    expected, expected_windows = reference.probabilities(items)
    assert np.allclose(got, expected, atol=1e-9, rtol=0)
    assert got_windows == expected_windows


def test_the_sample_reaches_crisis_windows_and_short_replies(
    scorers: tuple[ModelScorer, ModelScorer],
) -> None:
    """The equality above is only as good as its sample: it must go through every path the
    service takes: a crisis the model finds in a later window of a long message, explicit
    crisis language (the rule), a short reply to a risk question, and the category model."""
    _, reference = scorers
    items = varied_inputs()
    proba, best = reference.probabilities(items)
    scores = reference.score_batch(items)
    threshold = reference.manifest.crisis_threshold
    later_window = [
        k
        for k, item in enumerate(items)
        if len(window_inputs(item)) > 1 and best[k].text != window_inputs(item)[0].text
    ]
    assert sum(proba[k, 3] >= threshold for k in later_window) >= 10
    assert sum(s.crisis_rule for s in scores) >= 10
    assert sum(s.crisis_detected and not s.crisis_rule for s in scores) >= 10  # categories
    answers = [
        s
        for item, s in zip(items, scores, strict=True)
        if item.text in SHORT_REPLIES and item.context[-1].text in RISK_QUESTIONS[:5]
    ]
    assert sum(s.crisis_detected for s in answers) >= 5
    assert sum(not s.crisis_detected for s in answers) >= 5


def test_embedding_equals_wordllama_bit_for_bit() -> None:
    corpus = load()
    texts = [normalise(e.text) for e in corpus.train + corpus.test]
    texts += [normalise(t.text) for e in corpus.test for t in e.context]
    texts += ["", " ", "\n\n", "\U0001f602\U0001f602", "ok", "a" * 3000, "\u00e9t\u00e9 na\u00efve"]
    embedding.clear_cache()
    got = embedding.embed(texts)
    model = embedding._model(embedding.FULL_DIM)
    blank = [t if t.strip() else "." for t in texts]
    expected = np.asarray(model.embed(blank, norm=True, batch_size=256), dtype=np.float32)
    assert got.dtype == np.float32
    assert np.array_equal(got, expected)
    # Small batches (fewer texts than tokens) are pooled text by text: the same sums.
    for start in range(0, 120, 3):
        embedding.clear_cache()
        assert np.array_equal(
            embedding.embed(texts[start : start + 3]), expected[start : start + 3]
        )
    embedding.clear_cache()
    assert np.array_equal(embedding.embed(texts[-7:]), expected[-7:])


def test_word_grams_equal_the_fitted_vectorizer(scorers: tuple[ModelScorer, ModelScorer]) -> None:
    fast, _ = scorers
    union = fast.model["rupture"].calibrated_classifiers_[0].estimator.named_steps["features"]
    pipeline = dict(union.transformer_list)["client_words"]
    vectorizer = pipeline.named_steps["tfidf"]
    grams = WordGrams.of(vectorizer)
    assert grams is not None
    docs = pipeline.named_steps["text"].transform(varied_inputs())
    docs += ["", "a", "I I I i", "don't can't won't", "\u00c9T\u00c9 caf\u00e9", "x_y 12 3"]
    expected = vectorizer.transform(docs)
    got = grams.transform(docs)
    assert got.shape == expected.shape
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)


@pytest.fixture(scope="module")
def word_grams(scorers: tuple[ModelScorer, ModelScorer]) -> WordGrams:
    fast, _ = scorers
    union = fast.model["rupture"].calibrated_classifiers_[0].estimator.named_steps["features"]
    grams = WordGrams.of(dict(union.transformer_list)["client_words"].named_steps["tfidf"])
    assert grams is not None
    return grams


def _same_entries(got: tuple[Any, ...], expected: tuple[Any, ...]) -> bool:
    return all(
        g.dtype == e.dtype and g.shape == e.shape and g.tobytes() == e.tobytes()
        for g, e in zip(got, expected, strict=True)
    )


GRAM_PARTS = [
    *("i", "don't", "want", "to", "talk", "about", "it", "not", "helpful", "group", "the", "ok"),
    *(" ", "  ", "\n", ".", ",", "'", "-", "_", "1", "22", "\u0130", "\u03a3", "\u00c9T\u00c9"),
    *("zqxdocumentbreakzqx", "ZQXDocumentBreakZQX", "zqx", "documentbreak", "\U0001f602"),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(GRAM_PARTS), max_size=20), min_size=1, max_size=6))
def test_one_pass_word_grams_equal_document_by_document(
    word_grams: WordGrams, parts: list[list[str]]
) -> None:
    docs = ["".join(p) for p in parts]
    one_pass = word_grams._one_pass(docs)
    plain = word_grams._values(len(docs), *word_grams._doc_by_doc(docs))
    if any("zqxdocumentbreakzqx" in d.lower() for d in docs):
        assert one_pass is None  # a document holding the separator is read document by document
    else:
        assert one_pass is not None
    assert _same_entries(word_grams.entries(docs), plain)


def test_one_pass_word_grams_equal_document_by_document_on_the_corpus(
    word_grams: WordGrams,
) -> None:
    docs = [word_text(i.text) for i in varied_inputs()]
    docs += [w.text for i in varied_inputs() for w in window_inputs(i)]
    for start in range(0, len(docs), 300):
        batch = docs[start : start + 300]
        one_pass = word_grams._one_pass(batch)
        assert one_pass is not None
        expected = word_grams._values(len(batch), *word_grams._doc_by_doc(batch))
        assert _same_entries(word_grams._values(len(batch), *one_pass), expected)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("ab cd\u00e9  \n\t'\u2019-.,!?<>s/\u2581xyz\u03a9\u6f22\U0001f602")
        ),
        min_size=1,
        max_size=60,
    )
)
def test_word_by_word_token_ids_equal_the_tokenizer(text: str) -> None:
    segments = embedding._tokenizer(embedding.FULL_DIM)
    assert segments.exact  # the installed tokenizer takes the fast path
    expected = segments.tokenizer.encode(text, add_special_tokens=False).ids
    assert segments.ids([text]) == [expected]


def test_token_ids_equal_the_tokenizer_on_the_corpus() -> None:
    corpus = load()
    texts = [normalise(e.text) for e in corpus.train + corpus.test]
    texts += [normalise(t.text) for e in corpus.train for t in e.context]
    texts += ["<s> hi </s>", "a<unk>b", "  lead", "trail  ", "\u2581\u2581x", "x\u2581y"]
    segments = embedding._tokenizer(embedding.FULL_DIM)
    expected = [e.ids for e in segments.tokenizer.encode_batch(texts, add_special_tokens=False)]
    assert segments.ids(texts) == expected


PERSON_PARTS = [
    *("i", "I'm", "im", "i've", "ive", "i\u2019d", "i'll", "me", "my", "MySelf", "mine"),
    *("you", "your", "you're", "youre", "yourself", "u", "ur"),
    *("mu", "yi", "'", "-", "_", "imy", "you'", "i'", "me's", "\u0130", "x", "1", ".", ","),
    *("\u0131", "\u0130m", "\u00e9", "\u00fc", "U", "Y", "M", "IM", "\u0131m"),
    *(" ", " ", "\n"),
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PERSON_PARTS), max_size=30))
def test_one_pass_person_counts_equal_the_two_patterns(parts: list[str]) -> None:
    text = "".join(parts)
    assert person_counts(text) == (len(_SELF.findall(text)), len(_YOU.findall(text)))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_person_counts_equal_the_two_patterns_on_any_text(text: str) -> None:
    assert person_counts(text) == (len(_SELF.findall(text)), len(_YOU.findall(text)))


def _windows_by_sentences(text: str) -> list[str]:
    """`windows` as defined, without its shortcut for texts of at most one sentence break."""
    sentences = [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]
    if len(sentences) <= WINDOW_SENTENCES and len(text.split()) <= WINDOW_WORDS:
        return [text]
    out: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        while len(words) > WINDOW_WORDS:
            out.append(" ".join(words[:WINDOW_WORDS]))
            words = words[WINDOW_WORDS:]
        current.append(" ".join(words))
        if len(current) >= WINDOW_SENTENCES or sum(len(c.split()) for c in current) >= WINDOW_WORDS:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return [w for w in out if w] or [text]


WINDOW_PARTS = ("word", "I", ".", "!", "?", " ", "  ", "\n", "\t", "\u2028", "\u00a0", "...")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(WINDOW_PARTS), max_size=140))
def test_windows_equal_the_sentence_split(parts: list[str]) -> None:
    text = "".join(parts)
    assert windows(text) == _windows_by_sentences(text)


def test_windows_equal_the_sentence_split_on_the_corpus() -> None:
    for item in varied_inputs():
        assert windows(item.text) == _windows_by_sentences(item.text)


def test_person_counts_equal_the_two_patterns_on_the_corpus() -> None:
    for item in varied_inputs():
        text = normalise(item.text)
        assert person_counts(text) == (len(_SELF.findall(text)), len(_YOU.findall(text)))


def test_word_gram_scores_equal_the_sparse_product(
    scorers: tuple[ModelScorer, ModelScorer],
) -> None:
    fast, _ = scorers
    block = fast.fast["rupture"].blocks[0]
    assert block.product is not None  # the served path skips the sparse matrix
    items = varied_inputs()
    for batch in (items, items[:1], items[5:6], []):
        expected = block.features(batch) @ block.weights
        assert np.array_equal(block.scores(batch), expected)
