from __future__ import annotations

from attune_runtime.logging import configure_logging
from attune_runtime.server import serve

from attune_ingest.app import create_app
from attune_ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    serve(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
