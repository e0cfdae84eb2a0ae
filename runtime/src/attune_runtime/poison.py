"""A record that keeps failing is poison: dead-letter it after N tries, never retry for ever.

As in getsentry/arroyo: a transient error is retried (the consumer seeks back), but a record
that fails every time would otherwise hold its partition for ever. Failures are counted per
record while it is retried; broker outages are not the record's fault and are not counted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aiokafka.errors import KafkaError, KafkaTimeoutError, ProducerClosed

from attune_schemas import FieldError, InvalidMessage

RecordId = tuple[str, int, int]

# One entry per partition at most (a retried record blocks its partition); the cap only
# guards against records that are never retried again (partition revoked meanwhile).
_MAX_TRACKED = 10_000


def _record_id(record: Any) -> RecordId:
    return (str(record.topic), int(record.partition), int(record.offset))


def counts_against_record(exc: BaseException) -> bool:
    """False for errors that say the broker is unavailable: retrying is right, however long.

    aiokafka marks most of those `retriable`, but not a delivery that timed out (the broker
    stalled) nor a producer closed by shutdown.
    """
    if isinstance(exc, KafkaTimeoutError | ProducerClosed):
        return False
    return not (isinstance(exc, KafkaError) and exc.retriable)


class RetryLimit:
    def __init__(self, *, max_failures: int) -> None:
        self.max_failures = max_failures
        self._failures: OrderedDict[RecordId, list[str]] = OrderedDict()

    def exhausted(self, record: Any) -> InvalidMessage | None:
        """The poison verdict for `record` if it already failed `max_failures` times."""
        errors = self._failures.get(_record_id(record), [])
        if len(errors) < self.max_failures:
            return None
        kinds = ", ".join(sorted(set(errors)))
        return InvalidMessage(
            "poison_after_retries",
            (FieldError(field="(record)", reason=f"failed {len(errors)} times: {kinds}"),),
        )

    def failed(self, record: Any, exc: BaseException) -> None:
        if not counts_against_record(exc):
            return
        key = _record_id(record)
        # The error's type only: its message may quote the record.
        self._failures.setdefault(key, []).append(type(exc).__name__)
        self._failures.move_to_end(key)
        while len(self._failures) > _MAX_TRACKED:
            self._failures.popitem(last=False)

    def done(self, record: Any) -> None:
        self._failures.pop(_record_id(record), None)
