"""W3C trace context across the pipeline: ingest starts a trace per event (or continues the one
an integrator sends), and every record written because of it (assessment, alert, dead letter,
control and escalation events, notifications) carries it on in its `traceparent` header.
OpenTelemetry's API propagator reads and writes the header.

Spans go through OpenTelemetry's global tracer. With only the API installed it is a no-op and
each hop takes a span id of its own here: the trace id is for logs. A deployment that installs
an SDK and exporter (e.g. runs a service under `opentelemetry-instrument`) gets real spans: one
per record handled (`<topic> process`, kind consumer) and one per record written (`publish`,
kind producer), parented across services by the same header.

Every record a subscriber takes runs `within(...)` its trace (`TraceMiddleware`; a batch
handler traces each record itself): log lines carry `trace_id`, and records or outbox rows
written inside take `current()`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    format_trace_id,
    get_current_span,
    get_tracer,
    set_span_in_context,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
# The span kinds callers name, so services need not import OpenTelemetry themselves.
SERVER = SpanKind.SERVER
CLIENT = SpanKind.CLIENT
_propagator = TraceContextTextMapPropagator()


# A proxy until a deployment sets up an SDK; then that SDK's tracer.
_tracer = get_tracer("attune")


def _span(value: str | None) -> SpanContext | None:
    if not value:
        return None
    found = get_current_span(_propagator.extract({TRACEPARENT: value})).get_span_context()
    return found if found.is_valid else None


def _render(span: SpanContext) -> str:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=set_span_in_context(NonRecordingSpan(span)))
    return carrier[TRACEPARENT]


def _parented(parent: SpanContext | None) -> otel_context.Context:
    """A context whose span is `parent`; an empty one (a new trace) without a parent."""
    if parent is None:
        return otel_context.Context()
    return set_span_in_context(NonRecordingSpan(parent))


def _nonzero(bits: int) -> int:
    return secrets.randbits(bits) or 1


def _hop(found: SpanContext | None) -> SpanContext:
    span = _tracer.start_span("publish", context=_parented(found), kind=SpanKind.PRODUCER)
    if span.is_recording():
        span.end()
        return span.get_span_context()
    if found is None:
        trace, flags = _nonzero(128), TraceFlags(TraceFlags.SAMPLED)
    else:
        trace, flags = found.trace_id, found.trace_flags
    return SpanContext(trace, _nonzero(64), is_remote=False, trace_flags=flags)


def start(parent: str | None = None) -> str:
    """A `traceparent` for the next hop: a child of `parent` (same trace), or the start of a new
    trace when there is no valid parent. With an SDK it is a producer span the SDK records;
    without one, a new span id (and, for a new trace, a sampled trace id)."""
    if _without_sdk() and (parent is None or len(parent) <= _HEADER_MAX):
        # The same value without OpenTelemetry's contexts and propagator: every assessment
        # written takes one or two of these, which cost more than encoding it.
        found = _parsed(parent)
        trace, flags = (_nonzero(128), TraceFlags.SAMPLED) if found is None else found
        return f"00-{trace:032x}-{_nonzero(64):016x}-{flags:02x}"
    return _render(_hop(_span(parent)))


# The propagator's own reading of a `traceparent` (TraceContextTextMapPropagator.extract): a
# header it rejects is no parent. Longer values are left to it (it logs them).
_HEADER = re.compile(
    r"^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:(-.*)|[ \t]*)$"
)
_HEADER_MAX = 512
_NO_PROVIDER = object()


def _without_sdk() -> bool:
    """No tracer provider is set (none can be unset once set): the global tracer is the no-op
    one, whose spans never record, so `_hop` would make up the ids itself. Unknown (a future
    OpenTelemetry without this global): treated as an SDK, the general path."""
    return getattr(otel_trace, "_TRACER_PROVIDER", _NO_PROVIDER) is None


def _parsed(value: str | None) -> tuple[int, int] | None:
    """(trace id, flags) of a valid parent, as `_span` reads it; None for no valid parent."""
    if not value:
        return None
    match = _HEADER.search(value)
    if match is None:
        return None
    version, trace, span, flags, rest = match.groups()
    if trace == "0" * 32 or span == "0" * 16 or version == "ff" or (version == "00" and rest):
        return None
    return int(trace, 16), int(flags, 16)


def valid(traceparent: str | None) -> str | None:
    """`traceparent` if it is a valid W3C value, else None (an integrator's header is input)."""
    return traceparent if _span(traceparent) is not None else None


def trace_id(traceparent: str | None) -> str | None:
    """The 32-hex trace id of a `traceparent`, or None."""
    found = _span(traceparent)
    return format_trace_id(found.trace_id) if found is not None else None


def from_headers(headers: Iterable[tuple[str, bytes]] | None) -> str | None:
    """The `traceparent` a Kafka record carries, or None."""
    for name, value in headers or ():
        if name == TRACEPARENT:
            return value.decode("latin-1")
    return None


def carried(record: Any) -> str:
    """The `traceparent` a consumed record carries, or a new trace's when it carries none (a
    batch handler's per-record `within`)."""
    return from_headers(getattr(record, "headers", None)) or start()


def current() -> str | None:
    """A `traceparent` continuing the trace being handled (a hop of its own), or None outside
    one."""
    span = get_current_span().get_span_context()
    return _render(_hop(span)) if span.is_valid else None


def next_hop(parent: str | None) -> str | None:
    """A `traceparent` continuing `parent` when it is valid, else the trace being handled."""
    return start(parent) if _span(parent) is not None else current()


@contextmanager
def within(
    traceparent: str | None, name: str = "handle", kind: SpanKind = SpanKind.CONSUMER
) -> Iterator[str]:
    """Handle a record inside its trace (a new one if it carries none) and yield the trace id:
    logs get `trace_id`, and `current()` continues it. With an SDK, a span `name` of `kind`."""
    parent = _span(traceparent)
    with _tracer.start_as_current_span(name, context=_parented(parent), kind=kind) as span:
        token = None
        if not span.get_span_context().is_valid:  # no SDK and no parent: a trace of our own
            token = otel_context.attach(set_span_in_context(NonRecordingSpan(_hop(None))))
        try:
            found = format_trace_id(get_current_span().get_span_context().trace_id)
            with structlog.contextvars.bound_contextvars(trace_id=found):
                yield found
        finally:
            if token is not None:
                otel_context.detach(token)


@contextmanager
def resumed(
    traceparent: str | None, name: str = "handle", kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[None]:
    """Within `traceparent`'s trace when it is a valid one; otherwise as it was (no new trace:
    work that no record caused, such as a deadline's page, has none)."""
    if valid(traceparent) is None:
        yield
        return
    with within(traceparent, name, kind):
        yield


class TraceMiddleware(BaseMiddleware):
    """Runs each consumed record's handler within the record's trace."""

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        raw = msg.raw_message
        if isinstance(raw, tuple | list):  # a batch: the handler traces each record itself
            return await call_next(msg)
        name = f"{getattr(raw, 'topic', 'record')} process"  # OpenTelemetry's messaging name
        with within(from_headers(getattr(raw, "headers", None)), name):
            return await call_next(msg)
