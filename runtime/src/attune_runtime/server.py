"""Serve one service under uvicorn, with the JSON logging configured first.

`python -m attune_<service>` and `attune serve <service>` both come here: settings from the
environment, overridable on the command line, and `--help` answers without starting anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
import uvicorn

from attune_runtime.logging import configure_logging
from attune_runtime.service import Service
from attune_runtime.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def run(service: str, settings: S, build: Callable[[S], Service[Any]]) -> None:
    """Serve one service: logs as JSON, then uvicorn until SIGTERM."""
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


def serve_command(
    service: str, settings_type: type[S], build: Callable[[S], Service[Any]]
) -> Callable[..., None]:
    """The `serve` command of one service, for typer: options override the environment."""

    def serve(
        host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
        port: Annotated[int | None, typer.Option(help="HTTP port.")] = None,
        log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING…")] = None,
    ) -> None:
        given = {"http_host": host, "http_port": port, "log_level": log_level}
        overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        run(service, settings_type(**overrides), build)

    serve.__doc__ = (
        f"Run the {service} service (settings: KAFKA_BOOTSTRAP_SERVERS, ATTUNE_TOPIC_PREFIX, "
        f"ATTUNE_{service.upper()}_<SETTING>)."
    )
    return serve


def main(service: str, settings_type: type[S], build: Callable[[S], Service[Any]]) -> None:
    """`python -m attune_<service>`: the same command as `attune serve <service>`."""
    typer.run(serve_command(service, settings_type, build))
