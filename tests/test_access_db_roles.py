"""Least privilege in the database (issue 11, item 8): no service connects as a superuser, each has
only its grants, none may change the audit trail; model state is never unpickled from the database."""

from __future__ import annotations

import ast
from pathlib import Path

import psycopg
import pytest

from ioc import db_roles
from ioc.launcher import Stack

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def dsns(stack: Stack) -> dict[str, str]:
    return {service: db_roles.dsn_for(child, stack.settings)
            for service, child in (("ingest", "stream-air"), ("alerts", "alerts"), ("intake", "ticket-intake"),
                                   ("web", "web"))}  # fmt: skip


def test_each_child_gets_its_own_role_and_none_is_superuser(stack: Stack, dsns: dict[str, str]) -> None:
    assert db_roles.dsn_for("simulator", stack.settings) == stack.settings.database_dsn()  # no DB role: the owner
    for service, dsn in dsns.items():
        with psycopg.connect(dsn) as conn:
            user, sup, create_role, create_db = conn.execute(
                "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        assert user == db_roles.ROLES[service].name and not (sup or create_role or create_db), service
    pw = db_roles.password_dir(stack.settings.data_dir)
    assert all((pw / s).stat().st_mode & 0o777 == 0o600 for s in dsns)


@pytest.mark.parametrize("service", ["ingest", "alerts", "intake", "web"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE audit_head SET seq = 0",
        "SELECT ioc_audit_purge(now())",
        "CREATE TABLE evil (x int)",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
    ],
)
def test_no_service_may_change_the_audit_trail_or_the_schema(dsns: dict[str, str], service: str, statement: str) -> None:
    with psycopg.connect(dsns[service]) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


@pytest.mark.parametrize(
    ("service", "statement", "allowed"),
    [
        ("ingest", "SELECT count(*) FROM users", False),
        ("ingest", "SELECT count(*) FROM tickets", False),
        ("ingest", "SELECT count(*) FROM feedback_events", True),
        ("ingest", "INSERT INTO audit_log (actor, action) VALUES ('x', 'y')", False),
        ("alerts", "SELECT count(*) FROM web_sessions", False),
        ("alerts", "SELECT count(*) FROM tickets", False),
        ("alerts", "SELECT count(*) FROM camera_1m", True),
        ("intake", "SELECT count(*) FROM users", False),
        ("intake", "SELECT count(*) FROM camera_events", False),
        ("intake", "UPDATE tickets SET status = status", True),
        ("web", "SELECT count(*) FROM alert_models", False),
        ("web", "UPDATE stream_offsets SET next_offset = 0", False),
        ("web", "SELECT count(*) FROM web_sessions", True),
        ("web", "INSERT INTO audit_log (actor, action) VALUES ('x', 'y')", True),
    ],
)
def test_grants_are_what_each_service_needs(dsns: dict[str, str], service: str, statement: str, allowed: bool) -> None:
    with psycopg.connect(dsns[service]) as conn:
        if allowed:
            conn.execute(statement)
        else:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_applying_twice_resets_grants_to_the_declared_ones(stack: Stack, dsns: dict[str, str]) -> None:
    owner = stack.settings.database_dsn()
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("GRANT SELECT ON users TO ioc_ingest")  # drift by hand
        db_roles.apply_roles(conn, stack.settings, ["ingest"])
    with psycopg.connect(dsns["ingest"]) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM users")


def _pickle_loads_reachable_from_db() -> list[str]:
    """``pickle.loads``/``load`` calls (or joblib.load) in the modules that restore state read from the database."""
    hits = []
    for path in (ROOT / "alerts" / "engine.py", *sorted((ROOT / "alerts" / "detectors").glob("*.py"))):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("loads", "load"):
                if isinstance(node.func.value, ast.Name) and node.func.value.id in ("pickle", "joblib", "dill"):
                    hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return hits


def test_the_web_role_reads_everything_its_pages_and_health_read(stack: Stack, dsns: dict[str, str]) -> None:
    """/healthz and one whole snapshot tick (every part included) as ``ioc_web``: a missing grant shows
    as InsufficientPrivilege here, not as a dead /healthz in ``ioc up``."""
    from ioc import health
    from ioc.web.snapshot import LiveSnapshot

    with psycopg.connect(dsns["web"], autocommit=True) as conn:
        assert health.report(conn, stack.settings).components[-1].name == "postgres"
        snap = LiveSnapshot(stack.settings).refresh_once(conn)
    assert snap.error is None and snap.version == 1


def test_model_state_from_the_database_is_never_unpickled() -> None:
    assert _pickle_loads_reachable_from_db() == []
