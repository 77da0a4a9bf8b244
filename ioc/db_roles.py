"""Least privilege in the database: one role per service, each with only the grants it needs.

========  ==============  ==========================================================================
service   role            may
========  ==============  ==========================================================================
ingest    ``ioc_ingest``  insert source rows and dead letters, keep offsets and counters
alerts    ``ioc_alerts``  read source data, write alerts, their timeline and model state
intake    ``ioc_intake``  read feedback, write tickets and their history, overdue alerts
web       ``ioc_web``     read the city, run the desks (tickets, alerts), accounts and sessions
kpi       ``ioc_kpi``     read dossier events, write dossiers and the 766 counters
========  ==============  ==========================================================================

Nobody but the migration role (the database owner that ``ioc db migrate`` / ``ioc up`` connect
as, which no long-running service uses) may UPDATE or DELETE ``audit_log``; every service may only
INSERT into it. None is a superuser, none may create tables. The grants on the sources' tables
come from their declarations (``ioc/sources/*.py``): a new source's table is granted here without
an edit, each time the roles are applied (after every migration), rather than through
``ALTER DEFAULT PRIVILEGES`` — which would also grant tables nobody listed.

Passwords: for the embedded default they are generated once into ``<data dir>/db-roles/`` (0600);
with an external database they come from ``IOC_DB_ROLE_PASSWORDS`` (a JSON object service →
password), and each service's ``IOC_DATABASE_URL`` names its own role.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ioc.settings import Settings
from ioc.sources import SOURCES

log = logging.getLogger(__name__)

SOURCE_TABLES = "@sources"  # every declared source's table
ROLLUPS = "@rollups"  # every declared source's rollup view
R, RI, RIU, RIUD = "SELECT", "SELECT, INSERT", "SELECT, INSERT, UPDATE", "SELECT, INSERT, UPDATE, DELETE"


@dataclass(frozen=True)
class ServiceRole:
    name: str
    grants: Mapping[str, str]  # table (or a marker) → privileges


_ALERT_TABLES = {"alerts": RIU, "alert_events": RI, "incidents": RIU, "incident_members": RIU}
_TICKET_TABLES = {"tickets": RIU, "ticket_events": RI, "ticket_merges": RI, "ticket_verdicts": RI,
                  "ticket_publications": RI}  # fmt: skip
_HEALTH = {"component_health": RIU}  # each process's heartbeat (ioc.health)
_DIRECTIVE_TABLES = {
    "directives": RIU, "directive_assignments": RIU, "directive_events": RI, "directive_members": RIUD,
    "directive_channels": RIUD, "directive_deliveries": RIU, "directive_delivery_attempts": RI, "directive_files": RI,
    "plan_tasks": RIU, "plan_task_reports": RI, "public_warnings": RIU, "public_warning_log": RI,
}  # fmt: skip

ROLES: Mapping[str, ServiceRole] = {
    "ingest": ServiceRole("ioc_ingest", {
        SOURCE_TABLES: RI, "deadletter": RIU, "stream_offsets": RIU, "ingest_stats": "SELECT, UPDATE", "sources": R,
        "event_ids": RIUD, **_HEALTH,  # the id ledger, purged with each source's retention
    }),
    "alerts": ServiceRole("ioc_alerts", {
        SOURCE_TABLES: R, ROLLUPS: R, "sources": R, "stream_offsets": RIU, **_ALERT_TABLES, "alert_models": RIUD,
        "audit_log": "INSERT", **_HEALTH, "flood_areas": R,
    }),
    "intake": ServiceRole("ioc_intake", {
        "feedback_events": R, "sources": R, **_TICKET_TABLES, "ticket_intake_done": RI,
        "ticket_intake_watermark": RIU, **_ALERT_TABLES, "audit_log": "INSERT", "audit_head": R, **_HEALTH,
    }),
    "web": ServiceRole("ioc_web", {
        SOURCE_TABLES: R, ROLLUPS: R, "sources": R, "ingest_stats": R, "deadletter": R, **_ALERT_TABLES,
        **_TICKET_TABLES, "user_scopes": RIUD, "users": RIUD, "web_sessions": RIU, "login_attempts": RI,
        "open311_api_keys": R, "open311_requests": RI, "audit_log": "INSERT", "component_health": R,
        "ticket_intake_watermark": R,  # /healthz judges the intake's progress
        **_DIRECTIVE_TABLES, "flood_areas": RIU, "simulation_layers": R,
        "dossiers": R, "dossier_counters": R,  # the leaders' cockpit (ioc.web.parts.kpi)
        "kpi_figures": RI,  # KPI figures by hand (/admin/figures; ioc.web.parts.kpi_figures)
    }),
    # The directives worker: delivery, retries and escalation ticks.
    "directives": ServiceRole("ioc_directives", {
        **_DIRECTIVE_TABLES, "alerts": R, "tickets": R, "audit_log": "INSERT", **_HEALTH,
    }),
    # The dossier intake (ioc.kpi.intake): folds dossier events into dossiers and the 766 counters.
    "kpi": ServiceRole("ioc_kpi", {
        "dossier_events": R, "sources": R, "dossiers": RIU, "dossier_counters": RIUD, "dossier_intake_done": RI,
        "dossier_intake_watermark": RIU, **_HEALTH,
    }),
}  # fmt: skip

# ``ioc up``'s child processes → the service whose role they connect as (others: the owner).
def service_of(child: str) -> str | None:
    if child.startswith("stream-"):
        return "ingest"
    return {"alerts": "alerts", "ticket-intake": "intake", "web": "web", "directives-worker": "directives",
            "kpi-intake": "kpi"}.get(child)


def _tables(marker: str) -> list[str]:
    if marker == SOURCE_TABLES:
        return [s.table for s in SOURCES.values()]
    if marker == ROLLUPS:
        return [s.rollup.name for s in SOURCES.values() if s.rollup is not None]
    return [marker]


def password_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "db-roles"


def role_password(settings: Settings, service: str) -> str:
    """From ``IOC_DB_ROLE_PASSWORDS``, else generated once into ``<data dir>/db-roles/<service>`` (0600)."""
    configured = settings.db_role_passwords.get(service)
    if configured is not None:
        return configured.get_secret_value()
    d = password_dir(settings.data_dir)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = d / service
    if not path.exists():
        tmp = d / f".{service}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
        try:
            os.link(tmp, path)  # processes starting together agree on one password
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def apply_roles(conn: psycopg.Connection, settings: Settings, services: list[str] | None = None) -> list[str]:
    """Create or update the service roles and reset their grants to exactly :data:`ROLES`
    (autocommit connection of the owner, who needs CREATEROLE). Returns the roles applied."""
    db = conn.info.dbname
    done = []
    for service in services or list(ROLES):
        role = ROLES[service]
        ident = sql.Identifier(role.name)
        password = role_password(settings, service)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.name,)).fetchone()
        verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
        conn.execute(sql.SQL("{} ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION"
                             " NOBYPASSRLS PASSWORD {}").format(verb, ident, sql.Literal(password)))  # fmt: skip
        conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(db), ident))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(ident))
        conn.execute(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(ident))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(ident))
        for marker, privileges in role.grants.items():
            for table in _tables(marker):
                if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:  # type: ignore[index]
                    continue  # a table of a later migration: granted when it exists
                conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privileges), sql.Identifier(table), ident))
        conn.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident))  # nextval only
        done.append(role.name)
    return done


def dsn_with_role(owner_dsn: str, settings: Settings, service: str) -> str:
    params = conninfo_to_dict(owner_dsn)
    params.update(user=ROLES[service].name, password=role_password(settings, service))
    return make_conninfo(**params)  # type: ignore[arg-type]


_APPLIED: dict[tuple[str, str, str], bool] = {}  # per launcher process: roles are applied once per run


def _ensure(owner_dsn: str, settings: Settings, service: str) -> bool:
    key = (owner_dsn, str(settings.data_dir), service)
    if key not in _APPLIED:
        try:
            with psycopg.connect(owner_dsn, autocommit=True) as conn:
                apply_roles(conn, settings, [service])
            _APPLIED[key] = True
        except psycopg.Error as exc:
            log.warning("could not create the database role of %s (%s): it connects as the owner", service, exc)
            _APPLIED[key] = False
    return _APPLIED[key]


def dsn_for(child: str, settings: Settings) -> str:
    """The DSN a child process of ``ioc up`` connects with: its service's own role (created and
    granted on first use, after the migrations), or the owner's for tools that have no role."""
    owner = settings.database_dsn()
    service = service_of(child)
    if service is None or not _ensure(owner, settings, service):
        return owner
    return dsn_with_role(owner, settings, service)


def register(app: object) -> None:
    """``ioc db-roles``: apply the roles with an external database (compose's migrate step)."""
    import typer

    if not isinstance(app, typer.Typer):
        raise TypeError("register() takes the ioc Typer app")

    @app.command("db-roles")
    def db_roles() -> None:
        """Create or update the services' database roles and grants (run as the database owner)."""
        from ioc.settings import running_settings

        s = running_settings(Settings())
        with psycopg.connect(s.database_dsn(), autocommit=True) as conn:
            names = apply_roles(conn, s)
        typer.echo(f"roles applied: {', '.join(names)}")
