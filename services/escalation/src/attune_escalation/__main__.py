"""`python -m attune_escalation`: the same command as `attune serve escalation`."""

from __future__ import annotations

from attune_escalation.app import build
from attune_escalation.settings import EscalationSettings
from attune_runtime.server import main as serve


def main() -> None:
    serve("escalation", EscalationSettings, build)


if __name__ == "__main__":
    main()
