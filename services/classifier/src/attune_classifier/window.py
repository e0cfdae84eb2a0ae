"""Bounded per-conversation state: recent turns, the client's own baseline, behaviour signals."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from attune_runtime.event_time import Partition, Watermarks
from attune_schemas import Sender

T = TypeVar("T")
S = TypeVar("S", "Turn", "ConversationWindow")
TEXT_KEEP = 400  # characters of a turn kept for context and the triggering-turn excerpt
TURNS_KEEP = 8
BASELINE_KEEP = 20
BASELINE_MIN = 3
RECENT_EXCLUDED = 2  # the newest replies are compared against the baseline, not part of it
RECENT = 3  # "replies get shorter": a trend over this many replies, not one short answer
SEEN_KEEP = 16  # redeliveries are recent: the last few event ids per conversation suffice


@dataclass(slots=True)
class Turn:
    message_id: str
    sender: Sender
    at: datetime
    words: int
    text: str
    rupture: float = 0.0


def word_count(text: str) -> int:
    return len(text.split())


@dataclass(slots=True)
class Behaviour:
    """How this client reply compares with the client's own earlier replies."""

    latency_s: float | None
    length_ratio: float | None
    latency_ratio: float | None
    minimal_streak: int
    client_turns: int
    # The trend: median of the last RECENT replies (this one included) against the baseline.
    recent_length_ratio: float | None = None
    recent_latency_ratio: float | None = None


@dataclass(slots=True)
class ConversationWindow:
    conversation_id: str
    tenant_id: str
    partition: int | None
    last_seen: datetime
    # Short lists trimmed on append: a deque preallocates ~600 bytes, times 100,000 conversations.
    turns: list[Turn] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    minimal_streak: int = 0
    client_turns: int = 0
    missed_sessions: int = 0
    last_feedback: int | None = None
    session_id: str | None = None
    # A 61-bit digest of each whole event id (`_digest`): a tenth of the memory of UUID
    # objects, and every bit of the id counts, so ids that differ only in their low half (a
    # counter in the last digits) stay distinct.
    seen: list[int] = field(default_factory=list)

    def copy(self) -> ConversationWindow:
        """A copy sharing nothing a batch changes: its lists. The turns themselves are shared:
        a batch only sets the score of turns it adds itself, which the copy never holds.

        What a batch's snapshot keeps: `copy.deepcopy` of a window costs more than scoring it.
        """
        clone = _clone(self)
        clone.turns = list(self.turns)
        clone.lengths = list(self.lengths)
        clone.latencies = list(self.latencies)
        clone.seen = list(self.seen)
        return clone

    def already_seen(self, event_id: UUID) -> bool:
        return _digest(event_id) in self.seen

    def mark_seen(self, event_id: UUID, at: datetime) -> None:
        _push(self.seen, _digest(event_id), SEEN_KEEP)
        self.last_seen = max(self.last_seen, at)

    def context(self) -> list[Turn]:
        return list(self.turns)

    def last_turn(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def add_turn(self, turn: Turn, *, minimal: bool) -> Behaviour | None:
        """Append a turn; for a client turn return its behaviour against the baseline."""
        previous = self.last_turn()
        _push(self.turns, turn, TURNS_KEEP)
        if turn.sender is not Sender.CLIENT:
            return None
        latency = None
        if previous is not None and previous.sender is Sender.AI:
            latency = max(0.0, (turn.at - previous.at).total_seconds())
        recent_lengths = [*self.lengths[-(RECENT - 1) :], turn.words]
        recent_latencies = [
            *self.latencies[-(RECENT - 1) :],
            *([latency] if latency is not None else []),
        ]
        behaviour = Behaviour(
            latency_s=latency,
            length_ratio=_ratio(turn.words, self.lengths),
            latency_ratio=None if latency is None else _ratio(latency, self.latencies),
            minimal_streak=self.minimal_streak + 1 if minimal else 0,
            client_turns=self.client_turns + 1,
            recent_length_ratio=_ratio(_median(recent_lengths), self.lengths),
            recent_latency_ratio=(
                _ratio(_median(recent_latencies), self.latencies) if latency is not None else None
            ),
        )
        self.minimal_streak = behaviour.minimal_streak
        self.client_turns += 1
        _push(self.lengths, turn.words, BASELINE_KEEP)
        if latency is not None:
            _push(self.latencies, latency, BASELINE_KEEP)
        return behaviour


def triggering_ai_turn(turns: Sequence[Turn], upto: Turn, threshold: float) -> Turn | None:
    """The AI turn just before the run of elevated client turns ending at `upto` began.

    `turns` is the window as it stood when `upto` was applied, not as it stands when the batch
    is assessed: later events of a batch would push the AI turn out of an 8-turn window.
    """
    end = next((i for i, t in enumerate(turns) if t is upto), None)
    if end is None:
        return None
    earliest_elevated = None
    for i in range(end, -1, -1):
        t = turns[i]
        if t.sender is Sender.CLIENT:
            if t.rupture >= threshold:
                earliest_elevated = i
            else:
                break
    if earliest_elevated is None:
        return None
    for j in range(earliest_elevated - 1, -1, -1):
        if turns[j].sender is Sender.AI:
            return turns[j]
    return None


def _clone(item: S) -> S:
    """A shallow copy of a slotted object: every slot, at a fifth of `copy.copy`'s cost."""
    clone: S = object.__new__(type(item))
    for name in type(item).__slots__:
        setattr(clone, name, getattr(item, name))
    return clone


def _digest(event_id: UUID) -> int:
    # Python's hash of an int is the int modulo the Mersenne prime 2**61 - 1: deterministic
    # across processes (no hash randomisation for ints) and mixes all 128 bits.
    return hash(event_id.int)


def _push(items: list[T], item: T, keep: int) -> None:
    items.append(item)
    if len(items) > keep:
        del items[: len(items) - keep]


def _median(values: list[int] | list[float]) -> float:
    """`statistics.median` of a non-empty list, the same value and type (an odd count gives the
    middle item itself), without its generic checks: up to four per client turn."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _ratio(value: float, history: list[int] | list[float]) -> float | None:
    # Baseline: the client's earlier replies, leaving out the newest ones being compared.
    usable = history[: max(0, len(history) - RECENT_EXCLUDED)]
    if len(usable) < BASELINE_MIN:
        return None
    baseline = _median(usable)
    if baseline <= 0:
        return None
    return round(value / baseline, 4)


Key = tuple[str, str]  # (tenant_id, conversation_id): two tenants may use the same id


@dataclass(frozen=True)
class Snapshot:
    windows: dict[Key, ConversationWindow | None]
    event_time: Watermarks


class Windows:
    """All live conversations, bounded by count (least recently active evicted) and idle time.

    Idle time is event time: a conversation is dropped when its own newest event is older than
    `idle_expiry` behind its partition's watermark (see attune_runtime.event_time), so a
    backfill behaves like live traffic and no event moves another partition's time.
    """

    def __init__(
        self,
        *,
        max_conversations: int,
        idle_expiry: timedelta,
        lateness: timedelta = timedelta(0),
    ) -> None:
        self.max_conversations = max_conversations
        self.idle_expiry = idle_expiry
        self.event_time = Watermarks(lateness)
        # Activity order over all partitions, for the count bound.
        self._windows: OrderedDict[Key, ConversationWindow] = OrderedDict()
        # Activity order within each partition, so idle expiry stops at the first live window.
        self._active: dict[Partition, OrderedDict[Key, None]] = {}
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._windows)

    def __iter__(self) -> Iterator[ConversationWindow]:
        return iter(list(self._windows.values()))

    def get(self, tenant_id: str, conversation_id: str) -> ConversationWindow | None:
        return self._windows.get((tenant_id, conversation_id))

    def open(
        self, *, tenant_id: str, conversation_id: str, partition: Partition, at: datetime
    ) -> ConversationWindow:
        self.event_time.observe(partition, at)
        key = (tenant_id, conversation_id)
        window = self._windows.get(key)
        if window is None:
            window = ConversationWindow(conversation_id, tenant_id, partition, last_seen=at)
            self._put(key, window)
            while len(self._windows) > self.max_conversations:
                self._drop(next(iter(self._windows)))
                self.evicted += 1
        else:
            if partition is not None and partition != window.partition:
                self._unlist(key, window.partition)
                window.partition = partition
            self._put(key, window)
        return window

    def expire(self, *, now: datetime) -> int:
        """Drop conversations idle for longer than `idle_expiry` behind their partition's time."""
        dropped = 0
        for partition, active in list(self._active.items()):
            at = self.event_time.time(partition, now=now)
            if at is None:
                continue
            horizon = at - self.idle_expiry
            # Kept in order of last activity: stop at the first window still live.
            while active:
                key = next(iter(active))
                if self._windows[key].last_seen >= horizon:
                    break
                self._drop(key)
                dropped += 1
        return dropped

    def snapshot(self, keys: Collection[Key]) -> Snapshot:
        """Copies of these conversations' windows, to undo a batch whose output failed."""
        return Snapshot(
            {key: None if (w := self._windows.get(key)) is None else w.copy() for key in keys},
            self.event_time.copy(),
        )

    def restore(self, snapshot: Snapshot) -> None:
        for key, window in snapshot.windows.items():
            if key in self._windows:
                self._drop(key)
            if window is not None:
                self._put(key, window)
        self.event_time = snapshot.event_time

    def forget_partitions(self, partitions: Collection[int]) -> int:
        """After a rebalance, drop conversations whose partition another instance now owns."""
        gone = [key for p in partitions for key in self._active.get(p, {})]
        for key in gone:
            self._drop(key)
        self.event_time.forget(partitions)
        return len(gone)

    def _put(self, key: Key, window: ConversationWindow) -> None:
        """Insert or mark most recently active."""
        self._windows[key] = window
        self._windows.move_to_end(key)
        active = self._active.get(window.partition)
        if active is None:  # not `setdefault`: it would build an OrderedDict on every event
            active = self._active[window.partition] = OrderedDict()
        active[key] = None
        active.move_to_end(key)

    def _drop(self, key: Key) -> None:
        window = self._windows.pop(key)
        self._unlist(key, window.partition)

    def _unlist(self, key: Key, partition: Partition) -> None:
        active = self._active.get(partition)
        if active is not None:
            active.pop(key, None)
            if not active:
                del self._active[partition]
