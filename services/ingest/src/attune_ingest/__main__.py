from __future__ import annotations

import gc

from fastapi import FastAPI

from attune_ingest.app import create_app
from attune_ingest.settings import IngestSettings
from attune_runtime.server import run


def serve_app(settings: IngestSettings) -> FastAPI:
    app = create_app(settings)
    # Modules and the app live as long as the process: keep them out of the collector's full
    # passes, which otherwise tax every request (make bench-ingest).
    gc.freeze()
    return app


def main() -> None:
    run("ingest", IngestSettings(), serve_app)


if __name__ == "__main__":
    main()
