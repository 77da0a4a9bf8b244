"""``ioc tickets …`` on a real database: stats and CSV, intake, scopes, Open311 keys."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from ioc.accounts import add_user, client_for_key
from ioc.tickets import store
from ioc.tickets.cli import register
from ioc.tickets.workflow import Change, Kind
from tests.test_tickets_store import new
from tests.tickets_util import report, store_feedback
from tests.webclient import PASSWORD

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(pg_dsn: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> typer.Typer:
    monkeypatch.setenv("IOC_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IOC_DATA_DIR", str(tmp_path))
    app = typer.Typer()
    register(app)
    return app


def test_stats_by_category_to_csv(cli: typer.Typer, pg_dsn: str, tmp_path: Path) -> None:
    t0 = datetime.now(UTC) - timedelta(days=2)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for i in range(3):
            store.create_ticket(conn, new(i, received_at=t0), "intake", deadline=t0 + timedelta(hours=4))
            store.apply_change(conn, f"HP-{i}", Change(Kind.CLASSIFIED, t0, "an", category="environment"))
            store.apply_change(conn, f"HP-{i}", Change(Kind.ASSIGNED, t0, "an", owner_kind="agency",
                                                       owner_code="so_nn_mt", owner_name="Sở NN&MT"))  # fmt: skip
        # HP-0 answered in 2 h (on time), HP-1 in 6 h (late); HP-2 still open and overdue.
        store.apply_change(conn, "HP-0", Change(Kind.ANSWERED, t0 + timedelta(hours=2), "so", answer="ok"))
        store.apply_change(conn, "HP-1", Change(Kind.ANSWERED, t0 + timedelta(hours=6), "so", answer="ok"))
        store.apply_change(
            conn, "HP-0", Change(Kind.VERDICT, t0 + timedelta(hours=7), "citizen", verdict="agree")
        )
        store.apply_change(
            conn, "HP-1", Change(Kind.VERDICT, t0 + timedelta(hours=7), "citizen", verdict="disagree")
        )
    out = tmp_path / "by-category.csv"
    result = CliRunner().invoke(
        cli, ["tickets", "stats", "--by", "category", "--out", str(out), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows == [{
        "group": "environment", "received": "3", "answered": "2", "share answered": "0.667", "open": "2",
        "in progress": "0", "overdue": "2", "median hours to answer": "4.00", "share on time": "0.500",
        "share agreeing": "0.500",
    }]  # fmt: skip
    assert "0912" not in out.read_text(encoding="utf-8")
    printed = CliRunner().invoke(cli, ["tickets", "stats", "--csv"])  # as the README shows it
    assert printed.exit_code == 0 and printed.output.splitlines()[0].startswith("nhóm,tiếp nhận")
    bad = CliRunner().invoke(cli, ["tickets", "stats", "--by", "district"])
    assert bad.exit_code != 0 and "'district'" in bad.output


def test_scope_apikey_and_intake_once(cli: typer.Typer, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        add_user(conn, "lechan", PASSWORD, "operator")
        store_feedback(conn, report("HP-X", "Rác thải đổ trộm ở đầu ngõ 12 bốc mùi", datetime.now(UTC)), None)
    ok = CliRunner().invoke(cli, ["tickets", "scope", "add", "lechan", "ward", "Phường Lê Chân"])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(cli, ["tickets", "scope", "add", "ghost", "ward", "Phường Lê Chân"])
    assert bad.exit_code == 2 and "'ghost'" in bad.output
    key = CliRunner().invoke(cli, ["tickets", "apikey", "add", "zalo-bridge"]).output.strip()
    done = CliRunner().invoke(cli, ["tickets", "intake", "--once"])
    assert done.exit_code == 0 and "1 feedback events processed" in done.output
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert store.scopes_of(conn, "lechan")[0].scope_code == "Phường Lê Chân"
        assert client_for_key(conn, key).name == "zalo-bridge" and client_for_key(conn, key + "x") is None
        assert store.require_ticket(conn, "HP-X").suggested_category is not None
        assert store.confirmed_labels(conn) == []  # a suggestion is not a confirmed label
    assert CliRunner().invoke(cli, ["tickets", "retrain", "--out", "/nonexistent/m.joblib"]).exit_code == 1
