"""A real local webhook receiver that can hold requests, and dedupes as the README tells receivers.

Runs an HTTP server on a thread of the test process: escalation (in-process or a real process)
posts to `url`. `hold()` makes the next requests wait until `release()`: a slow pager, during
which the sender can be killed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attune_escalation.notify import IDEMPOTENCY_HEADER


@dataclass(frozen=True)
class Delivery:
    header_key: str | None
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""


@dataclass
class WebhookReceiver:
    deliveries: list[Delivery] = field(default_factory=list)
    answer: int = 204  # the status every request gets (a 5xx: the receiver is failing)
    _open: threading.Event = field(default_factory=threading.Event)
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._open.set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/pager"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._arrived:
                    receiver.deliveries.append(
                        Delivery(
                            self.headers.get(IDEMPOTENCY_HEADER),
                            json.loads(body),
                            dict(self.headers.items()),
                            body,
                        )
                    )
                    receiver._arrived.notify_all()
                receiver._open.wait()
                try:
                    self.send_response(receiver.answer)
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed mid-request)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._open.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def hold(self) -> None:
        """Requests from now on wait for release(): the receiver is slow."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait_for(self, count: int, within: float = 30.0) -> list[Delivery]:
        """Block (in a thread, from async tests) until `count` requests have arrived."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.deliveries) >= count, within):
                raise AssertionError(f"{len(self.deliveries)} deliveries, wanted {count}")
            return list(self.deliveries)

    def unique(self) -> dict[str, Delivery]:
        """What a receiver keeps after dropping repeats: the first delivery of each key."""
        kept: dict[str, Delivery] = {}
        for d in self.deliveries:
            kept.setdefault(d.body["idempotency_key"], d)
        return kept
