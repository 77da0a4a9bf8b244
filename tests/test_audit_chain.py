"""The tamper-evident audit trail (issue 11, item 7): hash chain, append-only, ``ioc audit verify``
naming the first broken row, concurrent writers, purge by retention keeping the chain verifiable."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from ioc import audit
from ioc.launcher import Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def _cli() -> typer.Typer:
    from ioc.cli_audit import register

    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)
    return app


def _write(conn: psycopg.Connection, n: int) -> None:
    for i in range(n):
        audit.audit(conn, f"user{i % 3}", "test.action", f"T-{i}", {"i": i, "tên": "Phản ánh", "z": [1, 2]})


def test_rows_are_chained_and_verify(conn: psycopg.Connection) -> None:
    _write(conn, 20)
    rows = conn.execute("SELECT chain_seq, prev_hash, row_hash FROM audit_log ORDER BY chain_seq").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, len(rows)))
    v = audit.verify(conn)
    assert v.ok and v.checked == len(rows) and audit.head(conn) == (v.head_seq, v.head_hash)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'nobody' WHERE chain_seq = 3",
        "DELETE FROM audit_log WHERE chain_seq = 3",
        "TRUNCATE audit_log",
    ],
)
def test_update_delete_and_truncate_are_refused(conn: psycopg.Connection, statement: str) -> None:
    _write(conn, 5)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute(statement)  # even as the owner the trigger refuses
    assert audit.verify(conn).ok


def _tamper(conn: psycopg.Connection, statement: str) -> None:
    """What someone with the owner's rights could still do: disable the guard and edit."""
    with conn.transaction():
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        conn.execute(statement)
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE audit_log SET details = '{\"i\": 99}' WHERE chain_seq = 7", "content"),
        ("DELETE FROM audit_log WHERE chain_seq = 7", "rows missing"),
        ("UPDATE audit_log SET at = at - INTERVAL '1 day' WHERE chain_seq = 7", "content"),
    ],
)
def test_verify_names_the_first_broken_row(conn: psycopg.Connection, pg_dsn: str, statement: str, reason: str) -> None:
    _write(conn, 12)
    seven, eight = (conn.execute("SELECT id FROM audit_log WHERE chain_seq = %s", (s,)).fetchone()[0] for s in (7, 8))
    _tamper(conn, statement)
    v = audit.verify(conn)
    assert not v.ok and reason in (v.reason or "")
    assert v.broken_id == (eight if "DELETE" in statement else seven)
    out = CliRunner().invoke(_cli(), ["audit", "verify"], env={"IOC_DATABASE_URL": pg_dsn})
    assert out.exit_code == 1 and f"row id {v.broken_id}" in out.output


def test_a_rewritten_chain_is_caught_by_the_logged_anchor(conn: psycopg.Connection, caplog: pytest.LogCaptureFixture) -> None:
    _write(conn, 6)
    with caplog.at_level("INFO", logger="ioc.audit"):
        seq, h = audit.log_anchor(conn, datetime.now(UTC))
    assert f"seq={seq} hash={h}" in caplog.text
    # Rewrite row 2 and recompute every hash after it, as a determined owner could.
    _tamper(conn, "UPDATE audit_log SET actor = 'someone-else' WHERE chain_seq = 2")
    with conn.transaction():
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        prev = conn.execute("SELECT row_hash FROM audit_log WHERE chain_seq = 1").fetchone()[0]
        for s in range(2, seq + 1):
            new = conn.execute(
                "UPDATE audit_log SET prev_hash = %s, row_hash = encode(sha256(convert_to(audit_canonical(chain_seq, id,"
                " at, actor, action, target, details, %s), 'UTF8')), 'hex') WHERE chain_seq = %s RETURNING row_hash",
                (prev, prev, s),
            ).fetchone()[0]
            prev = new
        conn.execute("UPDATE audit_head SET hash = %s", (prev,))
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
    assert audit.verify(conn).ok  # internally consistent …
    v = audit.verify(conn, anchor=(seq, h))
    assert not v.ok and "anchor" in (v.reason or "")  # … but not the chain the log saw


def test_concurrent_writers_keep_one_chain(pg_dsn: str, conn: psycopg.Connection) -> None:
    def writer(k: int) -> None:
        with psycopg.connect(pg_dsn) as c:
            for i in range(25):
                with c.transaction():
                    audit.audit(c, f"w{k}", "test.concurrent", None, {"i": i})

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    v = audit.verify(conn)
    assert v.ok, v
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'test.concurrent'").fetchone()[0] == 100


def test_purge_keeps_the_chain_verifiable(conn: psycopg.Connection, stack: Stack) -> None:
    _write(conn, 10)
    with conn.transaction():  # make the first six old (the guard is off only for this test's backdating)
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        conn.execute("UPDATE audit_log SET at = now() - INTERVAL '400 days' WHERE chain_seq <= 6")
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
    # Backdating changed their hashes' content: re-chain them, then purge the old ones.
    _rechain(conn)
    assert audit.verify(conn).ok
    env = {"IOC_DATABASE_URL": stack.settings.database_dsn()}
    out = CliRunner().invoke(_cli(), ["audit", "purge", "--older-than-days", "365"], env=env)
    assert out.exit_code == 0 and "6 audit rows" in out.output, out.output
    remaining = conn.execute("SELECT min(chain_seq), count(*) FROM audit_log").fetchone()
    assert remaining[0] == 7
    v = audit.verify(conn)
    assert v.ok, v
    assert conn.execute("SELECT action FROM audit_log ORDER BY chain_seq DESC LIMIT 1").fetchone()[0] == "audit.purge"
    out = CliRunner().invoke(_cli(), ["audit", "verify"], env=env)
    assert out.exit_code == 0 and "audit chain OK" in out.output
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the purge switch is not a back door
        with conn.transaction():
            conn.execute("SELECT set_config('ioc.audit_purge', 'on', true)")
            conn.execute("UPDATE audit_log SET actor = 'x' WHERE chain_seq = 8")
    assert audit.verify(conn).ok


def _rechain(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        prev = audit.GENESIS
        for (s,) in conn.execute("SELECT chain_seq FROM audit_log ORDER BY chain_seq").fetchall():
            prev = conn.execute(
                "UPDATE audit_log SET prev_hash = %s, row_hash = encode(sha256(convert_to(audit_canonical(chain_seq, id,"
                " at, actor, action, target, details, %s), 'UTF8')), 'hex') WHERE chain_seq = %s RETURNING row_hash",
                (prev, prev, s),
            ).fetchone()[0]
        conn.execute("UPDATE audit_head SET hash = %s", (prev,))
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")


def test_python_and_database_agree_on_the_canonical_form(conn: psycopg.Connection) -> None:
    audit.audit(conn, "lan", "test.unicode", "HP-1", {"b": 1, "a": "Đặc khu Cát Hải", "n": None})
    seq, id_, at, actor, action, target, details, prev, stored = conn.execute(
        audit._ROWS.replace("ORDER BY chain_seq", "ORDER BY chain_seq DESC LIMIT 1")
    ).fetchone()
    assert audit.row_hash(seq, id_, at, actor, action, target, details, prev) == stored
    assert at.endswith("Z") and datetime.fromisoformat(at.replace("Z", "+00:00")) < datetime.now(UTC) + timedelta(1)
