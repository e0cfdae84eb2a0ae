"""Parse untrusted JSON bytes within limits, so no input can exhaust the parser or the stack.

Every failure is an `InvalidMessage` whose reason and detail come from a fixed set: the input
is never quoted back. Limits: size, nesting depth, integer digits, finite numbers only, UTF-8
text without lone surrogates (the parser refuses those outright).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json

from attune_schemas.codec import InvalidMessage
from attune_schemas.dead_letter import FieldError

BODY = "(body)"

# The parser's own nesting limit; `max_depth` can only be lower.
PARSER_MAX_DEPTH = 200


@dataclass(frozen=True)
class JsonLimits:
    max_bytes: int = 1_000_000
    max_depth: int = 32
    max_int_digits: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.max_depth < PARSER_MAX_DEPTH:
            raise ValueError(f"max_depth must be between 1 and {PARSER_MAX_DEPTH - 1}")


def _invalid(reason: str, detail: str) -> InvalidMessage:
    return InvalidMessage(reason, (FieldError(field=BODY, reason=detail),))


def _too_many_digits(limits: JsonLimits) -> InvalidMessage:
    return _invalid("invalid_number", f"an integer has more than {limits.max_int_digits} digits")


def load_json(raw: bytes, limits: JsonLimits) -> Any:
    """Parse `raw` into Python values, or raise InvalidMessage naming the limit it broke."""
    if len(raw) > limits.max_bytes:
        raise _invalid("too_large", f"larger than {limits.max_bytes} bytes")
    try:
        # NaN and Infinity are parsed here only so the walk below can name them.
        value = from_json(raw, allow_inf_nan=True)
    except ValueError as exc:
        raise _parse_error(raw, str(exc), limits) from None
    _check(value, limits)
    return value


def _parse_error(raw: bytes, message: str, limits: JsonLimits) -> InvalidMessage:
    # The parser's messages carry positions, never input; they are mapped to fixed reasons.
    if "recursion limit" in message:
        return _invalid("too_deep", f"nested deeper than {limits.max_depth} levels")
    if "number out of range" in message:
        return _too_many_digits(limits)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return _invalid("invalid_utf8", "not valid UTF-8")
    if "surrogate" in message or "hex escape" in message or "unicode code point" in message:
        return _invalid("invalid_json", "a string holds an invalid unicode escape")
    return _invalid("invalid_json", "not valid JSON")


def _check(value: Any, limits: JsonLimits) -> None:
    """Depth and numbers, iteratively: no recursion, whatever the input.

    The parser yields exactly dict, list, str, int, float, bool and None, so `type(...) is`
    tests suffice; they keep this walk cheap on the hot path.
    """
    bound = 10**limits.max_int_digits
    stack: list[tuple[Any, int]] = [([value], 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise _invalid("too_deep", f"nested deeper than {limits.max_depth} levels")
        for child in node.values() if type(node) is dict else node:
            kind = type(child)
            if kind is str or kind is bool or child is None:
                continue
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is int:
                if not -bound < child < bound:
                    raise _too_many_digits(limits)
            elif not math.isfinite(child):
                raise _invalid("invalid_number", "NaN and Infinity are not allowed")
