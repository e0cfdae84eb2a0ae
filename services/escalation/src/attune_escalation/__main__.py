from __future__ import annotations

from attune_runtime.logging import configure_logging
from attune_runtime.server import serve

from attune_escalation.app import create_app
from attune_escalation.settings import EscalationSettings


def main() -> None:
    settings = EscalationSettings()
    configure_logging("escalation", settings.log_level)
    serve(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
