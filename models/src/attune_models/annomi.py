"""AnnoMI (real MI transcripts, expert-rated high/low quality) as conversation events.

Read from `../shared/data/annomi/` at evaluation time; never copied into the project.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attune_models.dialogues import GAP
from attune_schemas import MessageSent, Sender

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIR = ROOT.parent / "shared" / "data" / "annomi"

# High/low sessions of the same scenario and client actor (titles, shared video or opening).
MATCHED_PAIRS: tuple[tuple[int, int], ...] = (
    (66, 10), (31, 57), (78, 92), (20, 106), (24, 15), (109, 123), (128, 130), (21, 53),
    (68, 44), (112, 72), (4, 74), (33, 115), (127, 27), (25, 102), (70, 69), (114, 32),
)  # fmt: skip
CRISIS_TRANSCRIPT = 95


@dataclass(frozen=True)
class Utterance:
    utterance_id: int
    speaker: str  # therapist | client
    seconds: float
    text: str
    client_talk_type: str


@dataclass(frozen=True)
class Session:
    transcript_id: int
    quality: str  # high | low
    topic: str
    utterances: tuple[Utterance, ...]

    @property
    def client_turns(self) -> int:
        return sum(u.speaker == "client" for u in self.utterances)

    @property
    def sustain_ratio(self) -> float:
        """The trivial baseline: share of sustain talk among change-relevant client talk."""
        sustain = sum(u.client_talk_type == "sustain" for u in self.utterances)
        change = sum(u.client_talk_type == "change" for u in self.utterances)
        # A session with neither is neutral (0.5), not "all change talk".
        return sustain / (sustain + change) if sustain + change else 0.5

    def events(
        self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC), gap: timedelta = GAP
    ) -> list[MessageSent]:
        """The session as it would reach Attune: counsellor turns play the assistant's part.

        Turns are spaced by one fixed gap, as for the other real sets: the transcripts' stamps
        are when each utterance *started*, so the time between a counsellor turn and the reply
        is mostly the counsellor's own speaking time, not the client's latency.
        """
        out = []
        for i, u in enumerate(self.utterances):
            at = start + gap * i
            out.append(
                MessageSent(
                    event_id=uuid.uuid5(
                        uuid.NAMESPACE_URL, f"annomi/{self.transcript_id}/{u.utterance_id}"
                    ),
                    conversation_id=f"annomi-{self.transcript_id}",
                    tenant_id="annomi",
                    occurred_at=at,
                    message_id=f"u{u.utterance_id}",
                    sender=Sender.CLIENT if u.speaker == "client" else Sender.AI,
                    text=u.text.strip() or "(inaudible)",
                )
            )
        return out


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def annomi_dir() -> Path:
    return Path(os.environ.get("ATTUNE_ANNOMI_DIR", DEFAULT_DIR))


def load_sessions(directory: Path | None = None) -> list[Session]:
    path = (directory or annomi_dir()) / "AnnoMI-simple.csv"
    if not path.exists():
        raise FileNotFoundError(f"AnnoMI not found at {path}; set ATTUNE_ANNOMI_DIR")
    by_id: dict[int, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            by_id[int(row["transcript_id"])].append(row)
    sessions = []
    for tid, rows in sorted(by_id.items()):
        seen: dict[int, dict[str, str]] = {}
        for r in rows:  # one row per utterance; dedupe defensively
            seen.setdefault(int(r["utterance_id"]), r)
        utterances = tuple(
            Utterance(
                uid,
                r["interlocutor"],
                _seconds(r["timestamp"]),
                r["utterance_text"],
                r["client_talk_type"],
            )
            for uid, r in sorted(seen.items())
        )
        sessions.append(Session(tid, rows[0]["mi_quality"], rows[0]["topic"].strip(), utterances))
    return sessions
