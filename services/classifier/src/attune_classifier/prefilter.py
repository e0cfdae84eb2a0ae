r"""Run only the patterns of a regex table that can match a text, with the same results.

Most messages match none of the lexicon's patterns, yet trying ~200 regexes one by one costs far
more than the rest of the scorer. Each pattern is read once, when its table is built, with the
regex engine's own parser, to derive literal strings every match must contain: a match of
`\bself[- ]?harm\b` contains "selfharm", "self-harm" or "self harm"; a match of
`\bpills\b[^.!?]{0,30}\bsaved up\b` contains "pills" and "saved up". One Aho-Corasick pass over
the text finds which literals occur; a pattern whose required literals are absent cannot match, so
it is skipped. A pattern with no safe literal always runs.

Nothing is declared by hand next to the patterns, so a pattern added or edited in a table is
covered the moment the table is built. Every step errs towards running a pattern: a construct the
derivation does not understand contributes no literal, never a wrong one.
"""

from __future__ import annotations

import importlib
import itertools
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

# The `re` module's own parser (private, stable since 3.11 where it replaced sre_parse): the only
# reader of a pattern that is sure to agree with the engine on what the pattern means.
_PARSER: Any = importlib.import_module("re._parser")

# Most strings an exact set may hold. Beyond it a sequence is cut into separate literals, each
# still required, so the cap trades selectivity for automaton size, never correctness.
_CAP = 64
_RANGE_MAX = 16  # a character class range wider than this is treated as "any character"
# A literal set whose shortest string has fewer letters than this ("he", "my ") occurs in almost
# every message: as a second condition it would rule out next to nothing, yet cost a search hit.
_CHECK_MIN = 3

# How each text character is folded before the search: to the lower-case ASCII letter that
# `re.IGNORECASE` treats it as. Besides A-Z only four characters are equal to an ASCII letter
# under Unicode case-insensitive matching (the dotted and dotless i, the long s, the Kelvin sign);
# the tests check every code point against `re`. A digit of another script, which `\d` matches
# as it matches 0-9, folds to "0": `\d` stands for all ten ASCII digits in a literal, so any one
# of them keeps it. Other non-ASCII characters are kept as they are and never form part of a
# literal.
_FOLD = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"} | {
    0x130: "i",  # İ
    0x131: "i",  # ı
    0x17F: "s",  # ſ
    0x212A: "k",  # Kelvin sign
}
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
_DIGITS = frozenset("0123456789")


def fold(text: str) -> str:
    """Same length as the text; a pattern's literal, lower-cased, occurs in it where it matches."""
    if text.isascii():
        return text.lower()
    return _OTHER_DIGIT.sub("0", text.translate(_FOLD))


Literals = frozenset[str]
_NOTHING: Literals = frozenset({""})  # only the empty string: nothing known
_SECOND = operator.itemgetter(1)  # the literal's id in an automaton hit (end, id)


@dataclass(frozen=True)
class _Info:
    """What the derivation knows about the strings one node of a pattern can match.

    All strings are folded. A set that holds "" says nothing: every string contains "".
    """

    exact: Literals | None  # every string the node can match, when few and all known
    needs: tuple[Literals, ...] = ()  # a match contains one string of each of these sets
    prefix: Literals = _NOTHING  # a match starts with one of these
    suffix: Literals = _NOTHING  # a match ends with one of these

    def starts(self) -> Literals:
        return self.exact if self.exact is not None else self.prefix

    def ends(self) -> Literals:
        return self.exact if self.exact is not None else self.suffix


_UNKNOWN = _Info(None)
_EMPTY = _Info(_NOTHING)


def required_literals(pattern: re.Pattern[str]) -> tuple[Literals, ...]:
    """Sets of folded literals; every match of the pattern contains one string of each set."""
    try:
        info = _sequence(_PARSER.parse(pattern.pattern, pattern.flags))
    except (re.error, RecursionError, AttributeError, IndexError, TypeError, ValueError):
        return ()  # a parser this code does not know: the pattern simply always runs
    needs = list(dict.fromkeys(_minimal(n) for n in _options(info)))
    # A set is implied by another when each string of the other contains one of its strings.
    return tuple(
        a
        for a in needs
        if not any(b != a and all(any(s in t for s in a) for t in b) for b in needs)
    )


def _options(info: _Info) -> list[Literals]:
    """Every set the node says a match must contain a string of."""
    sets = [*info.needs, info.starts(), info.ends()]
    return [s for s in sets if "" not in s]


def _minimal(literals: Literals) -> Literals:
    # Any-of semantics: a string that contains another member adds nothing to the test.
    return frozenset(
        s for s in literals if not any(o != s and o in s for o in literals if len(o) <= len(s))
    )


def _join(left: Literals, right: Literals) -> Literals | None:
    """Every string of `left` followed by every string of `right`, unless that is too many."""
    if len(left) * len(right) > _CAP:
        return None
    return frozenset(a + b for a in left for b in right)


def _sequence(items: Iterable[tuple[Any, Any]]) -> _Info:
    return _concat([_node(op, av) for op, av in items])


def _concat(infos: Sequence[_Info]) -> _Info:
    run = _NOTHING  # what the current unbroken stretch of exactly known nodes can match
    needs: list[Literals] = []
    prefix: Literals | None = None  # set at the first break
    for info in infos:
        joined = _join(run, info.starts())
        if info.exact is not None and joined is not None:
            run = joined
            continue
        # A break: the stretch so far ends here, joined with how this node starts if it can be.
        if prefix is None:
            prefix = run if joined is None else joined
        if info.exact is not None:  # too many strings to join: a new stretch starts here
            needs.append(run)
            run = info.exact
            continue
        needs += [run, info.starts()] if joined is None else [joined]
        needs.extend(info.needs)
        run = info.ends()
    if prefix is None:
        return _Info(run)
    needs.append(run)
    return _Info(None, tuple(n for n in needs if "" not in n), prefix, run)


def _node(op: Any, av: Any) -> _Info:
    name = op.name
    if name == "LITERAL":
        return _Info(frozenset({chr(av).lower()})) if av < 128 else _UNKNOWN
    if name == "IN":
        return _char_class(av)
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return _EMPTY  # zero-width: the strings on either side stay adjacent in the match
    if name == "SUBPATTERN":
        return _sequence(av[3])
    if name == "ATOMIC_GROUP":
        return _sequence(av)
    if name == "BRANCH":
        return _alternation([_sequence(b) for b in av[1]])
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return _repeat(av[0], av[1], _sequence(av[2]))
    return _UNKNOWN  # ANY, NOT_LITERAL, GROUPREF, GROUPREF_EXISTS, and anything newer


def _char_class(items: Sequence[tuple[Any, Any]]) -> _Info:
    chars: set[str] = set()
    for op, av in items:
        name = op.name
        if name == "LITERAL" and av < 128:
            chars.add(chr(av).lower())
        elif name == "RANGE" and av[1] < 128 and av[1] - av[0] < _RANGE_MAX:
            chars.update(chr(c).lower() for c in range(av[0], av[1] + 1))
        elif name == "CATEGORY" and av.name == "CATEGORY_DIGIT":
            # `\d`: any digit, which `fold` turns into an ASCII one ("the 3rd" needs "the 3").
            chars.update(_DIGITS)
        else:
            return _UNKNOWN  # NEGATE, CATEGORY (\w, \s), wide or non-ASCII ranges
    return _Info(frozenset(chars))


def _alternation(branches: list[_Info]) -> _Info:
    def union(sets: Iterable[Literals]) -> Literals | None:
        joined = frozenset().union(*sets)
        return joined if len(joined) <= _CAP else None

    exact = union(b.starts() for b in branches)
    if exact is not None and all(b.exact is not None for b in branches):
        return _Info(exact)
    picks = [_best(b) for b in branches]
    # A branch that needs nothing lets the alternation match without any literal.
    needs = () if any(p is None for p in picks) else (frozenset().union(*(p or () for p in picks)),)
    return _Info(None, needs, exact or _NOTHING, union(b.ends() for b in branches) or _NOTHING)


def _repeat(low: int, high: int, child: _Info) -> _Info:
    if low == 0:
        if high == 1 and child.exact is not None and len(child.exact) < _CAP:
            return _Info(child.exact | _NOTHING)
        return _UNKNOWN
    copies = min(low, 3)  # the copies a match must hold; enough to be selective
    body = _concat([child] * copies)
    if high == copies:
        return body
    # More copies may follow: a match starts like the required copies and ends like one copy.
    return _Info(None, tuple(_options(body)), body.starts(), child.ends())


def _best(info: _Info) -> Literals | None:
    options = _options(info)
    return max(options, key=_selectivity) if options else None


def _selectivity(literals: Literals) -> tuple[int, int]:
    # Longer literals are rarer in ordinary chat (spaces count for little: "my " is everywhere);
    # among equals, fewer alternatives.
    return min(len(s.replace(" ", "")) for s in literals), -len(literals)


class Prefilter:
    """The patterns of one table that may match a text, found with one pass over the text."""

    def __init__(self, patterns: Sequence[re.Pattern[str]], *, narrow: Iterable[int] = ()) -> None:
        """`narrow`: indices of the patterns `narrowed` may rebuild (the others run whole)."""
        self.patterns = tuple(patterns)
        ids: dict[str, int] = {}
        triggers: list[int] = []  # per literal id: bitmask of patterns it lets through
        always = 0
        checks: list[tuple[frozenset[int], ...]] = []
        for index, pattern in enumerate(self.patterns):
            needs = sorted(required_literals(pattern), key=_selectivity, reverse=True)
            needs = needs[:1] + [n for n in needs[1:] if _selectivity(n)[0] >= _CHECK_MIN]
            as_ids = [frozenset(ids.setdefault(s, len(ids)) for s in n) for n in needs]
            triggers.extend([0] * (len(ids) - len(triggers)))
            if not as_ids:
                always |= 1 << index
                checks.append(())
                continue
            # The rarest set triggers the pattern; the others are checked before it runs.
            for literal in as_ids[0]:
                triggers[literal] |= 1 << index
            checks.append(tuple(as_ids[1:]))
        self._always = always
        self._checks = tuple(checks)
        # Alternatives of a long alternation, each enabled by its own literals (see `narrowed`).
        # Per pattern: literal id -> bitmask of the alternatives the literal lets through.
        self._alternations: dict[int, tuple[Alternation, dict[int, int]]] = {}
        for index in sorted(set(narrow)):
            alternation = Alternation.of(self.patterns[index])
            if alternation is None:
                continue
            enables: dict[int, int] = {}
            for branch, need in enumerate(alternation.needs):
                for string in need:
                    literal = ids.setdefault(string, len(ids))
                    enables[literal] = enables.get(literal, 0) | 1 << branch
            self._alternations[index] = (alternation, enables)
        triggers.extend([0] * (len(ids) - len(triggers)))
        self._triggers = tuple(triggers)
        # Most texts keep one alternative of a family: those patterns are compiled here, once;
        # rarer combinations when first met, kept up to _NARROW_KEEP.
        self._single: dict[tuple[int, int], re.Pattern[str] | None] = {
            (index, alternation.always | 1 << branch): alternation.compile(
                alternation.always | 1 << branch
            )
            for index, (alternation, _) in self._alternations.items()
            for branch in range(len(alternation.branches))
        }
        self._narrow_cache: dict[tuple[int, int], re.Pattern[str] | None] = {}
        self._automaton: Any = None
        if ids:
            self._automaton = ahocorasick.Automaton()
            for string, i in ids.items():
                self._automaton.add_word(string, i)
            self._automaton.make_automaton()

    @property
    def always_run(self) -> tuple[int, ...]:
        """Indices of the patterns no literal could be derived for."""
        return tuple(i for i in range(len(self.patterns)) if self._always >> i & 1)

    def select(self, text: str) -> list[int]:
        """Indices, in table order, of the patterns that can match `text` (and maybe a few more)."""
        return self.select_found(self.literals(text))

    def literals(self, text: str) -> frozenset[int]:
        """The ids of the literals that occur in the text (what `select_found` and `narrowed`
        read): one Aho-Corasick pass over the folded text."""
        if self._automaton is None:
            return frozenset()
        return frozenset(map(_SECOND, self._automaton.iter(fold(text))))

    def select_found(self, found: frozenset[int]) -> list[int]:
        """`select` of a text whose `literals` are `found`."""
        mask = self._always
        for i in found:
            mask |= self._triggers[i]
        selected = []
        while mask:
            low = mask & -mask
            index = low.bit_length() - 1
            mask ^= low
            checks = self._checks[index]
            if not checks or all(not found.isdisjoint(need) for need in checks):
                selected.append(index)
        return selected

    def narrowed(self, index: int, found: frozenset[int]) -> re.Pattern[str] | None:
        """The pattern at `index` to run on a text whose `literals` are `found`: the table's own,
        or, for a long alternation, one made of only the alternatives whose literals occur.

        An alternative whose required literals are absent can match nowhere in the text, so the
        regex engine never takes it: without it, the pattern finds the same matches, in the same
        order, with the same spans, while the engine tries a handful of alternatives at each word
        instead of a hundred. None: no alternative is left, the pattern cannot match.
        """
        split = self._alternations.get(index)
        if split is None:
            return self.patterns[index]
        alternation, enables = split
        kept = alternation.always
        for literal in found:
            kept |= enables.get(literal, 0)
        if kept == alternation.every:
            return self.patterns[index]
        key = (index, kept)
        if key in self._single:
            return self._single[key]
        if key not in self._narrow_cache:
            if len(self._narrow_cache) >= _NARROW_KEEP:
                self._narrow_cache.clear()
            self._narrow_cache[key] = alternation.compile(kept)
        return self._narrow_cache[key]


# An alternation of fewer alternatives than this runs whole: narrowing it saves less than a
# compile costs. Narrowed patterns are kept by (pattern, alternatives), up to _NARROW_KEEP.
_NARROW_MIN = 8
_NARROW_KEEP = 4096


@dataclass(frozen=True)
class Alternation:
    """A pattern that is one alternation with fixed text around it: `\\b(?:a|b|...)\\b`.

    Split on the pattern's own source, so an edited pattern is split as it now reads; each
    alternative's literals are derived like a whole pattern's (`required_literals`).
    """

    head: str  # the source up to and including "(?:"
    branches: tuple[str, ...]
    tail: str  # from the alternation's closing ")" to the end
    flags: int
    needs: tuple[Literals, ...]  # per alternative: one of these occurs in its every match
    always: int  # bitmask of the alternatives without a literal: they always stay
    every: int  # bitmask of all alternatives

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> Alternation | None:
        """The split, or None where the pattern is not of that shape or not worth narrowing."""
        # Capturing groups would be renumbered (and backreferences broken) by dropping some.
        if not isinstance(pattern.pattern, str) or pattern.groups or pattern.flags & re.VERBOSE:
            return None
        split = split_alternation(pattern.pattern)
        if split is None or len(split[1]) < _NARROW_MIN:
            return None
        head, branches, tail = split
        needs: list[Literals] = []
        always = 0
        try:
            for k, branch in enumerate(branches):
                sets = required_literals(re.compile(branch, pattern.flags))
                if sets:
                    needs.append(max(sets, key=_selectivity))
                else:
                    needs.append(frozenset())
                    always |= 1 << k
        except re.error:
            return None
        return cls(
            head, branches, tail, pattern.flags, tuple(needs), always, (1 << len(branches)) - 1
        )

    def compile(self, kept: int) -> re.Pattern[str] | None:
        chosen = [b for k, b in enumerate(self.branches) if kept >> k & 1]
        if not chosen:
            return None
        return re.compile(self.head + "|".join(chosen) + self.tail, self.flags)


def split_alternation(source: str) -> tuple[str, tuple[str, ...], str] | None:
    """(head, alternatives, tail) of a pattern whose only top-level alternation is one `(?:...)`
    group's, e.g. `\\b(?:a|b)\\b` -> ("\\b(?:", ("a", "b"), ")\\b"); None otherwise."""
    bars: dict[int, list[int]] = {}  # "|" positions, by the opening of their innermost group
    top: list[tuple[int, int]] = []  # (open, close) of each top-level group
    stack: list[int] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":  # a character class: "(", ")" and "|" inside it are plain characters
            i += 1
            if i < n and source[i] == "^":
                i += 1
            if i < n and source[i] == "]":
                i += 1
            while i < n and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
        elif c == "(":
            stack.append(i)
        elif c == ")":
            if not stack:
                return None
            start = stack.pop()
            if not stack:
                top.append((start, i))
        elif c == "|":
            bars.setdefault(stack[-1] if stack else -1, []).append(i)
        i += 1
    if stack or -1 in bars:
        return None
    groups = [(start, end) for start, end in top if start in bars]
    if len(groups) != 1 or not source.startswith("(?:", groups[0][0]):
        return None
    start, end = groups[0]
    cuts = [start + 2, *bars[start], end]
    branches = tuple(source[a + 1 : b] for a, b in itertools.pairwise(cuts))
    head, tail = source[: start + 3], source[end:]
    if head + "|".join(branches) + tail != source:
        return None
    return head, branches, tail
