"""A supervisor, not a starter: every child of ``ioc up`` is restarted when it exits.

Each child is a :class:`ChildSpec` (name, how to start it, what to do once it is up). When a
child exits the supervisor logs why (exit code or signal, and the tail of its log), and starts it
again after an exponential backoff (``backoff`` doubling up to ``backoff_max``). A child that
fails ``fail_after`` times within ``window`` seconds is marked **failed** (shown on ``/healthz``
and the wall) and is then retried every ``failed_retry`` seconds; one that stays up for a window
starts afresh. One child failing never stops the others.

Children are processes (``python -m …``) or services (the embedded PostgreSQL and broker, whose
start blocks until they accept clients). ``ioc up`` and the tests drive the same class.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ioc.services.proc import terminate

log = logging.getLogger(__name__)

State = Literal["starting", "running", "restarting", "failed", "stopped"]


class Handle(Protocol):
    """A started child: its pid, whether it exited, how to stop it."""

    @property
    def pid(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None: ...


@dataclass
class ProcessHandle:
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        return terminate(self.proc, sig, timeout)


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def proc(self) -> subprocess.Popen[bytes] | None: ...


@dataclass
class ServiceHandle:
    """An embedded service (PostgreSQL, tansu) seen as a child."""

    service: Service

    @property
    def pid(self) -> int | None:
        p = self.service.proc
        return None if p is None else p.pid

    def poll(self) -> int | None:
        p = self.service.proc
        return -1 if p is None else p.poll()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        p = self.service.proc
        if sig == signal.SIGKILL and p is not None:
            p.kill()
            p.wait()
        self.service.stop()
        return None if p is None else p.returncode


@dataclass(frozen=True)
class RestartPolicy:
    backoff: float = 0.5
    backoff_max: float = 30.0
    fail_after: int = 5
    window: float = 60.0
    failed_retry: float = 60.0


@dataclass(frozen=True)
class ChildSpec:
    name: str
    role: Literal["process", "service"]
    start: Callable[[], Handle]
    after_start: Callable[[], None] | None = None  # e.g. re-create the topics on a restarted broker
    log_path: Path | None = None  # whose tail is logged when the child exits


@dataclass(frozen=True)
class ChildStatus:
    """What ``component_health`` and the logs are told about one child."""

    name: str
    role: str
    state: State
    pid: int | None
    restarts: int
    last_exit: str | None


@dataclass
class _Child:
    spec: ChildSpec
    handle: Handle | None = None
    state: State = "starting"
    restarts: int = 0
    last_exit: str | None = None
    failures: deque[float] = field(default_factory=deque)
    next_start: float = 0.0
    delay: float = 0.0

    def status(self) -> ChildStatus:
        return ChildStatus(self.spec.name, self.spec.role, self.state,
                           self.handle.pid if self.handle is not None and self.state == "running" else None,
                           self.restarts, self.last_exit)


def describe_exit(code: int) -> str:
    """``exit 1`` or ``killed by SIGKILL`` (Popen reports a signal as a negative code)."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def _tail(path: Path | None, lines: int = 5) -> str:
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 4000))
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


class Supervisor:
    """Owns the children; :meth:`check` (or :meth:`run`) notices exits and restarts them."""

    def __init__(self, policy: RestartPolicy | None = None, *,
                 on_change: Callable[[ChildStatus], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or RestartPolicy()
        self.on_change = on_change
        self.clock = clock
        self._children: dict[str, _Child] = {}
        self._lock = threading.RLock()

    # -- children ---------------------------------------------------------------------------------
    def add(self, spec: ChildSpec) -> Handle:
        """Start a child now and supervise it; raises if this first start fails."""
        with self._lock:
            if spec.name in self._children:
                raise ValueError(f"child {spec.name!r} is already supervised")
            child = _Child(spec)
            self._children[spec.name] = child
            try:
                self._start(child)
            except BaseException:
                del self._children[spec.name]
                raise
            assert child.handle is not None
            return child.handle

    def remove(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Stop supervising ``name`` and stop it; returns its exit code (None if it was not running)."""
        with self._lock:
            child = self._children.pop(name, None)
        if child is None or child.handle is None:
            return None
        code = child.handle.stop(sig, timeout) if child.handle.poll() is None else child.handle.poll()
        child.state = "stopped"
        self._changed(child)
        return code

    def names(self) -> list[str]:
        with self._lock:
            return list(self._children)

    def handle(self, name: str) -> Handle | None:
        with self._lock:
            child = self._children.get(name)
            return None if child is None else child.handle

    def status(self) -> dict[str, ChildStatus]:
        with self._lock:
            return {n: c.status() for n, c in self._children.items()}

    # -- the loop ---------------------------------------------------------------------------------
    def check(self) -> None:
        """Notice exited children and start those whose backoff is over (one pass)."""
        with self._lock:
            children = list(self._children.values())
        for child in children:
            with self._lock:
                if self._children.get(child.spec.name) is not child:
                    continue  # removed meanwhile
                if child.state == "running" and child.handle is not None:
                    code = child.handle.poll()
                    if code is not None:
                        self._exited(child, describe_exit(code))
                if child.state in ("restarting", "failed") and self.clock() >= child.next_start:
                    try:
                        self._start(child)
                        child.restarts += 1
                        log.info("%s restarted (restart %d, pid %s)", child.spec.name, child.restarts,
                                 child.handle.pid if child.handle else None)
                        self._changed(child)
                    except Exception as exc:  # noqa: BLE001 - a failed start is one more failure
                        child.restarts += 1
                        self._exited(child, f"start failed: {type(exc).__name__}: {str(exc)[:300]}")

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        while not stop.is_set():
            self.check()
            stop.wait(interval)

    def stop_all(self, order: list[str] | None = None, sig: int = signal.SIGTERM) -> None:
        """Stop every child: those in ``order`` last, in that order (services after processes)."""
        names = self.names()
        last = [n for n in (order or []) if n in names]
        for name in [n for n in names if n not in last] + last:
            self.remove(name, sig)

    # -- internals --------------------------------------------------------------------------------
    def _start(self, child: _Child) -> None:
        child.handle = child.spec.start()
        if child.spec.after_start is not None:
            try:
                child.spec.after_start()
            except BaseException:
                child.handle.stop(signal.SIGTERM, 10.0)
                raise
        was = child.state
        child.state = "running"
        if was == "starting":
            self._changed(child)

    def _exited(self, child: _Child, why: str) -> None:
        now = self.clock()
        p = self.policy
        child.last_exit = why
        child.failures.append(now)
        while child.failures and child.failures[0] < now - p.window:
            child.failures.popleft()
        # Stable for a whole window since the last failure: back off from the start again.
        child.delay = p.backoff if len(child.failures) == 1 else min(max(child.delay * 2, p.backoff), p.backoff_max)
        if len(child.failures) >= p.fail_after:
            child.state = "failed"
            child.delay = max(child.delay, p.failed_retry)
            log.error("%s FAILED: %s; %d failures in %.0f s; retrying every %.0f s; last log lines: %s",
                      child.spec.name, why, len(child.failures), p.window, child.delay, _tail(child.spec.log_path))
        else:
            child.state = "restarting"
            log.warning("%s exited (%s); restarting in %.1f s; last log lines: %s", child.spec.name, why,
                        child.delay, _tail(child.spec.log_path))
        child.next_start = now + child.delay
        self._changed(child)

    def _changed(self, child: _Child) -> None:
        if self.on_change is not None:
            try:
                self.on_change(child.status())
            except Exception as exc:  # noqa: BLE001 - reporting must never stop supervision
                log.debug("health publish failed: %s", exc)
