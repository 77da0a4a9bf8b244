"""``/leader/kpi`` built from a real snapshot part: the values and changes shown are the part's numbers
(recomputed here from its score cards, with exact decimals), the sparklines hold the monthly trend,
target lines appear exactly where the KPI catalogue sets a target, the full-points rule is dotted."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import yaml

from ioc.kpi.catalogue import parse_catalogue
from ioc.kpi.index766 import INDICATOR_IDS, SPECS, ScoreCard
from ioc.kpi.intake import DossierIntake
from ioc.web import leader_kpi_views as kv
from ioc.web.parts.kpi import KINDS, KpiPart, read
from simulators.dossiers import backfill
from tests.names_check import problems
from tests.test_kpi_intake import store

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)  # early November: October is the previous month


def find(node: Any, cid: str) -> Any:
    """The component with id ``cid`` in a Dash tree (None when absent)."""
    if getattr(node, "id", None) == cid:
        return node
    children = getattr(node, "children", None) if not isinstance(node, list | tuple) else node
    for c in children if isinstance(children, list | tuple) else [children]:
        if c is not None and not isinstance(c, str | int | float):
            hit = find(c, cid)
            if hit is not None:
                return hit
    return None


def text(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text(c) for c in node)
    return text(getattr(node, "children", None)) + " " + str(getattr(node, "title", "") or "")


def exact(card: ScoreCard | None, key: str) -> Decimal | None:
    """The figure from the card with decimals: points, or the ratio in percent (4 decimals → 2)."""
    if card is None or card.dossiers == 0:
        return None
    if key == "total":
        return card.total
    r = card.indicator(key).ratio
    return None if r is None else r * 100


def vi(d: Decimal | None, sign: bool = False, unit: str = "") -> str:
    if d is None:
        return "—"
    s = f"{abs(d) if sign else d:.2f}".replace(".", ",")
    prefix = ("+" if d > 0 else "−" if d < 0 else "±") if sign else ""
    return f"{prefix}{s}{unit}"


@pytest.fixture
def part(pg_dsn: str) -> KpiPart:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        store(conn, list(backfill(NOW, 12, seed=21)))  # late October and the first days of November
        DossierIntake().drain(conn)
        return read(conn, NOW)


def test_values_changes_sparklines_and_targets_are_the_parts(part: KpiPart) -> None:
    for kind in KINDS:
        pi = part.period(kind)
        rows = kv.kpi_rows(part, kind)
        assert [r.key for r in rows] == ["total", *INDICATOR_IDS]
        tree = kv.kpi_cards(rows, kind, "vi")
        for key in ("total", *INDICATOR_IDS):
            dom = kv.row_dom_id(key)
            unit = " %" if key != "total" else ""
            delta = " điểm %" if key != "total" else " điểm"
            cur, prev, yoy = exact(pi.city, key), exact(pi.previous_city, key), exact(pi.year_before_city, key)
            assert find(tree, f"{dom}-value").children == vi(cur, unit=unit), (kind, key)
            change = None if cur is None or prev is None else cur - prev
            yoy_change = None if cur is None or yoy is None else cur - yoy
            assert text(find(tree, f"{dom}-change")).strip() == (vi(change, True) + delta if change is not None else "—")
            assert text(find(tree, f"{dom}-yoy")).strip() == (vi(yoy_change, True) + delta if yoy_change is not None else "—")
            # The sparkline: the city's 12 months from the part's trend; the current month marked.
            graph = find(tree, f"{dom}-spark")
            fig = graph.figure
            assert list(fig.data[0].x) == [m for m, _ in part.trend] and len(part.trend) == 12
            ys = [None if (v := exact(c, key)) is None else float(v) for _, c in part.trend]
            assert [None if y is None else round(y, 6) for y in fig.data[0].y] == \
                [None if y is None else round(y, 6) for y in ys]  # fmt: skip
            # No 766 indicator has a target in the shipped catalogue: no dashed line, no target text.
            dashes = [s.line.dash for s in fig.layout.shapes]
            assert "dash" not in dashes and find(tree, f"{dom}-target") is None
            spec = SPECS.get(key)
            assert ("dot" in dashes) == bool(spec and spec.threshold), key
            if spec and spec.threshold:
                assert fig.layout.shapes[dashes.index("dot")].y0 == pytest.approx(float(spec.threshold) * 100)
    # The changes are there to compare: October and November both have dossiers.
    month = part.period("month")
    assert month.previous_city is not None and month.city.dossiers > 0
    # The Vietnamese view reads as Vietnamese: no code-like token, no English word (titles included).
    words = text(kv.kpi_cards(kv.kpi_rows(part, "quarter"), "quarter", "vi")) + text(kv.legend("vi"))
    assert problems(words, "vi") == []
    assert "Xem" not in words and "NOT_COMPUTABLE" not in words


def test_a_catalogue_target_draws_a_dashed_labelled_line(part: KpiPart) -> None:
    from importlib import resources

    data = yaml.safe_load(resources.files("ioc.kpi").joinpath("catalogue.yaml").read_text(encoding="utf-8"))
    entry = next(k for k in data["kpis"] if k.get("index766_id") == "2.1")
    entry["targets"] = [{"value": 95, "comparator": ">=", "year": 2026,
                         "citations": [{"file": "x.txt", "lines": 1, "quote": "95%"}]},
                        {"value": 99, "comparator": ">=", "year": 2030,
                         "citations": [{"file": "x.txt", "lines": 2, "quote": "99%"}]}]  # fmt: skip
    cat = parse_catalogue(data)
    rows = kv.kpi_rows(part, "month", catalogue=cat)
    tree = kv.kpi_cards(rows, "month", "vi")
    fig = find(tree, "leader-kpi-2_1-spark").figure
    dashed = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert [s.y0 for s in dashed] == [95.0]  # this year's target, not 2030's
    assert any("Mục tiêu >= 95,0 % (năm 2026)" in (a.text or "") for a in fig.layout.annotations)
    assert "Mục tiêu >= 95,0 % (năm 2026)" in text(find(tree, "leader-kpi-2_1-target"))
    assert find(tree, "leader-kpi-3_f-target") is None  # the other indicators: none


def test_one_unit_shows_its_own_numbers(part: KpiPart) -> None:
    month = part.period("month")
    ranked = month.units[0]
    rows = {r.key: r for r in kv.kpi_rows(part, "month", ranked.unit)}
    assert rows["total"].value == float(ranked.card.total)
    assert rows["total"].previous == (None if ranked.previous_total is None else float(ranked.previous_total))
    assert [v for _, v in rows["total"].spark][-1] == float(ranked.card.total)
    r21 = exact(ranked.card, "2.1")
    assert rows["2.1"].value == (None if r21 is None else pytest.approx(float(r21)))
    options = kv.unit_options(part, "vi")
    assert options[0]["value"] == kv.CITY and ranked.unit in {o["value"] for o in options}
