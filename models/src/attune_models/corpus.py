"""The team's labelled corpus: loading, validation and the frozen train/test split.

Examples live in `models/corpus/examples/*.jsonl` (see FORMAT.md); the guide's own examples in
`models/corpus/guide_examples.jsonl` always train. The test split is a frozen list of groups in
`models/corpus/split.json`: training never sees them, and new groups go to training unless the
split is deliberately re-frozen (`python -m attune_models.corpus --freeze`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from attune_classifier.lexicon import CONFRONTATION_MARKERS, CRISIS_MARKERS, WITHDRAWAL_MARKERS
from attune_classifier.scoring import ContextTurn, ScoringInput
from attune_classifier.window import BASELINE_MIN

MODELS_DIR = Path(__file__).resolve().parents[2]
CORPUS_DIR = MODELS_DIR / "corpus"
SPLIT_FILE = CORPUS_DIR / "split.json"
LABELS = ("none", "withdrawal", "confrontation", "crisis")
TEST_SHARE = 0.25

Label = Literal["none", "withdrawal", "confrontation", "crisis"]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sender: Literal["ai", "counsellor", "client"]
    text: str = Field(min_length=1)


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    id: str
    group: str
    label: Label
    markers: tuple[str, ...]
    crisis_categories: tuple[str, ...]
    register_kind: Literal["chat", "spoken"] = Field(alias="register")
    topic: str
    context: tuple[Turn, ...]
    text: str = Field(min_length=1)
    latency_s: float | None = None
    hard_negative: bool
    note: str

    def scoring_input(self) -> ScoringInput:
        """The same input the service builds from a live conversation window."""
        prior_client = [len(t.text.split()) for t in self.context if t.sender == "client"]
        length_ratio = None
        if len(prior_client) >= BASELINE_MIN:
            baseline = sorted(prior_client)[len(prior_client) // 2]
            length_ratio = len(self.text.split()) / baseline if baseline else None
        return ScoringInput(
            text=self.text,
            context=tuple(
                ContextTurn("client" if t.sender == "client" else "ai", t.text)
                for t in self.context
            ),
            latency_s=self.latency_s,
            length_ratio=length_ratio,
        )


@dataclass(frozen=True)
class Corpus:
    train: list[Example]
    test: list[Example]
    data_hash: str


def _read(path: Path) -> list[Example]:
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(Example.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path.name}:{n}: {exc}") from None
    return out


def read_examples(path: Path) -> list[Example]:
    """One examples file (JSONL), validated; errors name the file and line."""
    return _read(path)


def example_files(corpus_dir: Path = CORPUS_DIR) -> list[Path]:
    return sorted((corpus_dir / "examples").glob("*.jsonl"))


def data_hash(corpus_dir: Path = CORPUS_DIR) -> str:
    """sha256 over every corpus file and the split: a model names exactly what it learned from."""
    h = hashlib.sha256()
    for path in [
        *example_files(corpus_dir),
        corpus_dir / "guide_examples.jsonl",
        corpus_dir / "split.json",
    ]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _check(examples: Iterable[Example]) -> None:
    known = set(WITHDRAWAL_MARKERS) | set(CONFRONTATION_MARKERS)
    seen: set[str] = set()
    for e in examples:
        if e.id in seen:
            raise ValueError(f"duplicate id {e.id}")
        seen.add(e.id)
        unknown = set(e.markers) - known - set(CRISIS_MARKERS)
        if unknown or set(e.crisis_categories) - set(CRISIS_MARKERS):
            raise ValueError(f"{e.id}: unknown markers {sorted(unknown)}")
        if (e.label == "crisis") != bool(e.crisis_categories):
            raise ValueError(f"{e.id}: crisis label and crisis_categories disagree")


def load(corpus_dir: Path = CORPUS_DIR, *, feedback: Path | None = None) -> Corpus:
    """The corpus; with `feedback` (an `attune feedback export` examples file) the clinicians'
    verdicts train too. They never enter the frozen test split, and the data hash names them."""
    examples = [e for p in example_files(corpus_dir) for e in _read(p)]
    guide = _read(corpus_dir / "guide_examples.jsonl")
    extra = _read(feedback) if feedback is not None else []
    _check([*examples, *guide, *extra])
    test_groups = set(json.loads((corpus_dir / "split.json").read_text())["test_groups"])
    train = [e for e in examples if e.group not in test_groups] + guide + extra
    test = [e for e in examples if e.group in test_groups]
    digest = data_hash(corpus_dir)
    if feedback is not None:
        digest = hashlib.sha256((digest + ":").encode() + feedback.read_bytes()).hexdigest()
    return Corpus(train=train, test=test, data_hash=digest)


def guide_examples(corpus_dir: Path = CORPUS_DIR) -> list[Example]:
    return _read(corpus_dir / "guide_examples.jsonl")


def freeze(corpus_dir: Path = CORPUS_DIR, *, extend: bool = False) -> list[str]:
    """Choose test groups once: a quarter of each label's groups, by a stable hash.

    `extend` keeps every earlier choice and splits only groups the split has not seen yet
    (new corpus files), so a frozen test split grows without ever moving an old group.
    """
    examples = [e for p in example_files(corpus_dir) for e in _read(p)]
    previous = json.loads(SPLIT_FILE.read_text()) if extend and SPLIT_FILE.exists() else {}
    seen = set(previous.get("seen_groups", []))
    by_label: dict[str, set[str]] = {}
    for e in examples:
        if e.group in seen:
            continue
        key = f"{e.label}:{'hn' if e.hard_negative else 'pos'}"
        by_label.setdefault(key, set()).add(e.group)
    chosen: list[str] = list(previous.get("test_groups", []))
    for key in sorted(by_label):
        # A group holding several labels (a contrast pair) is decided by its first key only.
        groups = sorted(
            by_label[key] - {g for k2 in sorted(by_label) if k2 < key for g in by_label[k2]},
            key=lambda g: hashlib.sha256(g.encode()).hexdigest(),
        )
        chosen += groups[: round(len(groups) * TEST_SHARE)]
    test_groups = sorted(set(chosen))
    all_groups = sorted(seen | {e.group for e in examples})
    (corpus_dir / "split.json").write_text(
        json.dumps(
            {
                "frozen": True,
                "test_share": TEST_SHARE,
                "test_groups": test_groups,
                "seen_groups": all_groups,
            },
            indent=1,
        )
        + "\n"
    )
    return test_groups


def stats(corpus: Corpus) -> str:
    lines = [
        f"corpus sha256 {corpus.data_hash[:16]}…  "
        f"train {len(corpus.train)}  test {len(corpus.test)}"
    ]
    for name, part in (("train", corpus.train), ("test", corpus.test)):
        labels: Counter[str] = Counter(e.label for e in part)
        hard: Counter[str] = Counter(e.label for e in part if e.hard_negative)
        lines.append(
            f"  {name:5} "
            + "  ".join(f"{lab} {labels[lab]} (hard neg {hard[lab]})" for lab in LABELS)
        )
    markers = Counter(
        m for e in corpus.train + corpus.test for m in (*e.markers, *e.crisis_categories)
    )
    lines.append("  markers: " + ", ".join(f"{m} {c}" for m, c in sorted(markers.items())))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Corpus statistics; --freeze re-chooses the test split."
    )
    parser.add_argument("--freeze", action="store_true", help="re-choose the whole test split")
    parser.add_argument(
        "--extend", action="store_true", help="split only groups the frozen split has not seen"
    )
    args = parser.parse_args()
    if args.freeze or args.extend:
        chosen = freeze(extend=args.extend)
        print(f"froze {len(chosen)} test groups into {SPLIT_FILE}")
    print(stats(load()))


if __name__ == "__main__":
    main()
