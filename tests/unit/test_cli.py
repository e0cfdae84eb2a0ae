"""One command line: every command answers --help, and `python -m attune_<service> --help`
prints its options without starting a server."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from attune_cli.main import app

COMMANDS = [
    ["serve", "ingest"],
    ["serve", "classifier"],
    ["serve", "router"],
    ["serve", "escalation"],
    ["score"],
    ["train"],
    ["evaluate"],
    ["schemas"],
    ["topics", "apply"],
    ["migrate"],
    ["dlq", "inspect"],
    ["dlq", "redrive"],
    ["admin"],
]


def test_the_top_level_help_names_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])

    assert result.exit_code == 0
    for name in ("serve", "score", "train", "evaluate", "schemas", "topics", "migrate", "dlq"):
        assert name in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_answers_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])

    assert result.exit_code == 0, result.output
    assert "usage" in result.output.lower()


@pytest.mark.parametrize("service", ["ingest", "router"])
def test_python_m_service_help_does_not_start_the_server(service: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"attune_{service}", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout
    assert "Started server" not in done.stdout + done.stderr
