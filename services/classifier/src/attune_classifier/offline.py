"""Offline scoring for researchers and audits, through the service's own code path.

    uv run attune-score conversations.jsonl > assessments.jsonl

Reads conversation events in the contract's JSON form, one per line, any number of
conversations interleaved (file order is treated as arrival order, as on the topic); writes one
RuptureAssessment per scored event as JSON lines. A bad line is reported on stderr with its line
number and reason and skipped; the rest are still scored. Exit status 1 if any line was bad.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from attune_classifier.assess import Assessor
from attune_classifier.model import load_scorer
from attune_classifier.settings import ClassifierSettings
from attune_classifier.window import Windows
from attune_runtime.clock import SystemClock
from attune_schemas import ConversationEvent, InvalidMessage, conversation_event_adapter, decode

CHUNK = 512


def score_stream(
    lines: Iterable[str], out: TextIO, errors: TextIO, assessor: Assessor
) -> tuple[int, int]:
    """Score every valid line; returns (assessments written, bad lines)."""
    written = bad = 0
    chunk: list[tuple[ConversationEvent, int | None]] = []

    def flush() -> None:
        nonlocal written
        for a in assessor.process(chunk):
            out.write(a.model_dump_json() + "\n")
            written += 1
        chunk.clear()

    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            chunk.append((decode(conversation_event_adapter, line), None))
        except InvalidMessage as exc:
            bad += 1
            detail = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors) or exc.reason
            print(f"line {n}: {exc.reason}: {detail}", file=errors)
            continue
        if len(chunk) >= CHUNK:
            flush()
    flush()
    return written, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attune-score", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="conversation events, JSON lines ('-' for stdin)")
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="artifact folder (default: models/artifacts)"
    )
    parser.add_argument("--scorer", choices=["model", "lexicon"], default="model")
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {"scorer": args.scorer}
    if args.model_dir is not None:
        overrides["model_dir"] = args.model_dir
    settings = ClassifierSettings.model_validate(overrides)
    windows = Windows(
        max_conversations=settings.max_conversations,
        idle_expiry=timedelta(seconds=settings.idle_expiry_seconds),
    )
    assessor = Assessor(scorer=load_scorer(settings), windows=windows, clock=SystemClock())
    source: TextIO = sys.stdin if str(args.input) == "-" else args.input.open()
    with source:
        written, bad = score_stream(source, sys.stdout, sys.stderr, assessor)
    print(f"attune-score: {written} assessments, {bad} bad lines", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
