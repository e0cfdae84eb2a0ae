from __future__ import annotations

from attune_router.app import build
from attune_router.settings import RouterSettings
from attune_runtime.server import run


def main() -> None:
    run("router", RouterSettings(), build)


if __name__ == "__main__":
    main()
