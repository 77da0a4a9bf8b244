"""The one launcher: embedded (or external) PostgreSQL and broker, schema, topics, consumers, web, simulator.

``ioc up`` and the tests use this same class, so the path users run is the path that is tested.
Every child — the embedded PostgreSQL and broker included — is supervised
(:class:`ioc.services.supervisor.Supervisor`): restarted with backoff when it exits, marked failed
in ``component_health`` when it keeps failing, never taking the others down. A restarted broker
gets its topics back, with their configured partitions, before any producer can send again.
Every child process dies with its parent (PR_SET_PDEATHSIG) and ``stop()`` ends them in order.
A lock on the data folder (``ioc-up.lock``) refuses a second launcher on it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pydantic import SecretStr

from ioc import db, health
from ioc.db_roles import dsn_for
from ioc.kafka import ensure_topics
from ioc.services import EmbeddedPostgres, TansuBroker
from ioc.services.proc import die_with_parent
from ioc.services.supervisor import (
    ChildSpec,
    ChildStatus,
    Handle,
    ProcessHandle,
    RestartPolicy,
    ServiceHandle,
    Supervisor,
)
from ioc.settings import Settings
from ioc.sources import SourceKind

log = logging.getLogger(__name__)

LOCK_NAME = "ioc-up.lock"
SERVICES = ("broker", "postgres")  # stopped last, in this order


def supervised_processes(*, alerts: bool = True, intake: bool = True, web: bool = True, simulate: bool = True,
                         scenario: str = "normal_day", speed: float = 1.0) -> dict[str, list[str]]:
    """Every process ``ioc up`` supervises, by name, with its ``python`` arguments.

    docker-compose.yml runs the same set (``tests/test_compose.py`` holds them to it)."""
    out = {f"stream-{k.value}": ["-m", "streams", "--kind", k.value] for k in SourceKind}
    if alerts:
        out["alerts"] = ["-m", "alerts.engine"]
    if intake:
        out["ticket-intake"] = ["-m", "ioc.tickets.intake"]
        out["directives-worker"] = ["-m", "ioc.directives.worker"]  # delivery, retries, escalation
        out["kpi-intake"] = ["-m", "ioc.kpi.intake"]  # dossier events → dossiers and the 766 counters
    if web:
        out["web"] = ["-m", "ioc.web.webserver"]
    if simulate:
        out["simulator"] = ["-m", "ioc.cli", "live-sim", "--scenario", scenario, "--speed", f"{speed:g}"]
    return out


class AlreadyRunning(RuntimeError):
    """Another ``ioc up`` holds the data folder's lock."""

    def __init__(self, data_dir: Path, pid: int | None, web: str | None) -> None:
        self.pid, self.web = pid, web
        super().__init__(
            f"IOC đang chạy trên thư mục dữ liệu {data_dir} (pid {pid}, web {web}); dừng phiên đó trước"
            f" hoặc dùng --data-dir khác. / IOC is already running on {data_dir} (pid {pid}, web {web}).")


def acquire_lock(data_dir: Path, web_url: str) -> int:
    """Take ``<data_dir>/ioc-up.lock`` (flock, released by the kernel when we die) and write who holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            doc = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            doc = {}
        os.close(fd)
        raise AlreadyRunning(data_dir, doc.get("pid"), doc.get("web")) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "web": web_url}).encode(), 0)
    return fd


def policy_of(s: Settings) -> RestartPolicy:
    return RestartPolicy(backoff=s.restart_backoff_seconds, backoff_max=s.restart_backoff_max_seconds,
                         fail_after=s.fail_after, window=s.fail_window_seconds, failed_retry=s.failed_retry_seconds)


def settings_env(s: Settings) -> dict[str, str]:
    """Every setting as the ``IOC_*`` variable a child reads (so no setting is ever left behind)."""
    env: dict[str, str] = {}
    for name, value in s:
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, dict | list | tuple):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"IOC_{name.upper()}"] = str(value)
    return env


@dataclass
class Stack:
    """A running IOC: services, schema, topics and child processes, for ``ioc up`` and the tests."""

    settings: Settings
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    log_dir: Path | None = None
    initial_admin_file: Path | None = None  # set when this start created the first admin account
    supervisor: Supervisor = field(init=False)
    _lock_fd: int | None = field(default=None, init=False)
    _health_conn: psycopg.Connection | None = field(default=None, init=False)
    _health_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _prepared: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(policy_of(self.settings), on_change=self._publish)

    @property
    def children(self) -> dict[str, subprocess.Popen[bytes]]:
        """The supervised child processes (not the services), by name."""
        out = {}
        for name in self.supervisor.names():
            h = self.supervisor.handle(name)
            if isinstance(h, ProcessHandle):
                out[name] = h.proc
        return out

    @property
    def web_url(self) -> str:
        return f"http://{self.settings.web_host}:{self.settings.web_port}/"

    def lock(self) -> None:
        """Refuse a second launcher on this data folder (idempotent)."""
        if self._lock_fd is None:
            self._lock_fd = acquire_lock(Path(self.settings.data_dir), self.web_url)

    # -- services ----------------------------------------------------------------------------------
    def start_services(self) -> Settings:
        """Start what is not configured externally; return settings pointing at the live services."""
        s = self.settings
        data_dir = Path(s.data_dir)
        self.log_dir = data_dir / "logs"
        updates: dict[str, object] = {}
        if s.database_url is None or s.kafka_bootstrap is None:
            self.lock()  # we own the data folder's services: only one launcher may
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if s.database_url is None:
            if os.geteuid() == 0:
                data_dir.chmod(0o755)  # the unprivileged postgres user must reach its PGDATA
            pg = self.postgres = EmbeddedPostgres(data_dir / "pgdata")
            self.supervisor.add(ChildSpec("postgres", "service", start=lambda: _started(pg),
                                          log_path=pg._log_path))  # noqa: SLF001
            updates["database_url"] = SecretStr(pg.dsn)
            log.info("embedded PostgreSQL on 127.0.0.1:%s (%s)", pg.port, pg.bin)
        if s.kafka_bootstrap is None:
            broker = self.broker = TansuBroker(log_dir=self.log_dir)
            self.supervisor.add(ChildSpec("broker", "service", start=lambda: _started(broker),
                                          after_start=self._broker_started,
                                          log_path=self.log_dir / f"tansu-{broker.port}.log"))
            updates["kafka_bootstrap"] = broker.bootstrap
            updates["broker_offsets_reliable"] = False  # tansu's end offsets are wrong
            log.info("embedded Kafka-protocol broker (tansu) on %s", broker.bootstrap)
        self.settings = s.model_copy(update=updates)
        if updates:
            self._write_runtime()
        return self.settings

    def _broker_started(self) -> None:
        """Every topic with its configured partitions before any producer sends (no auto-create)."""
        assert self.broker is not None
        created = ensure_topics(self.broker.bootstrap, self.settings.topic_partitions, self.settings.topic_prefix)  # tansu: 1 replica
        if created and self._prepared:
            log.warning("broker restarted empty: %d topics re-created with %d partitions", len(created),
                        self.settings.topic_partitions)

    @property
    def runtime_file(self) -> Path:
        return Path(self.settings.data_dir) / "runtime.json"

    def _write_runtime(self) -> None:
        """Tell other ``ioc`` commands on this machine where the embedded services are (mode 0600)."""
        doc = {"pid": os.getpid(), "database_url": self.settings.database_dsn(),
               "kafka_bootstrap": self.settings.kafka_bootstrap, "web": self.web_url}
        path = self.runtime_file
        path.touch(mode=0o600)
        path.write_text(json.dumps(doc))

    def prepare(self) -> None:
        """Schema migrations, topics and the source registry."""
        from geodata.registry import sync_sources
        from geodata.sites import load_sites

        s = self.settings
        applied = db.migrate(s.database_dsn())
        if applied:
            log.info("migrations applied: %s", ", ".join(applied))
        ensure_topics(s.kafka_bootstrap or "", s.topic_partitions, s.topic_prefix,
                      replication=1 if self.broker is not None else s.topic_replication)
        with db.connect(s.database_dsn()) as conn:
            sync_sources(conn, load_sites(), _unit_assigner())
            self.initial_admin_file = ensure_initial_admin(conn, Path(s.data_dir))
        self._prepared = True
        for st in self.supervisor.status().values():
            self._publish(st)

    # -- child processes ---------------------------------------------------------------------------
    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
        env.update(settings_env(self.settings))
        return env

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        """Start and supervise a child (``python -m ...``) that dies with us; output in ``logs/<name>.log``."""
        assert self.log_dir is not None, "start_services() first"
        log_path = self.log_dir / f"{name}.log"
        env = self.child_env()
        env["IOC_DATABASE_URL"] = dsn_for(name, self.settings)  # issue 11: each service its own database role

        def start() -> Handle:
            out = open(log_path, "ab")  # noqa: SIM115 - owned by the child
            try:
                proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, preexec_fn=die_with_parent)
            finally:
                out.close()
            return ProcessHandle(proc)

        handle = self.supervisor.add(ChildSpec(name, "process", start=start, log_path=log_path))
        assert isinstance(handle, ProcessHandle)
        return handle.proc

    def start_consumer(self, kind: SourceKind) -> subprocess.Popen[bytes]:
        name = f"stream-{kind.value}"
        return self.spawn(name, supervised_processes()[name])

    def start_consumers(self) -> None:
        for kind in SourceKind:
            self.start_consumer(kind)

    def start_downstream(self, *, alerts: bool = True, web: bool = True, intake: bool = True) -> None:
        """Everything fed by the stored events: alert engine, citizen-ticket intake, the directives
        worker, web server."""
        procs = supervised_processes(alerts=alerts, intake=intake, web=web, simulate=False)
        for name in ("alerts", "ticket-intake", "directives-worker", "kpi-intake", "web"):
            if name in procs:
                self.spawn(name, procs[name])

    def start_simulator(self, scenario: str = "normal_day", speed: float = 1.0) -> subprocess.Popen[bytes]:
        return self.spawn("simulator", supervised_processes(scenario=scenario, speed=speed)["simulator"])

    def stop_child(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Stop a child and stop supervising it (a test's deliberate kill, or shutdown)."""
        return self.supervisor.remove(name, sig, timeout)

    # -- supervision -------------------------------------------------------------------------------
    def supervise(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Restart what exits until ``stop`` is set; publish every child's state each heartbeat."""
        next_beat = 0.0
        while not stop.is_set():
            self.supervisor.check()
            if time.monotonic() >= next_beat:
                self.publish_all()
                next_beat = time.monotonic() + self.settings.heartbeat_seconds
            stop.wait(interval)

    def supervise_in_background(self) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.supervise, args=(stop,), name="ioc-supervisor", daemon=True)
        thread.start()
        return thread, stop

    def publish_all(self) -> None:
        for st in self.supervisor.status().values():
            self._publish(st)
        self._beat("supervisor", "supervisor", detail={"children": len(self.supervisor.names())})

    def _publish(self, st: ChildStatus) -> None:
        self._beat(st.name, st.role, state=st.state, pid=st.pid, restarts=st.restarts, last_exit=st.last_exit)

    def _beat(self, name: str, role: str, **kw: object) -> None:
        """Upsert one component_health row; silently skipped while the database is away or not migrated."""
        if not self._prepared or self.settings.database_url is None:
            return
        with self._health_lock:
            try:
                if self._health_conn is None or self._health_conn.closed:
                    self._health_conn = psycopg.connect(self.settings.database_dsn(), autocommit=True,
                                                        connect_timeout=2, application_name="ioc-supervisor")
                health.beat(self._health_conn, name, role, **kw)  # type: ignore[arg-type]
            except psycopg.Error as exc:
                log.debug("component health not written (%s)", type(exc).__name__)
                if self._health_conn is not None:
                    try:
                        self._health_conn.close()
                    except psycopg.Error:
                        pass
                self._health_conn = None

    def stop(self) -> None:
        """Stop children first (they flush), then the broker, then the database."""
        procs = [n for n in self.supervisor.names() if n not in SERVICES]
        for name in procs:
            self.supervisor.remove(name)
        if procs or self.supervisor.names():
            self._beat("supervisor", "supervisor", state="stopped")  # while the database is still up
        self.supervisor.stop_all(order=list(SERVICES))
        if self._health_conn is not None:
            try:
                self._health_conn.close()
            except psycopg.Error:
                pass
            self._health_conn = None
        if self.postgres is not None:
            self.runtime_file.unlink(missing_ok=True)
        self.postgres = None
        self.broker = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Stack:
        try:
            self.start_services()
            self.prepare()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _started(service: EmbeddedPostgres | TansuBroker) -> Handle:
    service.start()
    return ServiceHandle(service)


def ensure_initial_admin(conn: psycopg.Connection, data_dir: Path) -> Path | None:
    """On a database with no users, ``admin`` with a random temporary password in a 0600 file
    (see :func:`ioc.accounts.ensure_initial_admin`: the first login must set a new one)."""
    from ioc.accounts import ensure_initial_admin as create_first_admin

    return create_first_admin(conn, data_dir)


def _unit_assigner():  # type: ignore[no-untyped-def]
    """Admin-unit lookup for site positions in the boundary set in force today."""
    from datetime import date

    from geodata.admin import AdminAssigner
    from geodata.boundaries import boundary_set_for

    return AdminAssigner(boundary_set_for(date.today())).assign
