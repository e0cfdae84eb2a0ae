"""`attune`: one command line for running and operating Attune.

Each command imports what it needs when it runs, so `attune --help` and the light commands do
not load the model or every service.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from aiokafka.errors import KafkaError

from attune_auth.cli import app as admin_app
from attune_runtime.kafka_client import KafkaAuthenticationFailed
from attune_runtime.topics import TopicSettings, apply_topics
from attune_schemas import export

app = typer.Typer(
    help="Attune: run the services and operate the pipeline.",
    no_args_is_help=True,
    add_completion=False,
)
SERVICES = ("ingest", "classifier", "router", "escalation")
# Commands whose options belong to the tool they run (argparse): passed through as given.
PASS_THROUGH: dict[str, Any] = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}


@app.callback()
def main() -> None:
    """Attune: run the services and operate the pipeline."""


# --- serve ------------------------------------------------------------------------------------

serve = typer.Typer(
    help="Run one service (the same as `python -m attune_<service>`).", no_args_is_help=True
)
app.add_typer(serve, name="serve")


def _serve_command(service: str) -> Callable[..., None]:
    if service == "ingest":
        from attune_ingest.app import serving
        from attune_ingest.settings import IngestSettings
        from attune_runtime.server import serve_command

        return serve_command("ingest", IngestSettings, serving)
    if service == "classifier":
        from attune_classifier.app import build as classifier
        from attune_classifier.settings import ClassifierSettings
        from attune_runtime.server import serve_command

        return serve_command("classifier", ClassifierSettings, classifier)
    if service == "router":
        from attune_router.app import build as router
        from attune_router.settings import RouterSettings
        from attune_runtime.server import serve_command

        return serve_command("router", RouterSettings, router)
    from attune_escalation.app import build as escalation
    from attune_escalation.settings import EscalationSettings
    from attune_runtime.server import serve_command

    return serve_command("escalation", EscalationSettings, escalation)


def _register_serve(service: str) -> None:
    def command(
        host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
        port: Annotated[int | None, typer.Option(help="HTTP port.")] = None,
        log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING…")] = None,
    ) -> None:
        _serve_command(service)(host=host, port=port, log_level=log_level)

    command.__doc__ = (
        f"Run the {service} service (settings from KAFKA_BOOTSTRAP_SERVERS, "
        f"ATTUNE_TOPIC_PREFIX and ATTUNE_{service.upper()}_<SETTING>)."
    )
    serve.command(service)(command)


for _service in SERVICES:
    _register_serve(_service)


# --- model ------------------------------------------------------------------------------------


def _argv(ctx: typer.Context, prog: str) -> None:
    sys.argv = [prog, *ctx.args]


@app.command(context_settings=PASS_THROUGH)
def score(ctx: typer.Context) -> None:
    """Score conversation events offline (JSON lines in, assessments out); --help for options."""
    from attune_classifier.offline import main as offline

    raise typer.Exit(offline(list(ctx.args)))


@app.command(context_settings=PASS_THROUGH)
def train(ctx: typer.Context) -> None:
    """Rebuild the models into models/artifacts and choose thresholds; --help for options."""
    from attune_models.train import main as train_main

    _argv(ctx, "attune train")
    train_main()


@app.command(context_settings=PASS_THROUGH)
def evaluate(ctx: typer.Context) -> None:
    """Evaluate on the team test split and real conversations; --help for options."""
    from attune_models.evaluate import main as evaluate_main

    _argv(ctx, "attune evaluate")
    evaluate_main()


# --- contracts and deploy steps ----------------------------------------------------------------


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


@app.command()
def migrate(
    database_url: Annotated[
        str | None, typer.Option(help="Escalation database (default: the service's setting).")
    ] = None,
) -> None:
    """Bring the escalation and identity databases to the newest schema (Alembic)."""
    from attune_auth import migrate as identity
    from attune_escalation.migrate import upgrade
    from attune_escalation.settings import EscalationSettings

    settings = EscalationSettings()
    upgrade(database_url or settings.database_url)
    asyncio.run(identity.upgrade_async(settings.auth.database_url))
    typer.echo("escalation and identity databases are at the newest schema")


# --- feedback ---------------------------------------------------------------------------------

feedback = typer.Typer(
    help="Clinicians' verdicts on alerts: the model's labels.", no_args_is_help=True
)
app.add_typer(feedback, name="feedback")


@feedback.command("export")
def feedback_export(
    out: Annotated[
        Path, typer.Option(help="Folder for examples.jsonl (corpus format) and verdicts.jsonl.")
    ] = Path(".run/feedback"),
    tenant: Annotated[str | None, typer.Option(help="One tenant only (default: all).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Escalation database (default: the service's setting).")
    ] = None,
) -> None:
    """Export the verdicts: examples for `make train FEEDBACK=…`, verdicts for `make evaluate`.

    examples.jsonl holds client text: keep it where the corpus is kept, not in the repository.
    """
    import json

    from attune_escalation.db import make_engine, make_sessions
    from attune_escalation.feedback import export
    from attune_escalation.settings import EscalationSettings

    async def run() -> tuple[int, int, int]:
        engine = make_engine(database_url or EscalationSettings().database_url)
        try:
            async with make_sessions(engine)() as session:
                found = await export(session, tenant_id=tenant)
        finally:
            await engine.dispose()
        out.mkdir(parents=True, exist_ok=True)
        for name, rows in (("examples", found.examples), ("verdicts", found.verdicts)):
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            (out / f"{name}.jsonl").write_text(lines, encoding="utf-8")
        return len(found.examples), len(found.verdicts), found.skipped

    examples, verdicts, skipped = asyncio.run(run())
    typer.echo(
        f"{verdicts} verdicts -> {out / 'verdicts.jsonl'}; {examples} training examples -> "
        f"{out / 'examples.jsonl'} ({skipped} without text or label)"
    )


# --- topics -----------------------------------------------------------------------------------

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
    except (KafkaError, KafkaAuthenticationFailed) as exc:
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


# --- dead letters -----------------------------------------------------------------------------

dlq = typer.Typer(
    help="Dead-letter topics: look, and re-publish after a fix.", no_args_is_help=True
)
app.add_typer(dlq, name="dlq")
DLQS = ("conversation.events.dlq", "rupture.assessments.dlq", "alerts.dlq")
DlqName = Annotated[str, typer.Argument(help=f"One of: {', '.join(DLQS)}.")]
Reason = Annotated[
    str | None, typer.Option(help="Only letters with this reason (e.g. invalid_event).")
]


def _letters(name: str, reason: str | None) -> tuple[TopicSettings, list[Any]]:
    from attune_cli.dlq import read_letters

    if name not in DLQS:
        raise typer.BadParameter(f"not a dead-letter topic: {name}; one of {', '.join(DLQS)}")
    settings = TopicSettings()
    letters = asyncio.run(read_letters(settings, settings.topic_prefix + name))
    return settings, [
        x for x in letters if reason is None or (x.letter and x.letter.reason == reason)
    ]


@dlq.command("inspect")
def dlq_inspect(name: DlqName, reason: Reason = None) -> None:
    """List the dead letters: where each came from, why, and which fields (never the payload)."""
    _, letters = _letters(name, reason)
    for x in letters:
        if x.letter is None:
            typer.echo(f"{x.partition}:{x.offset} unreadable dead letter")
            continue
        fields = ",".join(e.field for e in x.letter.errors) or "-"
        typer.echo(
            f"{x.partition}:{x.offset} {x.letter.failed_at.isoformat()} {x.letter.service} "
            f"{x.letter.reason} fields={fields} from={x.letter.source_topic}:"
            f"{x.letter.source_partition}:{x.letter.source_offset} key={x.letter.key}"
        )
    typer.echo(f"{len(letters)} dead letters")


@dlq.command("redrive")
def dlq_redrive(
    name: DlqName,
    reason: Reason = None,
    dry_run: Annotated[
        bool, typer.Option(help="Say what would be re-published; do nothing.")
    ] = False,
) -> None:
    """Re-publish dead letters to the topic they came from (after a fix); idempotent downstream."""
    from attune_cli.dlq import redrive

    settings, letters = _letters(name, reason)
    readable = [x for x in letters if x.letter is not None]
    for x in readable:
        typer.echo(
            f"{'would redrive' if dry_run else 'redrive'} {x.partition}:{x.offset} "
            f"-> {x.letter.source_topic} ({x.letter.reason})"
        )
    if dry_run:
        typer.echo(f"{len(readable)} dead letters would be re-published (dry run)")
        return
    sent = asyncio.run(redrive(settings, readable))
    typer.echo(f"{sent} dead letters re-published")


# --- identity ---------------------------------------------------------------------------------

app.add_typer(admin_app, name="admin", help="Tenants, users and integrator keys (attune-admin).")


# --- the commands that came before `attune` ---------------------------------------------------


def _legacy(command: str) -> None:
    app([command, *sys.argv[1:]], prog_name="attune")


def legacy_score() -> None:
    """attune-score: `attune score`."""
    _legacy("score")


def legacy_train() -> None:
    """attune-train: `attune train`."""
    _legacy("train")


def legacy_evaluate() -> None:
    """attune-evaluate: `attune evaluate`."""
    _legacy("evaluate")
