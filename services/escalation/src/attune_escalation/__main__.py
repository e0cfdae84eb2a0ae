from __future__ import annotations

from attune_escalation.app import create_app
from attune_escalation.settings import EscalationSettings
from attune_runtime.server import run


def main() -> None:
    run("escalation", EscalationSettings(), create_app)


if __name__ == "__main__":
    main()
