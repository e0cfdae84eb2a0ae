"""The prefiltered lexicon gives exactly what running every pattern one by one gives.

Hits, spans and order are compared with `lexicon_reference` over every text of the corpus and over
generated texts built from the patterns' own words, with case changes, curly quotes and the
non-ASCII characters `re.IGNORECASE` treats as ASCII letters.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from attune_classifier import lexicon, screening
from attune_classifier import lexicon_reference as reference
from attune_classifier.prefilter import (
    Alternation,
    Prefilter,
    fold,
    required_literals,
    split_alternation,
)

CORPUS = Path(__file__).resolve().parents[2] / "models" / "corpus"
QUESTIONS = (*screening._RISK_QUESTIONS.values(), *screening._SAFETY_QUESTIONS.values())
PATTERNS = (
    *(p for _, table in lexicon.FAMILIES for ps in table.values() for p in ps),
    *lexicon.CRISIS_EXCLUSIONS,
    *lexicon.CRISIS_CUES.values(),
    *lexicon.CUE_IDIOMS,
    *QUESTIONS,
)


def corpus_turns() -> list[tuple[str, str | None]]:
    """Every client text and context turn, each with the AI / counsellor turn just before it."""
    files = [*sorted((CORPUS / "examples").glob("*.jsonl")), CORPUS / "guide_examples.jsonl"]
    turns: list[tuple[str, str | None]] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            example = json.loads(line)
            before: str | None = None
            for turn in [*example["context"], {"sender": "client", "text": example["text"]}]:
                turns.append((turn["text"], before))
                before = turn["text"] if turn["sender"] != "client" else before
    return turns


def assert_same(text: str, question: str | None = None) -> None:
    expected = reference.find_markers(text)
    assert list(lexicon.scan_markers(text)) == expected, text
    assert lexicon.find_markers(text) == expected, text
    assert lexicon.crisis_cue_spans(text) == reference.crisis_cue_spans(text), text
    assert lexicon.crisis_cue_counts(text) == reference.crisis_cue_counts(text), text
    assert lexicon.crisis_exclusion_spans(text) == reference.crisis_exclusion_spans(text), text
    assert lexicon.crisis_excluded(text) == reference.crisis_excluded(text), text
    # explicit_hits is find_markers plus these.
    assert screening.screening_hits(question, text) == reference.screening_hits(question, text), (
        text,
        question,
    )


def test_corpus_texts_give_the_same_hits() -> None:
    turns = corpus_turns()
    assert len(turns) > 2000
    for text, question in turns:
        assert_same(text, question)
        for pattern in QUESTIONS:  # the question patterns read the AI turns
            assert _selected(pattern, text) or not pattern.search(text)


def _selected(pattern: re.Pattern[str], text: str) -> bool:
    return pattern in [QUESTIONS[k] for k in _QUESTION_FILTER.select(text)]


_QUESTION_FILTER = Prefilter(QUESTIONS)


# Generated texts: the patterns' own words (as the prefilter derives them, and as written in the
# source), everyday words and negations, joined by punctuation, with case and quote changes.
_SOURCE_WORDS = sorted(
    {
        w
        for p in PATTERNS
        for w in re.findall(r"[a-z][a-z' -]*[a-z]", re.sub(r"\\[a-zA-Z]", " ", p.pattern), re.I)
    }
)
_LITERALS = sorted({s for p in PATTERNS for need in required_literals(p) for s in need})
_FILLER = (
    "i", "I", "me", "my", "myself", "you", "he", "she", "they", "him", "her", "them", "it", "that",
    "this", "the", "a", "and", "just", "really", "so", "not", "never", "no", "don't", "dont",
    "do not", "didn't", "won't", "nobody", "want to", "wanna", "anymore", "again", "tonight",
    "lol", "haha", "😂", "🙃", "yeah", "yes", "ok", "fine", "whatever", "used to", "years ago",
    "i'm safe now", "work", "mum", "today", "about", "with", "for", "on purpose", "pills",
)  # fmt: skip
_SEPARATORS = (" ", " ", " ", ", ", ". ", "! ", "? ", "... ", "\n", "-", "", "'", " 😂 ", "  ")
_QUOTES = str.maketrans({"'": "\u2019"})
_LOOKALIKES = str.maketrans({"s": "\u017f", "k": "\u212a", "i": "\u0131", "I": "\u0130"})


def _styled(piece: str, style: int) -> str:
    return [
        piece,
        piece,
        piece.upper(),
        piece.title(),
        piece.swapcase(),
        piece.translate(_QUOTES),
        piece.replace("'", "\u2018"),
        piece.replace("'", "`"),
        piece.translate(_LOOKALIKES),
    ][style]


_piece = st.tuples(
    st.one_of(
        st.sampled_from(_LITERALS),
        st.sampled_from(_SOURCE_WORDS),
        st.sampled_from(_FILLER),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz' .!?", max_size=6),
    ),
    st.integers(min_value=0, max_value=8),
    st.sampled_from(_SEPARATORS),
).map(lambda t: _styled(t[0], t[1]) + t[2])
texts = st.lists(_piece, min_size=1, max_size=14).map("".join)
# Replies that open with a yes or a no, to questions that name a risk, reach the screening rules.
_OPENINGS = (
    "yes", "Yeah", "yeah a bit", "sometimes", "I think so", "no", "nope", "not really",
    "i don't know", "i dont feel safe", "no, i'm fine", "yes but not anymore", "i have never",
)  # fmt: skip
replies = st.one_of(
    texts, st.tuples(st.sampled_from(_OPENINGS), st.sampled_from(_SEPARATORS), texts).map("".join)
)
_QUESTION_WORDS = sorted({s for p in QUESTIONS for need in required_literals(p) for s in need})
_question_piece = st.tuples(
    st.one_of(st.sampled_from(_QUESTION_WORDS), st.sampled_from(_FILLER)),
    st.integers(min_value=0, max_value=8),
    st.sampled_from(_SEPARATORS),
).map(lambda t: _styled(t[0], t[1]) + t[2])
questions = st.one_of(
    st.none(),
    st.sampled_from([q for _, q in corpus_turns() if q]),
    st.lists(_question_piece, min_size=1, max_size=5).map(lambda p: "".join(p) + "?"),
)


@settings(max_examples=1500, derandomize=True, deadline=None, database=None)
@given(text=replies, question=questions)
def test_generated_texts_give_the_same_hits(text: str, question: str | None) -> None:
    assert_same(text, question)
    assert_narrowed_same(text)
    if question:
        for pattern in QUESTIONS:
            assert _selected(pattern, question) or not pattern.search(question)


def test_fold_matches_ignorecase_for_every_code_point() -> None:
    # Every character `re.IGNORECASE` equates with an ASCII character folds to its lower case.
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    assert len(fold(chars)) == len(chars)
    ascii_like = set(re.findall(r"[\x00-\x7f]", chars, re.IGNORECASE))
    for c in ascii_like:
        equals = {a.lower() for a in map(chr, range(128)) if re.fullmatch(re.escape(a), c, re.I)}
        assert equals == {fold(c)}, (c, equals)
    # A digit of another script is a `\d` like 0-9: it folds to an ASCII digit.
    digits = set(re.findall(r"(?![0-9])\d", chars))
    assert digits and all(fold(c) == "0" for c in digits)
    assert all(fold(c) == c for c in chars if c not in ascii_like | digits and not c.isascii())


def test_literals_are_derived_from_the_pattern() -> None:
    def derived(pattern: str) -> tuple[frozenset[str], ...]:
        return required_literals(re.compile(pattern, re.IGNORECASE))

    assert derived(r"\bsuicid(?:e|al)\b") == (frozenset({"suicide", "suicidal"}),)
    assert derived(r"\bSelf[- ]?harm(?:ing)?\b") == (
        frozenset({"selfharm", "self-harm", "self harm"}),
    )
    assert derived(r"\bhaha+\b") == (frozenset({"haha"}),)  # not also "a", which it implies
    # A gap splits the literals; both sides stay required.
    assert set(derived(r"\bpills\b[^.!?]{0,30}\bsaved up\b")) == {
        frozenset({"pills"}),
        frozenset({"saved up"}),
    }
    # An alternation with an unknown branch requires nothing; what follows it still counts.
    assert derived(r"(?:no|\w+) way") == (frozenset({" way"}),)
    # `\d` is any of the ten digits; `fold` makes every digit `\d` matches an ASCII one.
    assert derived(r"\bthe \d(?:st|nd)\b") == (
        frozenset(f"the {d}{s}" for d in "0123456789" for s in ("st", "nd")),
    )
    table = Prefilter([re.compile(r"\bon the \d{1,2}(?:st|th)\b", re.I)])
    assert table.select("see you on the 21st") == [0]
    assert table.select("see you on the \u0662\u0661st") == [0]  # Arabic-Indic digits
    assert re.search(r"\bon the \d{1,2}(?:st|th)\b", "see you on the \u0662\u0661st", re.I)
    assert table.select("see you on the first") == []
    # Nothing safe to require: such a pattern always runs.
    for pattern in (r"\w+", r"^\W*$", r"(?:no|\w+)!?", r"(?:😂|🙃)", r"(a)?\1", r"x*"):
        assert derived(pattern) == (), pattern


def test_a_pattern_without_literals_always_runs() -> None:
    table = Prefilter([re.compile(r"\bkms\b", re.I), re.compile(r"^\W*$"), re.compile(r"he")])
    assert table.always_run == (1,)
    assert table.select("nothing to see") == [1]
    assert table.select("KMS, she said") == [0, 1, 2]
    assert table.select("\u212ams") == [0, 1]  # the Kelvin sign is a k to re.IGNORECASE
    assert re.search(r"\bkms\b", "\u212ams", re.I)


# Every table at once, every pattern narrowed where it can be.
_ALL = Prefilter(PATTERNS, narrow=range(len(PATTERNS)))


def assert_narrowed_same(text: str) -> None:
    """A narrowed pattern finds what the whole pattern finds; a dropped one finds nothing."""
    norm = lexicon.normalise(text)
    found = _ALL.literals(norm)
    assert _ALL.select_found(found) == _ALL.select(norm)
    for k, pattern in enumerate(PATTERNS):
        narrowed = _ALL.narrowed(k, found)
        expected = [m.span() for m in pattern.finditer(norm)]
        got = [m.span() for m in narrowed.finditer(norm)] if narrowed is not None else []
        assert got == expected, (pattern.pattern, text)


def test_narrowed_patterns_find_the_same_matches_on_the_corpus() -> None:
    assert len(_ALL._alternations) >= 15  # the crisis cue families, among others
    for text, question in corpus_turns():
        assert_narrowed_same(text)
        if question:
            assert_narrowed_same(question)


def test_an_alternation_is_split_on_its_own_source() -> None:
    assert split_alternation(r"\b(?:a|b[|)(]|c(?:d|e))\b") == (
        r"\b(?:",
        ("a", "b[|)(]", "c(?:d|e)"),
        r")\b",
    )
    assert split_alternation(r"\b(?:a\|b|c)") == (r"\b(?:", (r"a\|b", "c"), ")")
    # Not one alternation with fixed text around it.
    for source in (r"a|b", r"(?:a|b) (?:c|d)", r"(a|b)", r"(?=a|b)x", r"abc", r"[(]a|b"):
        assert split_alternation(source) is None, source
    words = "|".join(f"w{k}ord" for k in range(10))
    assert Alternation.of(re.compile(rf"\b(?:{words})\b", re.I)) is not None
    # Capturing groups would be renumbered; short alternations run whole.
    assert Alternation.of(re.compile(rf"\b({words})\b", re.I)) is None
    assert Alternation.of(re.compile(r"\b(?:a|b)\b", re.I)) is None


def test_a_narrowed_alternation_keeps_only_the_alternatives_that_occur() -> None:
    words = [f"w{k}ord" for k in range(10)]
    table = Prefilter([re.compile(rf"\b(?:{'|'.join(words)}|\w+ing)\b", re.I)], narrow=[0])
    text = "W3ORD and w7ord, singing"
    assert table.select(text) == [0]
    pattern = table.narrowed(0, table.literals(text))
    assert pattern is not None
    assert pattern.pattern == r"\b(?:w3ord|w7ord|\w+ing)\b"  # "ing" occurs too
    assert [m.group() for m in pattern.finditer(text)] == ["W3ORD", "w7ord", "singing"]
    assert table.narrowed(0, table.literals("w3ord")) is table.narrowed(0, table.literals("w3ord"))
    # Every alternative's literal present: the table's own pattern.
    every = " ".join(words) + " ing"
    assert table.narrowed(0, table.literals(every)) is table.patterns[0]
    # Not asked to narrow: the pattern always runs whole.
    assert Prefilter(table.patterns).narrowed(0, frozenset()) is table.patterns[0]
