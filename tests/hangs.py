"""When a test on real parts hangs, say where: every asyncio task's stack, before the timeout.

pytest-timeout prints thread stacks only, and with one event loop they all read "select()".
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import io
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

MARGIN_SECONDS = 15.0


def _timeout_of(request: pytest.FixtureRequest) -> float:
    marker = request.node.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    return float(request.config.getini("timeout") or 0)


def awaiting(coro: Any) -> list[str]:
    """The chain of awaits a suspended coroutine is in (a task's own stack shows one frame)."""
    lines = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return lines


def dump_tasks(test: str) -> None:
    out = io.StringIO()
    print(f"\n+++ asyncio tasks still running in {test} +++", file=out)
    for task in asyncio.all_tasks():
        print(f"--- {task.get_name()}", file=out)
        for line in awaiting(task.get_coro()):
            print(f"    {line}", file=out)
    # A task suspended in `async with` on an asynccontextmanager shows no further: the
    # generator's own chain of awaits is only reachable from the generator.
    for agen in gc.get_objects():
        if inspect.isasyncgen(agen) and agen.ag_await is not None:
            print(f"--- async generator {agen.__qualname__}", file=out)
            for line in awaiting(agen):
                print(f"    {line}", file=out)
    sys.stderr.write(out.getvalue())


@pytest.fixture(autouse=True)
async def tasks_dumped_before_timeout(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    timeout = _timeout_of(request)
    if timeout <= MARGIN_SECONDS:
        yield
        return
    loop = asyncio.get_running_loop()
    handle = loop.call_later(timeout - MARGIN_SECONDS, dump_tasks, request.node.nodeid)
    yield
    handle.cancel()
