"""Untrusted JSON within limits, and event-time bounds: the rules intake applies before a model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune_schemas import EventTimeBounds, InvalidMessage, JsonLimits, load_json

LIMITS = JsonLimits(max_bytes=10_000, max_depth=4, max_int_digits=5)


def refused(raw: bytes, limits: JsonLimits = LIMITS) -> tuple[str, str]:
    with pytest.raises(InvalidMessage) as info:
        load_json(raw, limits)
    [error] = info.value.errors
    assert error.field == "(body)"
    return info.value.reason, error.reason


def test_json_within_the_limits_is_parsed() -> None:
    assert load_json(b'{"a": [1, 2.5, "x", null, true, {"b": 99999}]}', LIMITS) == {
        "a": [1, 2.5, "x", None, True, {"b": 99999}]
    }


def test_depth_counts_containers() -> None:
    assert load_json(b"[[[[]]]]", LIMITS) == [[[[]]]]
    assert refused(b"[[[[[]]]]]") == ("too_deep", "nested deeper than 4 levels")


def test_nesting_beyond_the_parser_limit_is_too_deep_not_a_crash() -> None:
    assert refused(b"[" * 100_000 + b"]" * 100_000, JsonLimits(max_bytes=10**6))[0] == "too_deep"


@pytest.mark.parametrize("number", [b"100000", b"-100000", b"9" * 5000, b"1" + b"0" * 30])
def test_integers_with_too_many_digits_are_refused(number: bytes) -> None:
    assert refused(b"[" + number + b"]") == (
        "invalid_number",
        "an integer has more than 5 digits",
    )


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_refused(literal: bytes) -> None:
    assert refused(b'{"x": ' + literal + b"}") == (
        "invalid_number",
        "NaN and Infinity are not allowed",
    )


@pytest.mark.parametrize("escape", [rb'"\ud800"', rb'"\udc00"', rb'"\ud800\u0041"'])
def test_lone_surrogates_are_refused(escape: bytes) -> None:
    assert refused(escape) == ("invalid_json", "a string holds an invalid unicode escape")


def test_a_surrogate_pair_is_a_character() -> None:
    assert load_json(rb'"\ud83d\ude00"', LIMITS) == "\U0001f600"


def test_invalid_utf8_is_named() -> None:
    assert refused(b'"caf\xe9"') == ("invalid_utf8", "not valid UTF-8")


def test_oversized_input_is_refused_before_parsing() -> None:
    assert refused(b" " * 10_001) == ("too_large", "larger than 10000 bytes")


def test_limits_cannot_exceed_the_parser_depth() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        JsonLimits(max_depth=500)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


REASONS = {"too_large", "too_deep", "invalid_number", "invalid_json", "invalid_utf8"}


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_input_is_parsed_or_refused_with_a_reason_never_anything_else(raw: bytes) -> None:
    error: InvalidMessage | None = None
    try:
        load_json(raw, LIMITS)
    except InvalidMessage as exc:
        error = exc
    if error is not None:
        assert error.reason in REASONS
        assert all(
            raw.decode(errors="replace") not in e.reason for e in error.errors if len(raw) > 8
        )


# --- event time -------------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOUNDS = EventTimeBounds(epoch=datetime(2020, 1, 1, tzinfo=UTC), max_future=timedelta(minutes=5))


@pytest.mark.parametrize(
    "at",
    [
        datetime(2020, 1, 1, tzinfo=UTC),
        NOW - timedelta(days=400),
        NOW,
        NOW + timedelta(minutes=5),
    ],
)
def test_event_times_inside_the_bounds_pass(at: datetime) -> None:
    assert BOUNDS.rejection(at, now=NOW) is None
    BOUNDS.check(at, now=NOW)


def test_an_event_too_far_ahead_of_now_is_out_of_bounds() -> None:
    with pytest.raises(InvalidMessage) as info:
        BOUNDS.check(NOW + timedelta(minutes=5, seconds=1), now=NOW)

    assert info.value.reason == "occurred_in_future"
    assert [(e.field, e.reason) for e in info.value.errors] == [
        ("occurred_at", "more than 300 s ahead of the receiver's clock")
    ]


def test_an_event_before_the_epoch_is_out_of_bounds() -> None:
    rejection = BOUNDS.rejection(datetime(1970, 1, 1, tzinfo=UTC), now=NOW)

    assert rejection is not None and rejection.reason == "occurred_before_epoch"
    [error] = rejection.errors
    assert (error.field, error.reason) == (
        "occurred_at",
        "before 2020-01-01T00:00:00+00:00, the earliest time accepted",
    )


def test_the_bound_moves_with_the_injected_now() -> None:
    later: Any = NOW + timedelta(days=7)
    assert BOUNDS.rejection(later, now=NOW) is not None
    assert BOUNDS.rejection(later, now=later) is None
