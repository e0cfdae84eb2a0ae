"""Event time: the bound every service checks, and the per-partition watermark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from attune_classifier.settings import ClassifierSettings
from attune_escalation.settings import EscalationSettings
from attune_ingest.settings import IngestSettings
from attune_router.settings import RouterSettings
from attune_runtime.event_time import (
    BEFORE_EPOCH,
    EPOCH,
    IN_FUTURE,
    EventTimeBounds,
    Watermarks,
    check_event_time,
)
from tests.factories import T0

SKEW = timedelta(minutes=5)


def test_an_event_up_to_the_skew_ahead_or_any_time_since_the_epoch_is_believed() -> None:
    for at in (T0, T0 + SKEW, T0 - timedelta(days=900), EPOCH):
        assert check_event_time(at, now=T0, max_future=SKEW, epoch=EPOCH) is None


def test_an_event_beyond_the_skew_is_in_the_future() -> None:
    for at in (T0 + SKEW + timedelta(microseconds=1), T0 + timedelta(days=7)):
        assert check_event_time(at, now=T0, max_future=SKEW, epoch=EPOCH) == IN_FUTURE


def test_an_event_before_the_epoch_is_rejected_zero_included() -> None:
    for at in (datetime(1970, 1, 1, tzinfo=UTC), EPOCH - timedelta(microseconds=1)):
        assert check_event_time(at, now=T0, max_future=SKEW, epoch=EPOCH) == BEFORE_EPOCH


def test_the_bound_is_judged_against_the_now_given() -> None:
    week = T0 + timedelta(days=7)
    assert check_event_time(week, now=T0, max_future=SKEW) == IN_FUTURE
    assert check_event_time(week, now=week, max_future=SKEW) is None


def test_a_rejection_names_the_reason_and_field_never_the_value() -> None:
    bounds = EventTimeBounds(max_future=SKEW)
    far = T0 + timedelta(days=7)

    future = bounds.rejection(far, now=T0)
    old = bounds.rejection(datetime(1970, 1, 1, tzinfo=UTC), now=T0)

    assert bounds.rejection(T0, now=T0) is None
    assert future is not None and future.reason == IN_FUTURE
    assert [(e.field, e.reason) for e in future.errors] == [
        ("occurred_at", "more than 300 s ahead of the receiver's clock")
    ]
    assert old is not None and old.reason == BEFORE_EPOCH
    assert [e.field for e in old.errors] == ["occurred_at"]
    assert "1970" not in old.errors[0].reason and str(far.year) not in future.errors[0].reason


def test_a_watermark_per_partition_lags_by_the_lateness_and_stops_at_now() -> None:
    marks = Watermarks(timedelta(minutes=5))
    assert marks.time(0, now=T0) is None

    marks.observe(0, T0)
    marks.observe(0, T0 - timedelta(hours=1))  # late: never moves time back
    marks.observe(1, T0 + timedelta(days=7))

    assert marks.time(0, now=T0 + timedelta(days=1)) == T0 - timedelta(minutes=5)
    assert marks.time(1, now=T0) == T0  # never past the service clock
    assert marks.time(2, now=T0) is None  # another partition's events did not reach it


def test_watermark_copies_are_independent_and_forgetting_drops_a_partition() -> None:
    marks = Watermarks(timedelta(0))
    marks.observe(0, T0)
    copy = marks.copy()
    marks.observe(0, T0 + timedelta(hours=1))
    marks.forget({0})

    assert copy.time(0, now=T0 + timedelta(days=1)) == T0
    assert marks.time(0, now=T0) is None and marks.partitions() == []


@pytest.mark.parametrize(
    ("settings_type", "prefix"),
    [
        (ClassifierSettings, "ATTUNE_CLASSIFIER_"),
        (RouterSettings, "ATTUNE_ROUTER_"),
        (EscalationSettings, "ATTUNE_ESCALATION_"),
        (IngestSettings, "ATTUNE_INGEST_"),
    ],
)
def test_bounds_and_lateness_are_settings(
    monkeypatch: pytest.MonkeyPatch,
    settings_type: type[ClassifierSettings]
    | type[RouterSettings]
    | type[EscalationSettings]
    | type[IngestSettings],
    prefix: str,
) -> None:
    defaults = settings_type()
    assert defaults.event_time_bounds() == EventTimeBounds(max_future=SKEW, epoch=EPOCH)

    monkeypatch.setenv(f"{prefix}EVENT_TIME_MAX_FUTURE_SECONDS", "60")
    monkeypatch.setenv(f"{prefix}EVENT_TIME_EPOCH", "2024-01-01T00:00:00+01:00")
    settings = settings_type()

    assert settings.event_time_bounds() == EventTimeBounds(
        max_future=timedelta(seconds=60), epoch=datetime(2023, 12, 31, 23, 0, tzinfo=UTC)
    )
