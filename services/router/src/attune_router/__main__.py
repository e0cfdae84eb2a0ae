"""`python -m attune_router`: the same command as `attune serve router`."""

from __future__ import annotations

from attune_router.app import build
from attune_router.settings import RouterSettings
from attune_runtime.server import main as serve


def main() -> None:
    serve("router", RouterSettings, build)


if __name__ == "__main__":
    main()
