"""`attune`: one command line for running and operating Attune."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attune_cli import asyncapi
from attune_schemas import export

app = typer.Typer(
    help="Attune: run the services and operate the pipeline.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Attune: run the services and operate the pipeline."""


@app.command()
def schemas(
    out: Annotated[
        Path, typer.Option(help="Where the JSON Schema goes; AsyncAPI goes next to it.")
    ] = export.DEFAULT_DIR,
) -> None:
    """Export the event contracts (JSON Schema) and each service's AsyncAPI document."""
    for path in [*export.write(out), *asyncapi.write(out.parent / "asyncapi")]:
        typer.echo(path)
