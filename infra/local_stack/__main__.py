"""`python -m infra.local_stack`: run PrivoChat on http://127.0.0.1:$PORT (and on the
addresses LOCAL_EXTRA_BIND_ADDRESSES names, for `sam local`'s containers)."""

from __future__ import annotations

import logging

from privochat.config import SettingsError

from .server import StackConfig, build_app, run


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        config = StackConfig.from_env()
        app = build_app(config)
    except SettingsError as error:
        raise SystemExit(f"PrivoChat local stack: {error}") from None
    also = "".join(f", also on {address}" for address in config.extra_bind_addresses)
    print(
        f"PrivoChat local stack: {config.origin}{also}  (storage: {config.storage}; "
        f"Lambda handlers {config.lambdas})",
        flush=True,
    )
    run(app, config.bind_addresses, config.port)


if __name__ == "__main__":
    main()
