"""Features of one client message in context, shared by training and the live service.

Two feature sets, one per model:
- rupture: the client's words (word n-grams), the 3RS marker phrases, a pretrained sentence
  embedding of the reply (meaning beyond the corpus's own words), and the exchange: how short
  the reply is against what the AI turn asked for, and, for a short reply only, what the AI turn
  said (its embedding), so "fine" after an unasked-for suggestion can read differently from "fine"
  after "did you get there ok?". Reply length and latency against the client's baseline are
  left to the disengagement path: in the corpus they are written, not observed, and they taught
  the model that any short reply is a rupture.
- exchange: a short reply against the AI turn it answers, both read by their embeddings and a few
  cues of misattunement (an unasked-for suggestion, a platitude, a script's exclamations), for
  the withdrawal the product exists to catch: "fine" right after the AI missed the point.
- crisis: one window of at most a few sentences at a time (a long message is scored window by
  window), read by its embedding, the risk-cue families, the crisis rule hits split into the
  speaker's own current risk and mere mentions (`attribution`), who the window talks about, and
  whether it answers a risk question the AI just asked.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler

from attune_classifier.attribution import own_risk
from attune_classifier.embedding import embed
from attune_classifier.embedding import load as load_embedding
from attune_classifier.lexicon import (
    CONFRONTATION_MARKERS,
    CRISIS_MARKERS,
    TEXTS_KEEP,
    WITHDRAWAL_MARKERS,
    cue_counts,
    find_markers,
    normalise,
)
from attune_classifier.scoring import (
    ScoringInput,
    is_closed_question,
    preceding_assistant_turn,
)
from attune_schemas import MarkerFamily

RUPTURE_MARKERS = (*WITHDRAWAL_MARKERS, *CONFRONTATION_MARKERS)
SHORT_WORDS = 4  # a reply this short says little by its words; the exchange decides
WINDOW_SENTENCES = 2
WINDOW_WORDS = 60
# A message of at most this many windows (about six sentences) is one account, read whole.
ONE_ACCOUNT = 3

_SUGGESTION = re.compile(
    r"\b(?:try|trying|have you (?:considered|thought about|tried)|might help|could help|"
    r"recommend|suggest|what if|how about|group|exercise|technique|homework|worksheet|journal|"
    r"breathing|meditat\w*|app|remember to|make sure|you should|you could|you need to)\b",
    re.IGNORECASE,
)
_MINIMAL = re.compile(
    r"^\W*(?:ok(?:ay)?|k+|fine|whatever|idk|dunno|sure|meh|i guess|maybe|nothing|not really|"
    r"yeah|yep|yes|no|nah|mhm+|hm+|mm-?hmm|right|cool|nvm|forget it|if you say so)\W*$",
    re.IGNORECASE,
)
_SELF_WORDS = r"i|i'?m|im|i'?ve|ive|i'?d|i'?ll|me|my|myself|mine"
_YOU_WORDS = r"you|your|you'?re|youre|yourself|u|ur"
_SELF = re.compile(rf"\b(?:{_SELF_WORDS})\b", re.IGNORECASE)
_YOU = re.compile(rf"\b(?:{_YOU_WORDS})\b", re.IGNORECASE)
# Both in one pass: their words start with different letters (i/m against y/u), so a match of
# one never covers where the other could start, and each group counts what its pattern finds.
# Every word starts with one of those letters, a word character: the leading `\b` is then "no
# word character before", and the lookahead lets the engine skip other positions at once.
_PERSONS = re.compile(rf"(?<!\w)(?=[imuy])(?:({_SELF_WORDS})|({_YOU_WORDS}))\b", re.IGNORECASE)


_FIRST = operator.itemgetter(0)


def person_counts(text: str) -> tuple[int, int]:
    """How often the text says I/me/my, and you/your: `_SELF` and `_YOU` matches."""
    found = _PERSONS.findall(text)
    # Counted without a Python loop: each match fills exactly one of its two groups.
    mine = len(found) - list(map(_FIRST, found)).count("")
    return mine, len(found) - mine


_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")


# "you know" as a filler of speech ("um, you know, like", "a lifestyle, you know, crime") says
# nothing to the assistant; as words, "you" and "know" taught the word model confrontation from
# the corpus's "you know nothing about me". Joined into one word of the same length, the filler
# keeps every character's place (the explanation's spans index the text) and its own weight.
_FILLER_YOU_KNOW = re.compile(
    r"(^|[,.;:!?\-\u2014]\s*|\b(?:um|uh|and|but|so|like|well|yeah|mean|er|erm|oh)\s+)"
    r"you know(?=\s*(?:[,.!?;:\-\u2014]|$)|\s+(?:like|um|uh|er|erm)\b)"
)


def word_text(text: str) -> str:
    """The message as the word n-grams read it: lower-cased, the filler "you know" one word."""
    lowered = normalise(text).lower()
    if "you know" not in lowered:
        return lowered
    return _FILLER_YOU_KNOW.sub(r"\1you_know", lowered)


def client_text(items: Sequence[ScoringInput]) -> list[str]:
    return [word_text(i.text) for i in items]


class TextColumn(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """The client message as lower-cased text, for the word n-grams."""

    def __init__(self, column: str = "client") -> None:
        self.column = column

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> TextColumn:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> list[str]:
        return client_text(items)


@lru_cache(maxsize=TEXTS_KEEP)  # the rupture, exchange and embedding features each ask of a reply
def is_short(text: str) -> bool:
    return len(text.split()) <= SHORT_WORDS or bool(_MINIMAL.match(text))


_NO_MARKERS = [0.0] * (len(RUPTURE_MARKERS) + 2)  # MarkerFeatures' row of a message without hits


class MarkerFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Counts of each 3RS marker phrase, and crisis phrases split into own risk and mentions."""

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> MarkerFeatures:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float64]:
        rows = []
        for item in items:
            hits = find_markers(item.text)
            if not hits:
                rows.append(_NO_MARKERS)
                continue
            counts = dict.fromkeys(RUPTURE_MARKERS, 0)
            for h in hits:
                if h.marker in counts:
                    counts[h.marker] = min(2, counts[h.marker] + 1)
            crisis = [h for h in hits if h.family is MarkerFamily.CRISIS]
            own = own_risk(item.text, crisis)
            rows.append([*counts.values(), float(bool(own)), float(len(crisis) > len(own))])
        return np.asarray(rows, dtype=np.float64)


_LONG_REPLY = [0.0] * 7  # ExchangeFeatures' row of a reply that is not short


class ExchangeFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A short reply against the form of the AI turn it answers."""

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> ExchangeFeatures:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float64]:
        rows = []
        for item in items:
            if not is_short(item.text):
                rows.append(_LONG_REPLY)  # every value is scaled by `short`
                continue
            before = preceding_assistant_turn(item.context)
            short = 1.0
            rows.append(
                [
                    short,
                    short * is_closed_question(before),
                    short * bool(before and suggests(before)),
                    short * bool(before and before.rstrip().endswith("?")),
                    short * (before is None),
                    short * min(math.log1p(len(before.split())) / 5, 1.0) if before else 0.0,
                    short * (min(item.minimal_streak, 3) / 3),
                ]
            )
        return np.asarray(rows, dtype=np.float64)


class EmbeddingFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A pretrained embedding of the reply, or of the AI turn a short reply answers.

    Holds only its settings: the weights are loaded from the installed wheel (`embedding`), never
    stored in the artifact.
    """

    def __init__(self, column: str = "client", dim: int = 256) -> None:
        self.column = column
        self.dim = dim

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> EmbeddingFeatures:
        return self

    def load(self) -> None:
        """Load the weights from the wheel now (`embedding.load`)."""
        load_embedding(self.dim)

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float32]:
        if self.column == "client":
            return embed([normalise(i.text) for i in items], self.dim)
        # The AI turn, only where the reply is short: what the reply is a reply to.
        result: NDArray[np.float32] = np.zeros((len(items), self.dim), dtype=np.float32)
        rows = [
            (k, turn)
            for k, i in enumerate(items)
            if is_short(i.text) and (turn := preceding_assistant_turn(i.context)) is not None
        ]
        if rows:
            result[[k for k, _ in rows]] = embed([normalise(t) for _, t in rows], self.dim)
        return result


_PLATITUDE = re.compile(
    r"\b(?:be kind to yourself|take care of yourself|stay positive|(?:look on the )?bright side|"
    r"remember (?:that|to)|you'?ve got this|you(?:'re| are) not alone|"
    r"many people|some people find|(?:it'?s|that'?s) (?:completely |totally )?normal|"
    r"everything happens|self[- ]care|hang in there|stay strong|things will get better|"
    # Minimising (the guide's "at least..."): the disclosure made smaller than it is.
    r"at least (?:you|it|they|she|he)\b|is nothing(?! (?:left|else|more|to))|could be worse|"
    r"no big deal|don'?t worry|"
    r"cheer up|happens to everyone|not (?:nearly |half |that |as )?as bad as|"
    r"i bet (?:most|no ?one|nobody)|"
    r"(?:he|she|they) probably didn'?t mean|everyone (?:has|feels|gets|goes through))\b",
    re.IGNORECASE,
)


# A suggestion as an act, not a topic: "being part of a group gives you a sense of belonging" is
# a reflection that mentions a group; "have you thought about joining a group?" proposes one.
_PROPOSAL = re.compile(
    r"\b(?:have you (?:considered|thought about|tried)|you (?:should|need to|ought to)|"
    # A lecture: "you've got to think about your kids", "you must remember...".
    r"you(?:'ve| have)? got to (?:think|remember|consider|stop|keep|focus|look|be)|"
    r"you (?:must|have to) (?:think|remember|consider|stop|keep|focus)|"
    r"you (?:could|might) (?:try|always|just|want to|consider)|why (?:don'?t|not) you|how about|"
    # "Try to..." as an imperative, not "trying to fit in" or "wanted to try to" in a reflection.
    r"what if you|(?<!\w )(?<!\w)try (?:to|some|a|an|the|this|that)|"
    r"(?:just|maybe|please|so|could|might|can|should|you) try (?:to|some|a|an|the|this|that)|"
    r"i(?:'d| would)? (?:suggest|recommend)|(?:might|could|would|will) help|remember to|"
    r"make sure (?:you|to)|(?:might|would) be worth|give (?:it|one|that|them) a (?:go|try)|"
    r"one thing (?:that )?(?:helps|could|might)|would you (?:be )?(?:willing|up for)|"
    r"would you like to try|shall we|let'?s (?:try|do|make|start|write|list|plan)|"
    r"what about (?:trying|doing|\w+ing)|(?<!\w )(?<!\w)try \w+ing|"
    r"(?:that|which|this|it) (?:can|could|may) help)\b",
    re.IGNORECASE,
)
# A turn that moves on from what the client just said to the AI's own agenda (the guide's
# "ignores what the client just disclosed").
_AGENDA = re.compile(
    r"\b(?:moving on|let'?s (?:move on|get back|go back|focus on)|"
    r"(?:getting )?back to (?:the|your|our)|"
    r"on (?:a|another) (?:different )?(?:note|topic)|changing the subject)\b",
    re.IGNORECASE,
)


def steers(turn: str) -> bool:
    """A proposal, a platitude, a minimising line or a move to the AI's agenda: what the AI turn
    did, not its topic."""
    return bool(_PROPOSAL.search(turn) or _PLATITUDE.search(turn) or _AGENDA.search(turn))


class MisattunementCues(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """What the AI turn did that a short reply answers, and how minimal the reply is."""

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> MisattunementCues:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float64]:
        rows = []
        for item in items:
            before = preceding_assistant_turn(item.context) or ""
            words = len(item.text.split())
            rows.append(
                [
                    float(bool(before) and suggests(before)),
                    float(bool(_PROPOSAL.search(before))),
                    float(bool(_PLATITUDE.search(before))),
                    float(is_closed_question(before)),
                    float(before.rstrip().endswith("?")),
                    min(before.count("!"), 2) / 2,
                    min(math.log1p(len(before.split())) / 5, 1.0),
                    float(bool(_MINIMAL.match(item.text))),
                    min(math.log1p(words) / 3, 1.0),
                ]
            )
        return np.asarray(rows, dtype=np.float64)


def build_exchange_features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("cues", Pipeline([("values", MisattunementCues()), ("scale", MaxAbsScaler())])),
            ("replied_to", EmbeddingFeatures("ai_if_short")),
            ("reply", EmbeddingFeatures("client")),
        ]
    )


def build_features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "client_words",
                Pipeline(
                    [
                        ("text", TextColumn("client")),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=10000
                            ),
                        ),
                    ]
                ),
            ),
            ("markers", Pipeline([("counts", MarkerFeatures()), ("scale", MaxAbsScaler())])),
            ("exchange", Pipeline([("values", ExchangeFeatures()), ("scale", MaxAbsScaler())])),
            ("client_embedding", EmbeddingFeatures("client")),
            ("replied_to", EmbeddingFeatures("ai_if_short")),
        ]
    )


# ---------------------------------------------------------------- crisis


def windows(text: str) -> list[str]:
    """A message cut into windows of a few sentences: one risk sentence in a long post counts."""
    # At most one sentence break (`_SENTENCES` needs a newline or one of .!?): one window.
    breaks = text.count(".") + text.count("!") + text.count("?")
    short = len(text.split()) <= WINDOW_WORDS
    if "\n" not in text and breaks <= 1 and short:
        return [text]
    sentences = [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]
    if len(sentences) <= WINDOW_SENTENCES and short:
        return [text]
    out: list[str] = []
    current: list[str] = []
    current_words = 0  # the words of `current`: each part is whole words joined by one space
    for sentence in sentences:
        words = sentence.split()
        while len(words) > WINDOW_WORDS:  # a run-on "sentence" of a forum post
            out.append(" ".join(words[:WINDOW_WORDS]))
            words = words[WINDOW_WORDS:]
        current.append(" ".join(words))
        current_words += len(words)
        if len(current) >= WINDOW_SENTENCES or current_words >= WINDOW_WORDS:
            out.append(" ".join(current))
            current = []
            current_words = 0
    if current:
        out.append(" ".join(current))
    return [w for w in out if w] or [text]


def window_inputs(item: ScoringInput) -> list[ScoringInput]:
    """The crisis model's inputs for one message: a chat turn of a few windows (`ONE_ACCOUNT`)
    whole, a longer post its windows, the first with the context.

    The models learned from whole turns: "he leaves me in bed all day when he's angry. won't
    bring my meds. says i'm a burden" is one account, which no two of its sentences tell alone.
    """
    parts = windows(item.text)
    if len(parts) <= ONE_ACCOUNT:
        return [item]
    return [ScoringInput(text=parts[0], context=item.context)] + [
        ScoringInput(text=p) for p in parts[1:]
    ]


_SAFETY_QUESTION = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)? yourself|end(?:ing)? your life|hurt(?:ing)? yourself|"
    r"harm(?:ing)? yourself|self[- ]?harm|safe|safety|"
    r"thoughts of (?:dying|death|not being here)|"
    # "Do you have a plan?" asks about risk; "what a great plan", "a plan for the weekend" do not.
    r"(?:a|any) plans?(?= ?\?| (?:to|for) (?:end|kill|hurt|harm|die|dying|do it|suicide)|"
    r" (?:for|of) how)|"
    r"(?:the )?means to (?:end|kill|hurt|harm|do it)|"
    r"hurt (?:anyone|someone|him|her)|are you (?:ok|okay|alright)|at risk)\b",
    re.IGNORECASE,
)
_AFFIRMATIVE = re.compile(
    r"^\W*(?:yes|yeah|ya|yep|yup|sometimes|maybe|a bit|kind of|kinda|i guess|mm+|uh-huh)\b", re.I
)


@lru_cache(maxsize=1024)  # one AI turn is read for its reply, each window and each model
def asks_about_safety(turn: str) -> bool:
    return bool(_SAFETY_QUESTION.search(turn))


@lru_cache(maxsize=1024)
def suggests(turn: str) -> bool:
    return bool(_SUGGESTION.search(turn))


def answers_safety_question(item: ScoringInput) -> bool:
    """A yes, or a few words, straight after the AI asked about safety or self-harm."""
    if not asks_about_safety(preceding_assistant_turn(item.context) or ""):
        return False
    text = normalise(item.text)
    return bool(_AFFIRMATIVE.match(text)) or len(text.split()) <= 6


_NO_RULES = [0.0] * (2 * len(CRISIS_MARKERS))  # no crisis rule hit: neither own nor mentioned


class CrisisCueFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Risk cues of one window: cue families, own vs mentioned crisis rules, who it is about."""

    def fit(self, items: Sequence[ScoringInput], y: Any = None) -> CrisisCueFeatures:
        return self

    def transform(self, items: Sequence[ScoringInput]) -> NDArray[np.float64]:
        rows = []
        for item in items:
            text = normalise(item.text)
            crisis = [h for h in find_markers(item.text) if h.family is MarkerFamily.CRISIS]
            if crisis:
                own = {h.marker for h in own_risk(item.text, crisis)}
                mentioned = {h.marker for h in crisis} - own
                rules = [float(c in own) for c in CRISIS_MARKERS]
                rules += [float(c in mentioned) for c in CRISIS_MARKERS]
            else:
                rules = _NO_RULES
            words = max(1, len(text.split()))
            before = preceding_assistant_turn(item.context) or ""
            safety = asks_about_safety(before)
            mine, yours = person_counts(text)
            rows.append(
                [
                    *[n if n < 2 else 2 for n in cue_counts(text)],  # min(2, n), without a call
                    *rules,
                    min(1.0, 5 * mine / words),
                    min(1.0, 5 * yours / words),
                    math.log1p(words),
                    float(safety),
                    float(safety and bool(_AFFIRMATIVE.match(text))),
                    float(safety and words <= 6),
                ]
            )
        return np.asarray(rows, dtype=np.float64)


def build_crisis_features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("cues", Pipeline([("values", CrisisCueFeatures()), ("scale", MaxAbsScaler())])),
            ("embedding", EmbeddingFeatures("client")),
        ]
    )
