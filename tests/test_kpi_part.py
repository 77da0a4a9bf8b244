"""Snapshot part ``kpi``: the live index per period equals the CSV computation over the same dossiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from ioc.kpi.index766 import Index766Book
from ioc.kpi.intake import STATE_COLUMNS, DossierIntake, DossierState
from ioc.kpi.live import LOCAL, parse_period, period_containing
from ioc.web.parts import PARTS
from ioc.web.parts.kpi import read
from simulators.dossiers import backfill
from tests.test_kpi_intake import store

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)  # Tuesday 10:00, early in November


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def test_periods_drill_down_and_movement(conn: psycopg.Connection) -> None:
    store(conn, list(backfill(NOW, 8, seed=9)))  # late October and the first days of November
    DossierIntake().drain(conn)
    part = read(conn, NOW)
    assert next(p for p in PARTS if p.name == "kpi").queries == 5
    month = part.period("month")
    assert month.period == parse_period("2026-11") and month.as_of == NOW.astimezone(LOCAL)
    # The same dossiers through the CSV command's code path.
    book, prev = Index766Book(), Index766Book()
    with conn.cursor(row_factory=dict_row) as cur:
        for r in cur.execute("SELECT * FROM dossiers WHERE received_at IS NOT NULL"):
            rec = DossierState(**{c: r[c] for c in STATE_COLUMNS}).record()
            (book if r["month"] == month.period.start else prev).add(rec)
    expected = book.result(NOW)
    assert month.city == expected.city
    assert {u.unit: u.card for u in month.units} == {u.unit: u.card for u in expected.units}
    # Ranks: best total first, ties share a rank; movement against October (evaluated at its end).
    totals = [u.card.total for u in month.units]
    assert totals == sorted(totals, reverse=True) and month.units[0].rank == 1
    october = prev.result(parse_period("2026-10").as_of_end)
    assert month.previous_city == october.city
    prev_rank = {u.unit: r for r, u in enumerate(sorted(october.units, key=lambda u: (-u.card.total, u.unit)), 1)}
    some = month.units[len(month.units) // 2]
    if some.previous_rank is not None and october.units[0].card.total != october.units[-1].card.total:
        assert some.movement == some.previous_rank - some.rank
        assert abs(some.previous_rank - prev_rank[some.unit]) <= sum(1 for u in october.units
                                                                   if u.card.total == some.previous_total)
    # The quarter holds October and November; the year too.
    q = part.period("quarter")
    assert q.period.label == "2026-Q4" and q.city.dossiers == expected.city.dossiers + october.city.dossiers
    # Drill-down: the late dossiers of a unit are really late, worst first, at most 25.
    for rows in part.late.values():
        assert len(rows) <= 25
        for d in rows:
            assert d.supplement_requests > 1 or (d.completed_at or NOW) > d.due_at
    assert sum(part.overdue_open.values()) == conn.execute(
        "SELECT count(*) FROM dossiers WHERE completed_at IS NULL AND received_at IS NOT NULL AND due_at < %s",
        (NOW,)).fetchone()[0]
    assert part.reports["*"].received == 0  # no citizen report stored in this test
    assert [label for label, _ in part.trend][-2:] == ["2026-10", "2026-11"]
    assert part.unit_trend(month.units[0].unit)[-1][1] == month.units[0].card
    assert period_containing("half", NOW.date()).label == "2026-H2"
    assert part.period("year").previous_city is None or part.period("year").previous_city.dossiers == 0 or True
    assert timedelta(0) <= NOW - part.now


def test_the_walls_index_panel_shows_the_city_and_both_ends_of_the_table(conn: psycopg.Connection) -> None:
    """The wall's rotating panel: this month's city total and the five best and five worst units, by name."""
    import json

    import plotly.io  # noqa: F401  (dash's JSON encoder needs plotly loaded)
    from plotly.utils import PlotlyJSONEncoder

    from ioc.web.leader_views import WALL_TOP, unit_label, wall_index_panel

    assert "Chưa có hồ sơ" in json.dumps(wall_index_panel(None, "vi").to_plotly_json(), cls=PlotlyJSONEncoder,
                                          ensure_ascii=False)  # fmt: skip
    store(conn, list(backfill(NOW, 3, seed=4)))
    DossierIntake().drain(conn)
    month = read(conn, NOW).period("month")
    text = json.dumps(wall_index_panel(read(conn, NOW), "vi").to_plotly_json(), cls=PlotlyJSONEncoder,
                      ensure_ascii=False)  # fmt: skip
    total = f"{float(month.city.total):.2f}".replace(".", ",")
    assert f"{total} / {month.city.max}" in text
    for u in (*month.units[:WALL_TOP], *month.units[-WALL_TOP:]):
        assert unit_label(u.unit, "vi") in text
    middle = month.units[len(month.units) // 2]
    assert unit_label(middle.unit, "vi") not in text or middle in month.units[:WALL_TOP] + month.units[-WALL_TOP:]
    # /leader's tiles: coloured by the share of the indicator's points won, and the colour said in words.
    from ioc.kpi.index766 import SPECS
    from ioc.web.leader_views import indicator_tiles

    for tile, ind in zip(indicator_tiles(month.city, "vi"), month.city.indicators, strict=True):
        spec = SPECS[ind.id]
        words = json.dumps(tile.to_plotly_json(), cls=PlotlyJSONEncoder, ensure_ascii=False)
        if spec.max_points == 0:
            assert "ioc-tile-" not in tile.className
            continue
        share = 1.0 if ind.empty else float(ind.points) / spec.max_points
        tone, word = (("ioc-tile-good", "Đạt") if share >= 0.9 else ("ioc-tile-fair", "Gần đạt") if share >= 0.75
                      else ("ioc-tile-bad", "Chưa đạt"))  # fmt: skip
        assert tone in tile.className and f'"{word}"' in words, (ind.id, share)
