from __future__ import annotations

from attune_escalation.app import build
from attune_escalation.settings import EscalationSettings
from attune_runtime.server import run


def main() -> None:
    run("escalation", EscalationSettings(), build)


if __name__ == "__main__":
    main()
