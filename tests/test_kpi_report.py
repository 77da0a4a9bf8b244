"""The periodic report round trip: PDF read back with pdftotext, XLSX with openpyxl; the numbers
equal those computed from the database's dossiers with the CSV command's code."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime

import psycopg
import pytest
from openpyxl import load_workbook
from psycopg.rows import dict_row
from typer.testing import CliRunner

from ioc.kpi.index766 import compute
from ioc.kpi.intake import STATE_COLUMNS, DossierIntake, DossierState
from ioc.kpi.live import parse_period
from ioc.kpi.report import build_report
from ioc.kpi.units import unit_name
from simulators.dossiers import backfill
from tests.test_kpi_intake import store

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 4, 3, 0, tzinfo=UTC)


@pytest.fixture
def filled(pg_dsn: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        store(conn, list(backfill(NOW, 3.5, seed=21)))
        DossierIntake().drain(conn)
    return pg_dsn


def expected(dsn: str):  # type: ignore[no-untyped-def]
    period = parse_period("2026-11")
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        recs = [DossierState(**{c: r[c] for c in STATE_COLUMNS}).record()
                for r in cur.execute("SELECT * FROM dossiers WHERE month = %s", (period.start,))]
    return compute([r for r in recs if r], period.as_of(NOW))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_says_the_databases_numbers_with_diacritics(filled: str) -> None:
    data, name = build_report(filled, "2026-11", "pdf", now=NOW)
    assert name == "bao-cao-chi-so-2026-11.pdf" and data[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    want = expected(filled)
    assert "Báo cáo chỉ số điều hành – kỳ 2026-11" in text and "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn" in text
    assert f"{float(want.city.total):.2f} / 56" in text
    for s in want.city.indicators:
        assert f"{s.numerator}" in text and f"{float(s.points):.2f}" in text
    best = max(want.units, key=lambda u: (u.card.total, u.unit))
    assert unit_name(best.unit)[:20] in text and f"{float(best.card.total):.2f}" in text


def test_xlsx_cells_equal_the_database(filled: str) -> None:
    data, _ = build_report(filled, "2026-11", "xlsx", now=NOW)
    wb = load_workbook(io.BytesIO(data))
    want = expected(filled)
    rows = list(wb["766"].iter_rows(min_row=3, values_only=True))
    got = {r[0]: r for r in rows if r[0]}
    for s in want.city.indicators:
        assert got[s.id][2:6] == (s.numerator, s.denominator, None if s.ratio is None else float(s.ratio), float(s.points))
    assert rows[-1][5] == float(want.city.total)
    units = {r[1]: r for r in wb["don_vi"].iter_rows(min_row=3, values_only=True)}
    assert set(units) == {u.unit for u in want.units}
    for u in want.units:
        assert units[u.unit][3:5] == (u.card.dossiers, float(u.card.total))
    ranks = sorted((r[0], -r[4]) for r in units.values())
    assert ranks == sorted(ranks, key=lambda x: x[1]) or ranks[0][0] == 1


def test_cli_writes_the_report_with_a_progress_bar(filled: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ioc.cli import app

    monkeypatch.setenv("IOC_DATABASE_URL", filled)
    out = tmp_path / "q4.xlsx"
    r = CliRunner().invoke(app, ["report", "--period", "2026-Q4", "--format", "xlsx", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.stat().st_size > 1000 and "step" in r.output
    bad = CliRunner().invoke(app, ["report", "--period", "2026-Q5"])
    assert bad.exit_code == 2
