"""The one launcher: embedded (or external) PostgreSQL and broker, schema, topics, consumers, web, simulator.

``ioc up`` and the tests use this same class, so the path users run is the path that is tested.
Every child process dies with its parent (PR_SET_PDEATHSIG) and ``stop()`` ends them in order.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pydantic import SecretStr

from ioc import db
from ioc.db_roles import dsn_for
from ioc.kafka import ensure_topics
from ioc.services import EmbeddedPostgres, TansuBroker
from ioc.services.proc import die_with_parent, terminate
from ioc.settings import Settings
from ioc.sources import SourceKind

log = logging.getLogger(__name__)


@dataclass
class Stack:
    """A running IOC: services, schema, topics and child processes, for ``ioc up`` and the tests."""

    settings: Settings
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    log_dir: Path | None = None
    initial_admin_file: Path | None = None  # set when this start created the first admin account

    # -- services ----------------------------------------------------------------------------------
    def start_services(self) -> Settings:
        """Start what is not configured externally; return settings pointing at the live services."""
        s = self.settings
        data_dir = Path(s.data_dir)
        self.log_dir = data_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        updates: dict[str, object] = {}
        if s.database_url is None:
            if os.geteuid() == 0:
                data_dir.chmod(0o755)  # the unprivileged postgres user must reach its PGDATA
            self.postgres = EmbeddedPostgres(data_dir / "pgdata")
            self.postgres.start()
            updates["database_url"] = SecretStr(self.postgres.dsn)
            log.info("embedded PostgreSQL on 127.0.0.1:%s (%s)", self.postgres.port, self.postgres.bin)
        if s.kafka_bootstrap is None:
            self.broker = TansuBroker(log_dir=self.log_dir)
            self.broker.start()
            updates["kafka_bootstrap"] = self.broker.bootstrap
            log.info("embedded Kafka-protocol broker (tansu) on %s", self.broker.bootstrap)
        self.settings = s.model_copy(update=updates)
        if updates:
            self._write_runtime()
        return self.settings

    @property
    def runtime_file(self) -> Path:
        return Path(self.settings.data_dir) / "runtime.json"

    def _write_runtime(self) -> None:
        """Tell other ``ioc`` commands on this machine where the embedded services are (mode 0600)."""
        doc = {"pid": os.getpid(), "database_url": self.settings.database_dsn(),
               "kafka_bootstrap": self.settings.kafka_bootstrap}
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
        ensure_topics(s.kafka_bootstrap or "", s.topic_partitions, s.topic_prefix)
        with db.connect(s.database_dsn()) as conn:
            sync_sources(conn, load_sites(), _unit_assigner())
            self.initial_admin_file = ensure_initial_admin(conn, Path(s.data_dir))

    # -- child processes ---------------------------------------------------------------------------
    def child_env(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        env.update({
            "IOC_DATABASE_URL": s.database_dsn(),
            "IOC_KAFKA_BOOTSTRAP": s.kafka_bootstrap or "",
            "IOC_TOPIC_PREFIX": s.topic_prefix,
            "IOC_CONSUMER_GROUP_PREFIX": s.consumer_group_prefix,
            "IOC_DATA_DIR": str(s.data_dir),
            "IOC_SINK_MODE": s.sink_mode,
            "IOC_BATCH_MAX_RECORDS": str(s.batch_max_records),
            "IOC_BATCH_MAX_SECONDS": str(s.batch_max_seconds),
            "IOC_LATE_AFTER_SECONDS": str(s.late_after_seconds),
            "IOC_FUTURE_TOLERANCE_SECONDS": str(s.future_tolerance_seconds),
            "IOC_TOPIC_PARTITIONS": str(s.topic_partitions),
            "IOC_WEB_HOST": s.web_host,
            "IOC_WEB_PORT": str(s.web_port),
        })
        return env

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        """Start a child (``python -m ...``) that dies with us; its output goes to ``logs/<name>.log``."""
        assert self.log_dir is not None, "start_services() first"
        out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = self.child_env()
        env["IOC_DATABASE_URL"] = dsn_for(name, self.settings)  # issue 11: each service its own database role
        proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, preexec_fn=die_with_parent)
        out.close()
        self.children[name] = proc
        return proc

    def start_consumer(self, kind: SourceKind) -> subprocess.Popen[bytes]:
        return self.spawn(f"stream-{kind.value}", ["-m", "streams", "--kind", kind.value])

    def start_consumers(self) -> None:
        for kind in SourceKind:
            self.start_consumer(kind)

    def start_downstream(self, *, alerts: bool = True, web: bool = True, intake: bool = True) -> None:
        """Everything fed by the stored events: alert engine, citizen-ticket intake, web server."""
        if alerts:
            self.spawn("alerts", ["-m", "alerts.engine"])
        if intake:
            self.spawn("ticket-intake", ["-m", "ioc.tickets.intake"])
        if web:
            self.spawn("web", ["-m", "ioc.web.webserver"])

    def stop_child(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        proc = self.children.pop(name, None)
        return None if proc is None else terminate(proc, sig, timeout)

    def stop(self) -> None:
        """Stop children first (they flush), then the broker, then the database."""
        for name in list(self.children):
            self.stop_child(name)
        if self.broker:
            self.broker.stop()
            self.broker = None
        if self.postgres:
            self.postgres.stop()
            self.postgres = None
            self.runtime_file.unlink(missing_ok=True)

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
