"""`attune`: one command line for running and operating Attune."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from aiokafka.errors import KafkaError

from attune_runtime.topics import TopicSettings, apply_topics
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
    from attune_cli import asyncapi  # builds every service: imported only when needed

    for path in [*export.write(out), *asyncapi.write(out.parent / "asyncapi")]:
        typer.echo(path)


topics = typer.Typer(help="The Kafka topics of the topic table.", no_args_is_help=True)
app.add_typer(topics, name="topics")


@topics.command("apply")
def topics_apply(
    partitions: Annotated[int | None, typer.Option(help="Partitions per topic.")] = None,
    replication_factor: Annotated[int | None, typer.Option(help="Replicas per partition.")] = None,
    min_insync_replicas: Annotated[
        int | None, typer.Option(help="Replicas that must have a write before acks=all answers.")
    ] = None,
    retention_hours: Annotated[
        float | None, typer.Option(help="Retention of event topics.")
    ] = None,
    dlq_retention_hours: Annotated[
        float | None, typer.Option(help="Retention of dead-letter topics.")
    ] = None,
    audit_retention_hours: Annotated[
        float | None, typer.Option(help="Retention of escalation.events (-1: for ever).")
    ] = None,
) -> None:
    """Create every topic of the topic table and set its configs (idempotent).

    Defaults come from the environment: KAFKA_BOOTSTRAP_SERVERS, ATTUNE_TOPIC_PREFIX and
    ATTUNE_TOPICS_<OPTION> (e.g. ATTUNE_TOPICS_REPLICATION_FACTOR=3).
    """
    given: dict[str, Any] = {
        "partitions": partitions,
        "replication_factor": replication_factor,
        "min_insync_replicas": min_insync_replicas,
        "retention_hours": retention_hours,
        "dlq_retention_hours": dlq_retention_hours,
        "audit_retention_hours": audit_retention_hours,
    }
    settings = TopicSettings(**{k: v for k, v in given.items() if v is not None})
    try:
        applied = asyncio.run(apply_topics(settings))
    except KafkaError as exc:
        typer.echo(f"topics apply failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    for name in applied.created:
        typer.echo(f"created {name}")
    typer.echo(
        f"{len(applied.created)} created, {len(applied.configured)} configured "
        f"(replication factor {settings.replication_factor}, "
        f"min.insync.replicas {settings.min_insync_replicas})"
    )
    for drift in applied.drift:
        typer.echo(f"cannot change in place: {drift}", err=True)
