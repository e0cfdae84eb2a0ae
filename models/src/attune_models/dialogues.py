"""Real conversations from `../shared/data/` (ESConv, FailedESConv, Reddit C-SSRS) as events.

The three sets share one JSON-lines shape: a conversation id, turns with a speaker (`client`
or `ai`), text and an optional seeker rating, and set-level labels. They are read at evaluation
time and never copied into the project. ESConv is CC BY-NC: evaluation and threshold setting
only, never training text. C-SSRS is CC BY: it may train the crisis model.

None of the sets carries timestamps, so turns are spaced by one fixed gap (`GAP`): reply
latency carries no information in these evaluations, only reply length and content do.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from attune_schemas import MessageSent, Sender

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIR = ROOT.parent / "shared" / "data"
GAP = timedelta(seconds=30)
MAX_TEXT = 10_000  # the contract's limit for one message
START = datetime(2026, 1, 1, tzinfo=UTC)

ESCONV = "esconv/esconv.dev.jsonl"
FAILED_ESCONV = "esconv/failed_esconv.dev.jsonl"
CSSRS = "cssrs/cssrs.dev.jsonl"
CSSRS_AT_RISK = ("Ideation", "Behavior", "Attempt")
CSSRS_NOT_AT_RISK = ("Supportive", "Indicator")


@dataclass(frozen=True)
class DialogueTurn:
    speaker: str  # client | ai
    text: str
    feedback: int | None


@dataclass(frozen=True)
class Dialogue:
    conversation_id: str
    source: str
    turns: tuple[DialogueTurn, ...]
    labels: dict[str, Any]

    @property
    def client_turns(self) -> int:
        return sum(t.speaker == "client" for t in self.turns)

    @staticmethod
    def message_id(index: int) -> str:
        return f"t{index}"

    def events(self, *, tenant_id: str = "eval", gap: timedelta = GAP) -> list[MessageSent]:
        """The conversation as it would reach Attune, one turn every `gap`."""
        return [
            MessageSent(
                event_id=uuid.uuid5(
                    uuid.NAMESPACE_URL, f"{self.source}/{self.conversation_id}/{i}"
                ),
                conversation_id=self.conversation_id,
                tenant_id=tenant_id,
                occurred_at=START + gap * i,
                message_id=self.message_id(i),
                sender=Sender.CLIENT if t.speaker == "client" else Sender.AI,
                text=t.text,
            )
            for i, t in enumerate(self.turns)
        ]


def data_dir() -> Path:
    return Path(os.environ.get("ATTUNE_SHARED_DATA", DEFAULT_DIR))


def load(name: str, directory: Path | None = None) -> list[Dialogue]:
    path = (directory or data_dir()) / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found; set ATTUNE_SHARED_DATA to the shared data folder"
        )
    out = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        turns = tuple(
            DialogueTurn(t["speaker"], part, t.get("feedback") if last else None)
            for t in raw["turns"]
            if t["speaker"] in ("client", "ai")
            for part, last in _parts(t["text"].strip() or "…")
        )
        out.append(Dialogue(raw["conversation_id"], raw["source"], turns, raw.get("labels", {})))
    return out


def _parts(text: str) -> list[tuple[str, bool]]:
    """A text over the contract's limit arrives as consecutive messages, split between sentences.

    Only a few long forum posts need it; the rating (if any) stays on the last part.
    """
    parts: list[str] = []
    while len(text) > MAX_TEXT:
        cut = max(text.rfind(". ", 0, MAX_TEXT), text.rfind("\n", 0, MAX_TEXT))
        cut = cut + 1 if cut > MAX_TEXT // 2 else MAX_TEXT
        parts.append(text[:cut].strip())
        text = text[cut:].strip()
    parts.append(text)
    return [(p, i == len(parts) - 1) for i, p in enumerate(parts) if p]
