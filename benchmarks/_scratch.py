"""Temporary data directories for the benchmarks, removed even on failure (secrets first).

A benchmark's data directory holds an embedded database, its superuser password, the services'
database-role passwords, ``runtime.json`` (a DSN with a password) and the initial admin's password.
:func:`scratch_dir` creates one and removes it on return, on an exception, at interpreter exit
(``atexit``) and on SIGTERM/SIGHUP (turned into ``SystemExit`` so ``finally`` blocks run): the files
readable only by their owner (mode 0600: every secret the services write) are deleted first, then
the whole tree.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LIVE: set[Path] = set()


def _secret(path: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    name = path.name.lower()
    return stat.S_ISREG(mode) and (
        not mode & (stat.S_IRWXG | stat.S_IRWXO)
        or any(w in name for w in ("password", "secret", "runtime.json", ".key"))
    )


def remove_tree(root: Path, attempts: int = 10) -> bool:
    """Delete the secret files under ``root``, then ``root``; True when it is gone."""
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if _secret(p):
                try:
                    p.unlink()
                except OSError:
                    pass
    for _ in range(attempts):  # a server that just stopped may still be closing files in it
        shutil.rmtree(root, ignore_errors=True)
        if not root.exists():
            break
        time.sleep(0.5)
    _LIVE.discard(root)
    return not root.exists()


def _cleanup_all() -> None:
    for root in list(_LIVE):
        remove_tree(root, attempts=3)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


atexit.register(_cleanup_all)


def install_signal_cleanup() -> None:
    """SIGTERM/SIGHUP raise ``SystemExit`` (in the main thread) so ``finally`` and ``atexit`` run."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _exit_on_signal)


def make_scratch(prefix: str = "ioc-bench-") -> Path:
    """A new temporary directory, removed at exit whatever happens (see :func:`remove_tree`)."""
    install_signal_cleanup()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    _LIVE.add(root)
    return root


@contextmanager
def scratch_dir(prefix: str = "ioc-bench-") -> Iterator[Path]:
    """``make_scratch`` as a context: removed on leaving it, normally or by an exception."""
    root = make_scratch(prefix)
    try:
        yield root
    finally:
        if not remove_tree(root):
            print(f"warning: could not remove {root}", file=sys.stderr)
