"""The request body decoder's limits, at their edges."""

from __future__ import annotations

import json

import pytest

from attune_escalation.json_body import MAX_DEPTH, BodyError, decode


def rejected(raw: bytes) -> BodyError:
    with pytest.raises(BodyError) as info:
        decode(raw)
    return info.value


def test_an_ordinary_body_decodes() -> None:
    body = {"clinician_id": "dr-a", "note": "[{ not nesting }] \U0001f49c", "n": [1, 2.5, -3e10]}

    assert decode(json.dumps(body).encode()) == body


def test_nesting_up_to_the_limit_is_fine_and_one_more_level_is_not() -> None:
    assert decode(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None

    error = rejected(b'{"note": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}")

    assert error.status == 422
    assert [(o.loc, o.reason) for o in error.offences] == [
        (("body", "note"), f"nested deeper than {MAX_DEPTH} levels")
    ]


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = json.dumps({"note": "[" * 1000 + '\\"{' * 500})

    assert decode(text.encode())["note"].startswith("[[[")


@pytest.mark.parametrize(
    ("literal", "ok"),
    [("9" * 64, True), ("9" * 65, False), ("1e308", True), ("1e309", False), ("-1e999", False)],
)
def test_numbers_are_bounded_in_length_and_range(literal: str, ok: bool) -> None:
    raw = b'{"limit": ' + literal.encode() + b"}"
    if ok:
        assert decode(raw)["limit"] == json.loads(literal)
    else:
        assert [o.loc for o in rejected(raw).offences] == [("body", "limit")]


def test_every_offence_is_reported_with_its_place() -> None:
    raw = b'{"a": NaN, "b": [1, Infinity], "c": {"d": "\\udc00"}, "\\ud800": 1}'

    assert [(o.loc, o.reason.split(" ")[0]) for o in rejected(raw).offences] == [
        (("body", "a"), "NaN"),
        (("body", "b", 1), "NaN"),
        (("body", "c", "d"), "not"),
        (("body",), "a"),
    ]


def test_syntax_errors_are_400_and_say_where() -> None:
    error = rejected(b'{"a": 1,}')

    assert error.status == 400
    [offence] = error.offences
    assert offence.loc == ("body",)
    assert "line 1, column 9" in offence.reason
