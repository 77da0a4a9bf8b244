"""One sink consumer until a signal: the body of ``python -m streams`` and of each ``--workers`` process
(a module of its own, so a spawned worker can import it: ``__main__`` is not importable there)."""

from __future__ import annotations

import logging
import signal
import threading

from ioc.settings import Settings
from ioc.sources import SourceKind

LOG_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"


def serve(kind_value: str) -> None:
    """Run one consumer of ``kind`` until SIGTERM/SIGINT/SIGHUP."""
    from streams.__main__ import _feedback_units, config_from_settings
    from streams.consumer import SinkConsumer

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    kind = SourceKind(kind_value)
    SinkConsumer(config_from_settings(Settings(), kind), stop=stop, units_of=_feedback_units(kind)).run()
