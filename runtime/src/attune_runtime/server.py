"""Run a service's ASGI app under uvicorn, with the JSON logging configured first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn

from attune_runtime.logging import configure_logging
from attune_runtime.service import Service
from attune_runtime.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def run(service: str, settings: S, build: Callable[[S], Service[Any]]) -> None:
    """Serve one service: settings from the environment, logs as JSON, then uvicorn."""
    configure_logging(service, settings.log_level)
    uvicorn.run(
        build(settings).app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
    )
