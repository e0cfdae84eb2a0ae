"""Bytes on the wire <-> contract models, with errors that name fields but never echo values."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from attune_schemas.dead_letter import FieldError

T = TypeVar("T")


class InvalidMessage(ValueError):
    """A record that can never be processed: it goes to the dead-letter topic."""

    def __init__(self, reason: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


def field_errors(
    exc: ValidationError, tags: frozenset[str] = frozenset()
) -> tuple[FieldError, ...]:
    """Turn pydantic errors into (field, reason) pairs without the rejected input."""
    out: list[FieldError] = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [str(p) for p in err["loc"] if str(p) not in tags]
        field = ".".join(loc) if loc else _field_from_type(err["type"])
        out.append(FieldError(field=field, reason=_reason(err)))
    return tuple(out)


def _reason(err: Any) -> str:
    """pydantic's message, except where that message quotes the input."""
    kind = err["type"]
    if kind == "union_tag_invalid":  # "Input tag '<any text>' found using 'type' ..."
        return f"Input tag does not match any of the expected tags: {err['ctx']['expected_tags']}"
    if kind == "uuid_parsing":  # "... found `<character>` at <position>"
        return "Input should be a valid UUID"
    return str(err["msg"])


def _field_from_type(error_type: str) -> str:
    # A union with no usable discriminator reports an empty location.
    return "type" if error_type.startswith("union_tag") else "(body)"


def _union_tags(adapter: TypeAdapter[Any]) -> frozenset[str]:
    schema = adapter.core_schema
    while schema.get("type") in {"definitions", "nullable"}:
        schema = schema["schema"]
    if schema.get("type") == "tagged-union":
        return frozenset(str(k) for k in schema["choices"])
    return frozenset()


def decode(adapter: TypeAdapter[T], data: bytes | str | Any) -> T:
    """Validate JSON bytes/str (or an already parsed object) against a contract."""
    try:
        if isinstance(data, bytes | str):
            return adapter.validate_json(data)
        return adapter.validate_python(data)
    except ValidationError as exc:
        errors = field_errors(exc, _union_tags(adapter))
        if any(e["type"] in {"json_invalid", "json_type"} for e in exc.errors()):
            raise InvalidMessage("invalid_json", errors) from None
        raise InvalidMessage("invalid_event", errors) from None


def encode(model: BaseModel) -> bytes:
    # The same bytes as model_dump_json().encode(), without the round trip through str.
    data: bytes = model.__pydantic_serializer__.to_json(model)
    return data
