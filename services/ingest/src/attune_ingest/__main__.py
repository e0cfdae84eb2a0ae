from __future__ import annotations

import gc
from typing import Any

from attune_ingest.app import build
from attune_ingest.settings import IngestSettings
from attune_runtime.server import run
from attune_runtime.service import Service


def serve(settings: IngestSettings) -> Service[Any]:
    service = build(settings)
    # Modules and the app live as long as the process: keep them out of the collector's full
    # passes, which otherwise tax every request (make bench-ingest).
    gc.freeze()
    return service


def main() -> None:
    run("ingest", IngestSettings(), serve)


if __name__ == "__main__":
    main()
