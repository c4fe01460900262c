"""`python -m infra.local_stack`: run PrivoChat on http://127.0.0.1:$PORT."""

from __future__ import annotations

import logging

from privochat.config import SettingsError

from .server import StackConfig, build_app, run


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = StackConfig.from_env()
    try:
        app = build_app(config)
    except SettingsError as error:
        raise SystemExit(f"PrivoChat local stack: {error}") from None
    print(
        f"PrivoChat local stack: {config.origin}  (storage: {config.storage}; "
        f"Lambda handlers {config.lambdas})",
        flush=True,
    )
    run(app, config.port)


if __name__ == "__main__":
    main()
