"""The per-conversation window: the client's own baseline, streaks, triggers, bounds."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

from attune_classifier.window import ConversationWindow, Turn, Windows, triggering_ai_turn
from attune_schemas import Sender
from tests.factories import T0


def _turn(n: int, sender: Sender, words: int, after: float, rupture: float = 0.0) -> Turn:
    return Turn(f"m{n}", sender, T0 + timedelta(seconds=after), words, "w " * words, rupture)


def test_baseline_needs_three_earlier_replies_and_leaves_out_the_newest() -> None:
    w = ConversationWindow("c", "t", 0, T0)
    ratios = []
    for n, words in enumerate([20, 20, 20, 20, 20, 2], 1):
        w.add_turn(_turn(2 * n, Sender.AI, 8, n * 100.0), minimal=False)
        b = w.add_turn(_turn(2 * n + 1, Sender.CLIENT, words, n * 100.0 + 30), minimal=words <= 2)
        assert b is not None
        ratios.append(b.length_ratio)
    # Baseline = earlier replies minus the two newest: only from the 6th reply on are 3 left.
    assert ratios[:5] == [None, None, None, None, None]
    assert ratios[5] == 0.1
    assert b is not None
    assert b.latency_s == 30.0


def test_minimal_streak_counts_consecutive_minimal_replies() -> None:
    w = ConversationWindow("c", "t", 0, T0)
    streaks = []
    for n, minimal in enumerate([True, True, False, True], 1):
        b = w.add_turn(_turn(n, Sender.CLIENT, 1, n), minimal=minimal)
        assert b is not None
        streaks.append(b.minimal_streak)
    assert streaks == [1, 2, 0, 1]


def test_triggering_turn_is_the_ai_turn_before_the_run_of_elevated_replies() -> None:
    w = ConversationWindow("c", "t", 0, T0)
    turns = [
        _turn(1, Sender.AI, 5, 0),
        _turn(2, Sender.CLIENT, 5, 10, rupture=0.1),
        _turn(3, Sender.AI, 5, 20),  # the suggestion
        _turn(4, Sender.CLIENT, 5, 30, rupture=0.9),
        _turn(5, Sender.AI, 5, 40),
        _turn(6, Sender.CLIENT, 5, 50, rupture=0.7),
    ]
    for t in turns:
        w.add_turn(t, minimal=False)
    trigger = triggering_ai_turn(w.turns, turns[-1], 0.5)
    assert trigger is not None and trigger.message_id == "m3"
    assert triggering_ai_turn(w.turns, turns[1], 0.5) is None  # calm reply: no trigger


def _open(windows: Windows, cid: str, partition: int, minutes: float) -> None:
    at = T0 + timedelta(minutes=minutes)
    windows.open(tenant_id="t", conversation_id=cid, partition=partition, at=at)


def test_windows_are_bounded_by_count_idle_time_and_partition() -> None:
    now = T0 + timedelta(hours=2)
    windows = Windows(max_conversations=3, idle_expiry=timedelta(hours=1))
    for n, cid in enumerate("abcd"):
        _open(windows, cid, n % 2, 10 * n)
    # Four conversations, room for three: the least recently active one goes.
    assert [w.conversation_id for w in windows] == ["b", "c", "d"] and windows.evicted == 1
    windows.max_conversations = 10
    _open(windows, "e", 0, 85)  # partition 0's time moves on: c (partition 0) idle > 1h
    assert windows.expire(now=now) == 1
    assert [w.conversation_id for w in windows] == ["b", "d", "e"]
    _open(windows, "f", 1, 85)  # now partition 1's too: b idle > 1h, d not yet
    assert windows.expire(now=now) == 1
    assert [w.conversation_id for w in windows] == ["d", "e", "f"]
    assert windows.forget_partitions({1}) == 2  # d and f lived on partition 1
    assert [w.conversation_id for w in windows] == ["e"]


def test_idle_expiry_lags_by_the_lateness_and_never_passes_the_service_clock() -> None:
    windows = Windows(
        max_conversations=10, idle_expiry=timedelta(hours=1), lateness=timedelta(minutes=5)
    )
    _open(windows, "a", 0, 0)
    _open(windows, "b", 0, 62)  # a is 62 min behind, but within the hour plus lateness
    assert windows.expire(now=T0 + timedelta(hours=2)) == 0
    _open(windows, "c", 0, 60 * 24 * 7)  # a week ahead, had it slipped past the bound
    # Partition time is capped at the service clock: a, 65 min behind it, goes; b stays.
    assert windows.expire(now=T0 + timedelta(minutes=65, seconds=1)) == 1
    assert [w.conversation_id for w in windows] == ["b", "c"]


def test_event_ids_that_differ_only_in_their_low_half_are_different_events() -> None:
    # Integrators may number their events: ids equal but for a counter in the last digits.
    from uuid import UUID

    window = ConversationWindow("c", "t", 0, last_seen=T0)
    first = UUID("00000000-0000-4000-8000-000000000001")
    second = UUID("00000000-0000-4000-8000-000000000002")
    window.mark_seen(first, T0)
    assert window.already_seen(first)
    assert not window.already_seen(second)


def test_a_window_copy_equals_a_deep_copy_and_shares_nothing_a_batch_changes() -> None:
    w = ConversationWindow("c", "t", 0, T0, session_id="s", last_feedback=2, missed_sessions=1)
    for n in range(1, 12):
        w.add_turn(_turn(2 * n, Sender.AI, 8, n * 100.0), minimal=False)
        w.add_turn(_turn(2 * n + 1, Sender.CLIENT, n, n * 100.0 + 30, 0.1 * n), minimal=n < 3)
        w.mark_seen(uuid.UUID(int=n), T0 + timedelta(seconds=n * 100))
    clone = w.copy()
    assert clone == copy.deepcopy(w)
    for name in ConversationWindow.__slots__:  # a list field added later is copied too
        value = getattr(w, name)
        assert not isinstance(value, list) or getattr(clone, name) is not value, name
    # What assessing a batch changes on the live window leaves the copy as it was: a batch
    # scores only the turns it adds (see the test below), which the copy does not hold.
    added = _turn(99, Sender.CLIENT, 3, 5000.0)
    w.add_turn(added, minimal=True)
    added.rupture = 0.99
    w.mark_seen(uuid.UUID(int=99), T0 + timedelta(seconds=5000))
    assert all(t is not added for t in clone.turns)
    assert clone != w
    assert clone.turns[-1].message_id == "m23"
    assert len(clone.seen) == 11


def test_a_batch_scores_only_the_turns_it_adds() -> None:
    """Why a window's copy may share its turns: assessing a batch never changes a turn that
    was in a window before the batch."""
    from attune_classifier.assess import Assessor
    from attune_classifier.scoring import LexiconScorer
    from attune_runtime.clock import ManualClock
    from attune_schemas import MessageSent

    windows = Windows(max_conversations=10, idle_expiry=timedelta(hours=6))
    assessor = Assessor(scorer=LexiconScorer(), windows=windows, clock=ManualClock(T0))
    texts = ["How was the week?", "fine", "What felt hardest?", "this is pointless, you never help"]

    def batch(start: int) -> list[tuple[MessageSent, int]]:
        return [
            (MessageSent(event_id=uuid.UUID(int=start + n), conversation_id="c", tenant_id="t",
                         occurred_at=T0 + timedelta(seconds=30 * (start + n)),
                         message_id=f"m{start + n}",
                         sender=Sender.AI if n % 2 == 0 else Sender.CLIENT, text=text), 0)
            for n, text in enumerate(texts)
        ]  # fmt: skip

    assessor.process(batch(0))
    window = windows.get("t", "c")
    assert window is not None
    before = [(t, copy.copy(t)) for t in window.turns]
    assert any(t.rupture > 0 for t, _ in before)
    assessor.process(batch(10))
    assert all(t == kept for t, kept in before)


def test_median_is_the_statistics_median() -> None:
    import random
    import statistics

    from attune_classifier.window import _median

    rng = random.Random(3)
    for n in range(1, 30):
        ints = [rng.randrange(0, 50) for _ in range(n)]
        floats = [rng.random() * 100 for _ in range(n)]
        for values in (ints, floats, [*ints[:-1], 2.5]):
            got, expected = _median(values), statistics.median(values)
            assert got == expected and type(got) is type(expected)
