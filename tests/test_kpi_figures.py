"""KPI figures by hand (issue 12, item 3): validation, the row and its audit row, the latest figure wins
over the documents', the CLI round trip, and the admin page's callbacks refused to other roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from ioc import accounts
from ioc.access import CALLBACKS, CITY_WIDE, PAGES, Principal, Resource, Role, decide
from ioc.audit import verify
from ioc.kpi.cli import kpi_app
from ioc.kpi.figures import (
    AUDIT_ACTION,
    Figure,
    FigureError,
    current_figures,
    hand_kpis,
    list_figures,
    record_figure,
)
from ioc.kpi.live import LOCAL
from ioc.kpi.seed import KpiValue
from ioc.web import leader_views as lv
from ioc.web.pages import admin_figures_ids as fid
from ioc.web.parts import PARTS
from ioc.web.parts.kpi_figures import read
from tests.webclient import PASSWORD, callback_key, login, post_callback

pytestmark = pytest.mark.integration
ADMIN = Principal("quantri", Role.ADMIN, CITY_WIDE)
TODAY = datetime.now(UTC).astimezone(LOCAL).date()


@pytest.fixture
def conn(pg_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def _counts(conn: psycopg.Connection) -> tuple[int, int]:
    figures = conn.execute("SELECT count(*) FROM kpi_figures").fetchone()[0]
    audits = conn.execute("SELECT count(*) FROM audit_log WHERE action = %s", (AUDIT_ACTION,)).fetchone()[0]
    return figures, audits


@pytest.mark.parametrize(
    ("indicator", "value", "as_of", "source", "code"),
    [
        ("infra.no_such_thing", "10", "2025-01-01", "Báo cáo", "unknown"),
        ("d766.2_1", "90", "2025-01-01", "Báo cáo", "live"),  # a live feed (dossiers)
        ("reports.on_time", "90", "2025-01-01", "Báo cáo", "live"),
        ("infra.coverage_4g", "100,5", "2025-01-01", "Báo cáo", "range"),  # a percentage above 100
        ("infra.coverage_4g", "-1", "2025-01-01", "Báo cáo", "range"),
        ("infra.bts_4g", "2224.5", "2025-01-01", "Báo cáo", "value"),  # a count must be whole
        ("infra.bts_4g", "nhiều", "2025-01-01", "Báo cáo", "value"),
        ("infra.bts_4g", "2300", (TODAY + timedelta(days=1)).isoformat(), "Báo cáo", "future"),
        ("infra.bts_4g", "2300", "2014-12-31", "Báo cáo", "early"),
        ("infra.bts_4g", "2300", "31/02/2025", "Báo cáo", "as_of"),
        ("infra.bts_4g", "2300", "2025-01-01", "   ", "source"),
        ("infra.bts_4g", "2300", "2025-01-01", None, "source"),
        ("infra.bts_4g", "2300", "2025-01-01", "x" * 301, "source_long"),
    ],
)
def test_refusals_write_nothing(conn: psycopg.Connection, indicator: str, value: str, as_of: str,
                                source: str | None, code: str) -> None:  # fmt: skip
    before = _counts(conn)
    with pytest.raises(FigureError) as err:
        record_figure(conn, ADMIN, indicator, value, as_of, source, None)
    assert err.value.code == code
    assert err.value.message("vi") != err.value.message("en") and value not in err.value.message("vi")
    assert _counts(conn) == before


def test_live_feed_refusal_names_the_indicator_in_both_languages(conn: psycopg.Connection) -> None:
    with pytest.raises(FigureError) as err:
        record_figure(conn, ADMIN, "d766.2_1", "90", "2025-01-01", "Báo cáo", None)
    assert "trực tiếp" in err.value.message_vi and "live feed" in err.value.message_en


def test_only_an_administrator_principal_may_enter(conn: psycopg.Connection) -> None:
    leader = Principal("lan", Role.LEADER, CITY_WIDE)
    with pytest.raises(FigureError) as err:
        record_figure(conn, leader, "infra.bts_4g", "2300", "2025-01-01", "Báo cáo", None)
    assert err.value.code == "forbidden" and _counts(conn) == (0, 0)


def test_entry_writes_a_row_and_an_audit_row_and_the_chain_verifies(conn: psycopg.Connection) -> None:
    fig = record_figure(conn, ADMIN, "infra.coverage_4g", "99,5", "2025-06-30", "  Báo cáo số 12/BC-SKHCN  ",
                        "Số liệu quý II")  # fmt: skip
    assert fig.value == Decimal("99.5") and fig.as_of == date(2025, 6, 30) and fig.entered_by == "quantri"
    assert fig.source == "Báo cáo số 12/BC-SKHCN" and fig.entered_at.tzinfo is not None
    row = conn.execute("SELECT kpi_id, value, as_of, source, note, entered_by FROM kpi_figures WHERE id = %s",
                       (fig.id,)).fetchone()  # fmt: skip
    assert row == ("infra.coverage_4g", Decimal("99.5"), date(2025, 6, 30), "Báo cáo số 12/BC-SKHCN", "Số liệu quý II",
                   "quantri")  # fmt: skip
    actor, target, details = conn.execute(
        "SELECT actor, target, details FROM audit_log WHERE action = %s", (AUDIT_ACTION,)).fetchone()  # fmt: skip
    assert (actor, target) == ("quantri", "infra.coverage_4g")
    assert details == {"figure_id": fig.id, "value": "99.5", "unit": "percent", "as_of": "2025-06-30",
                       "source": "Báo cáo số 12/BC-SKHCN", "note": "Số liệu quý II"}  # fmt: skip
    # A second figure for the same indicator is a new row, never an overwrite.
    record_figure(conn, ADMIN, "infra.coverage_4g", "100", "2025-12-31", "Báo cáo năm 2025", None)
    assert _counts(conn) == (2, 2)
    check = verify(conn)
    assert check.ok and check.checked >= 2, check.reason


def _doc(kpi_id: str, value: str, end: date) -> KpiValue:
    return KpiValue(kpi_id, Decimal(value), "count", date(end.year, 1, 1), end, None, "bao-cao.txt", (1,), "", "actual")


def test_latest_as_of_wins_ties_go_to_the_later_entry(conn: psycopg.Connection) -> None:
    docs = [_doc("infra.bts_4g", "2224", date(2022, 6, 30))]
    older = record_figure(conn, ADMIN, "infra.bts_4g", "2000", "2021-12-31", "Báo cáo 2021", None)
    assert current_figures(docs, [older])["infra.bts_4g"].kind == "document"  # an older entry does not win
    first = record_figure(conn, ADMIN, "infra.bts_4g", "2500", "2024-12-31", "Báo cáo 2024 (bản 1)", None)
    second = record_figure(conn, ADMIN, "infra.bts_4g", "2510", "2024-12-31", "Báo cáo 2024 (bản 2)", None)
    entries = read(conn, datetime.now(UTC))  # the snapshot part: each indicator's latest entry, one statement
    assert next(p for p in PARTS if p.name == "kpi_figures").queries == 1
    assert [e.id for e in entries] == [second.id] and first.entered_at <= second.entered_at
    c = current_figures(docs, entries)["infra.bts_4g"]
    assert (c.value, c.as_of, c.source, c.kind, c.entered_by) == (Decimal(2510), date(2024, 12, 31),
                                                                  "Báo cáo 2024 (bản 2)", "hand", "quantri")  # fmt: skip
    # A document dated later than every entry wins again; on the same date an entry beats a document.
    assert current_figures([_doc("infra.bts_4g", "2600", date(2025, 6, 30))], entries)["infra.bts_4g"].kind == "document"
    assert current_figures([_doc("infra.bts_4g", "2600", date(2024, 12, 31))], entries)["infra.bts_4g"].value == 2510


def _texts(component: Any) -> dict[str, str]:
    """Text of each element with an id (the cockpit's figures are ``leader-doc-<kpi>``)."""
    out: dict[str, str] = {}

    def walk(node: Any) -> str:
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, list | tuple):
            return "".join(walk(n) for n in node)
        if node is None or not hasattr(node, "children"):
            return ""
        text = walk(node.children)
        if getattr(node, "id", None):
            out[str(node.id)] = text
        return text

    walk(component)
    return out


def test_the_cockpit_shows_the_new_figure_with_its_date_and_source(conn: psycopg.Connection) -> None:
    record_figure(conn, ADMIN, "security.soc_alerts", "315", TODAY.isoformat(), "Báo cáo SOC tháng này", None)
    record_figure(conn, ADMIN, "infra.mobile_speed", "85,25", TODAY.isoformat(), "https://speedtest.example/vn", None)
    texts = _texts(lv.document_figures(read(conn, datetime.now(UTC)), "vi"))
    assert texts["leader-doc-security_soc_alerts"] == "315"
    assert texts["leader-doc-infra_mobile_speed"] == "85,25\u00a0Mbps"
    whole = texts["leader-docs"]
    assert f"số liệu đến {TODAY:%d/%m/%Y}" in whole and "Báo cáo SOC tháng này" in whole and "quantri" in whole
    assert _texts(lv.document_figures(read(conn, datetime.now(UTC)), "en"))["leader-doc-infra_mobile_speed"] == "85.25\u00a0Mbps"


def test_cli_round_trip(pg_dsn: str, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IOC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    r = runner.invoke(kpi_app, ["figure", "set", "smart.installs", "125000", "--as-of", "2025-12-31",
                                "--source", "Báo cáo Hải Phòng Smart 2025", "--author", "nguyen.van.a"])  # fmt: skip
    assert r.exit_code == 0, r.output
    (fig,) = list_figures(conn)
    assert (fig.kpi_id, fig.value, fig.entered_by) == ("smart.installs", Decimal(125000), "nguyen.van.a")
    assert "+07:00" in r.output  # Vietnam time
    bad = runner.invoke(kpi_app, ["figure", "set", "d766.3_3", "50", "--as-of", "2025-12-31", "--source", "x",
                                  "--author", "a"])  # fmt: skip
    assert bad.exit_code == 2 and "trực tiếp" in bad.output and "live feed" in bad.output
    assert len(list_figures(conn)) == 1
    listed = runner.invoke(kpi_app, ["figure", "list"])
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.output.splitlines() if x.startswith("smart.installs "))
    assert "125000 count (2025-12-31) · Báo cáo Hải Phòng Smart 2025 · nguyen.van.a" in line
    assert f"#{fig.id} " in listed.output and "Các lần nhập tay (1)" in listed.output
    listed_ids = {x.split()[0] for x in listed.output.splitlines() if x and not x[0].isspace()}
    assert {k.id for k in hand_kpis()} <= listed_ids


def test_policy_only_admin_may_open_the_page_and_its_callbacks() -> None:
    assert PAGES["/admin/figures"] == frozenset({Role.ADMIN})
    names = [n for n in CALLBACKS if n.startswith("ioc.web.pages.admin_figures.")]
    assert sorted(names) == ["ioc.web.pages.admin_figures.refresh", "ioc.web.pages.admin_figures.save"]
    for role in Role:
        p = Principal("u", role, CITY_WIDE)
        assert decide(p, Resource.page("/admin/figures")).allowed is (role is Role.ADMIN)
        assert all(decide(p, Resource.callback(n)).allowed is (role is Role.ADMIN) for n in names)


@pytest.fixture
def app(stack: Any) -> Iterator[Any]:
    from ioc.web.app import create_app

    a = create_app(stack.settings, start=False)
    yield a
    a.server.extensions["ioc"]["pool"].close()


def _save_body(app: Any, value: str) -> dict[str, Any]:
    states = [(fid.FIGURES_INDICATOR, "infra.fibre_households"), (fid.FIGURES_VALUE, value),
              (fid.FIGURES_AS_OF, "2025-12-31"), (fid.FIGURES_SOURCE, "Báo cáo cáp quang 2025"),
              (fid.FIGURES_NOTE, ""), (fid.FIGURES_VERSION, 0)]  # fmt: skip
    return {
        "output": callback_key(app, f"{fid.FIGURES_MESSAGE}.children"),
        "outputs": [{"id": fid.FIGURES_MESSAGE, "property": "children"}, {"id": fid.FIGURES_VERSION, "property": "data"}],
        "inputs": [{"id": fid.FIGURES_SAVE, "property": "n_clicks", "value": 1}],
        "state": [{"id": i, "property": "data" if i == fid.FIGURES_VERSION else "value", "value": v} for i, v in states],
        "changedPropIds": [f"{fid.FIGURES_SAVE}.n_clicks"],
    }


def test_server_refuses_other_roles_and_admin_entry_is_stored(app: Any, conn: psycopg.Connection) -> None:
    for name, role in (("quantri", "admin"), ("lan", "leader"), ("vanhanh", "operator")):
        accounts.add_user(conn, name, PASSWORD, role)
    for name in ("lan", "vanhanh"):
        client = app.server.test_client()
        login(client, name, next_path="/admin/figures")
        assert client.get("/admin/figures").status_code != 200
        assert post_callback(client, _save_body(app, "95")).status_code == 403
    assert _counts(conn) == (0, 0)
    admin = app.server.test_client()
    login(admin, "quantri", next_path="/admin/figures")
    assert admin.get("/admin/figures").status_code == 200
    bad = post_callback(admin, _save_body(app, "150"))
    assert bad.status_code == 200 and "Giá trị phải từ 0 đến 100%" in bad.get_data(as_text=True)
    assert _counts(conn) == (0, 0)
    ok = post_callback(admin, _save_body(app, "96,5"))
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]
    body = json.loads(ok.get_data(as_text=True))["response"]
    assert body[fid.FIGURES_VERSION]["data"] == 1
    (fig,) = list_figures(conn)
    assert (fig.kpi_id, fig.value, fig.entered_by) == ("infra.fibre_households", Decimal("96.5"), "quantri")
    assert isinstance(fig, Figure) and verify(conn).ok


@pytest.mark.parametrize(("indicator", "raw", "expected"), [
    ("infra.bts_4g", "2.224", Decimal(2224)), ("infra.bts_4g", "2,224", Decimal(2224)), ("infra.bts_4g", "2224", Decimal(2224)),
    ("infra.coverage_4g", "27,9", Decimal("27.9")), ("infra.coverage_4g", "27.90", Decimal("27.9")),
    ("infra.fixed_speed", "1.234,5", Decimal("1234.5")), ("infra.fixed_speed", "1,234.5", Decimal("1234.5")),
])  # fmt: skip
def test_values_as_written_in_vietnamese_or_english(indicator: str, raw: str, expected: Decimal) -> None:
    from ioc.kpi.catalogue import load_catalogue
    from ioc.kpi.figures import parse_value

    assert parse_value(load_catalogue().get(indicator), raw) == expected
