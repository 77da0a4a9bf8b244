"""``python -m ioc.web.webserver``: serve the dashboard with waitress (threaded WSGI) for ``ioc up``.

Settings come from ``IOC_*`` variables (the launcher passes them); the app listens on
``Settings.web_host:web_port``. Behind gunicorn use ``ioc.web.wsgi:server`` instead.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from ioc.settings import Settings

log = logging.getLogger("ioc.web.webserver")


def serve(settings: Settings, threads: int = 16, connections: int = 1000) -> None:
    from waitress import create_server

    from ioc.web.app import create_app
    from ioc.web.push import CONFIG_MAX_STREAMS, stop_streams

    app = create_app(settings)
    # Each open push stream holds a thread: leave at least 8 (and half) for requests; the rest poll.
    app.server.config[CONFIG_MAX_STREAMS] = max(
        0, min(threads - 8, threads // 2 if threads < 64 else threads - 32)
    )
    server = create_server(
        app.server,
        host=settings.web_host,
        port=settings.web_port,
        threads=threads,
        connection_limit=connections,  # kept-alive browsers and their push streams (waitress: 100)
        ident="ioc",
        channel_timeout=120,
    )
    log.info("dashboard on http://%s:%s/", settings.web_host, settings.web_port)

    def stop(*_: object) -> None:
        stop_streams(app.server)  # open push streams end within a second: their threads are freed
        server.close()  # ends run(): then the process exits and the refresher thread (daemon) with it

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.run()
    except OSError:  # select() on closed sockets after close(): the normal way out
        pass
    finally:
        parts = app.server.extensions["ioc"]
        parts["live"].stop(timeout=2.0)
        parts["pool"].close(timeout=2.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ioc.web.webserver", description=__doc__)
    parser.add_argument("--threads", type=int, default=16, help="waitress worker threads (default 16)")
    parser.add_argument(
        "--connections", type=int, default=1000, help="open connections accepted (default 1000)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(Settings(), threads=args.threads, connections=args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
