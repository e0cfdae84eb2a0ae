"""Run a service's ASGI app under uvicorn with the JSON logging already configured."""

from __future__ import annotations

from typing import Any

import uvicorn


def serve(app: Any, *, host: str, port: int, log_level: str) -> None:
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
    )
