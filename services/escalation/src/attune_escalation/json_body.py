"""Request bodies decoded with limits, so no body can reach the handlers as something unsafe.

Python's `json` accepts `NaN` and `Infinity`, turns `1e999` into infinity, gives up with a
RecursionError on deep nesting and a ValueError on integers over 4,300 digits, and decodes a
lone surrogate (`"\\ud800"`) into a string that cannot be encoded again. Each of those used to
end as a 500. Here every one is a rejection naming the field and the reason, never the value.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 64 * 1024  # a 4,000-character note fits even when every character is escaped
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 64

# A JSON string (escapes included) or one structural character; strings are skipped whole, so a
# bracket inside a string never counts as nesting. The string pattern is unrolled: linear time.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:]')
_SURROGATE = re.compile("[\ud800-\udfff]")


Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Offence:
    """Where (`("body", "note")`) and why; the location holds keys the client sent."""

    loc: Loc
    reason: str


@dataclass(frozen=True)
class Rejected:
    """Stands in for a value the decoder will not hand on; `reason` says why."""

    reason: str


class BodyError(ValueError):
    """The body cannot be used. `status` is 400 (not JSON), 413 (too large) or 422."""

    def __init__(self, status: int, detail: str, offences: tuple[Offence, ...]) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.offences = offences


def decode(raw: bytes) -> Any:
    """Parse a JSON request body, or raise BodyError with every offending field."""
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    # Bytes that are not UTF-8 become lone surrogates, reported below with their field.
    text = raw.decode("utf-8", errors="surrogateescape")
    deep = _too_deep(text)
    if deep is not None:
        raise BodyError(
            422, "invalid request", (Offence(deep, f"nested deeper than {MAX_DEPTH} levels"),)
        )
    try:
        value = json.loads(
            text,
            parse_constant=_constant,
            parse_int=_integer,
            parse_float=_float,
        )
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise BodyError(400, "body is not valid JSON", (Offence(("body",), reason),)) from None
    offences = tuple(_offences(value, ("body",)))
    if offences:
        raise BodyError(422, "invalid request", offences)
    return value


def too_large() -> BodyError:
    reason = f"body exceeds {MAX_BODY_BYTES} bytes"
    return BodyError(413, reason, (Offence(("body",), reason),))


def _constant(name: str) -> Rejected:
    return Rejected("NaN and Infinity are not JSON numbers")


def _integer(literal: str) -> int | Rejected:
    if len(literal) > MAX_NUMBER_CHARS:
        return Rejected(f"number longer than {MAX_NUMBER_CHARS} characters")
    return int(literal)


def _float(literal: str) -> float | Rejected:
    if len(literal) > MAX_NUMBER_CHARS:
        return Rejected(f"number longer than {MAX_NUMBER_CHARS} characters")
    value = float(literal)
    return value if math.isfinite(value) else Rejected("number out of range")


def _too_deep(text: str) -> Loc | None:
    """Where nesting passes MAX_DEPTH (the body, or its top-level key), else None."""
    depth, last_string = 0, ""
    top_key: Loc = ("body",)
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return top_key
        elif token in ("]", "}"):
            depth -= 1
        elif token == ":":
            if depth == 1:
                top_key = ("body", _key_name(last_string))
        else:
            last_string = token
    return None


def _key_name(token: str) -> str:
    try:
        key = json.loads(token)
    except ValueError:
        return "*"
    return key if isinstance(key, str) and not _SURROGATE.search(key) else "*"


def _offences(value: Any, loc: Loc) -> list[Offence]:
    """Every rejected number and every string or key holding a lone surrogate (depth is bounded)."""
    if isinstance(value, Rejected):
        return [Offence(loc, value.reason)]
    if isinstance(value, str):
        return (
            [Offence(loc, "not valid UTF-8 (lone surrogate)")] if _SURROGATE.search(value) else []
        )
    found: list[Offence] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                found.append(Offence(loc, "a key is not valid UTF-8 (lone surrogate)"))
            else:
                found += _offences(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _offences(item, (*loc, index))
    return found
