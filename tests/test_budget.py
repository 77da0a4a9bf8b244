"""Budget revenue: the source's schema, bad input, the three rules on hand-made series, the simulator's
calibration against the city's published figures."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from alerts.budget_rules import (
    BudgetBook,
    BudgetForecastConfig,
    BudgetForecastRule,
    BudgetYoyConfig,
    BudgetYoyRule,
    BudgetYtdPlanConfig,
    BudgetYtdPlanRule,
    LineInfo,
    forecast,
    open_days,
    trajectory,
)
from alerts.model import UpdateKind
from ioc.sources import SourceKind
from ioc.sources.budget import BudgetEvent, near_tet, treasury_open
from streams.decode import Reason, Rejected, decode

BN = 1_000_000_000
LINES = {"rev-xnk": LineInfo("rev-xnk", "xnk", "thu XNK", "import–export duties"),
         "rev-fdi": LineInfo("rev-fdi", "noi_dia", "thu từ DN FDI", "foreign-invested firms"),
         "rev-sdd": LineInfo("rev-sdd", "noi_dia", "tiền sử dụng đất", "land-use fees", lumpy=True)}  # fmt: skip
NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)
KNOWN = {SourceKind.BUDGET: frozenset({"rev-xnk"})}


def wire(**changes: object) -> bytes:
    msg = {"event_id": str(uuid.uuid4()), "source_id": "rev-xnk", "event_time": "2025-06-30T09:30:00+00:00",
           "collection_date": "2025-06-30", "fiscal_year": 2025, "amount_vnd": 231_000_000_000,
           "ytd_vnd": 30_000_000_000_000, "plan_central_vnd": 62_000_000_000_000,
           "plan_council_vnd": 62_700_000_000_000} | changes  # fmt: skip
    return json.dumps(msg).encode()


def test_a_valid_report_keeps_whole_dong_and_both_plans() -> None:
    e = decode(SourceKind.BUDGET, wire(), known_sources=KNOWN, now=NOW)
    assert isinstance(e, BudgetEvent)
    assert e.amount_vnd == 231_000_000_000 and isinstance(e.amount_vnd, int)
    assert (e.plan_central_vnd, e.plan_council_vnd) == (62_000_000_000_000, 62_700_000_000_000)
    assert e.collection_date == date(2025, 6, 30)


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"amount_vnd": "231 tỷ"}, Reason.WRONG_TYPE, "amount_vnd"),
    ({"amount_vnd": 231.5}, Reason.WRONG_TYPE, "amount_vnd"),  # whole đồng only
    ({"plan_council_vnd": -1}, Reason.OUT_OF_RANGE, "plan_council_vnd"),
    ({"ytd_vnd": 10**16}, Reason.OUT_OF_RANGE, "ytd_vnd"),
    ({"taxpayer": "Công ty TNHH ABC"}, Reason.UNKNOWN_FIELD, "taxpayer"),
    ({"source_id": "rev-khong-co"}, Reason.UNKNOWN_SOURCE, "source_id"),
])  # fmt: skip
def test_bad_reports_are_refused_with_their_reason(change: dict[str, object], code: Reason, field: str) -> None:
    out = decode(SourceKind.BUDGET, wire(**change), known_sources=KNOWN, now=NOW)
    assert isinstance(out, Rejected) and out.code is code and out.field == field


def test_a_collection_date_outside_its_fiscal_year_is_refused() -> None:
    out = decode(SourceKind.BUDGET, wire(collection_date="2024-12-31"), known_sources=KNOWN, now=NOW)
    assert isinstance(out, Rejected) and out.code is Reason.WRONG_TYPE and "fiscal_year" in out.reason


def test_the_treasury_calendar_knows_weekends_holidays_and_tet() -> None:
    assert not treasury_open(date(2025, 1, 29))  # mùng 1 Tết Ất Tỵ
    assert not treasury_open(date(2025, 5, 3)) and not treasury_open(date(2025, 4, 30))  # Saturday, 30/4
    assert treasury_open(date(2025, 3, 4))
    assert near_tet(date(2025, 2, 5), 10) and not near_tet(date(2025, 4, 1), 10)
    assert 240 <= len(open_days(2025)) <= 252


# --- hand-made series ------------------------------------------------------------------------------


def series(book: BudgetBook, line: str, year: int, total_bn: float, plan_bn: float, *, factor=lambda d: 1.0,
           lumps: dict[date, float] | None = None) -> list[BudgetEvent]:  # fmt: skip
    """An even year: the same amount every treasury day (× ``factor(day)``), plus lumps (billion VND)."""
    days = open_days(year)
    per_day = total_bn * BN / len(days)
    ytd, out = 0, []
    for i, d in enumerate(days):
        amount = round(per_day * factor(d) + (lumps or {}).get(d, 0.0) * BN)
        ytd += amount
        out.append(BudgetEvent(event_id=uuid.UUID(int=hash((line, year, i)) & (2**128 - 1)), source_id=line,
                               event_time=datetime(year, d.month, d.day, 9, 30, tzinfo=UTC), collection_date=d,
                               fiscal_year=year, amount_vnd=amount, ytd_vnd=ytd, plan_central_vnd=round(plan_bn * BN * 0.95),
                               plan_council_vnd=round(plan_bn * BN)))  # fmt: skip
    return out


def feed(rule, events):  # type: ignore[no-untyped-def]
    return [u for e in sorted(events, key=lambda e: (e.event_time, e.source_id)) for u in rule.evaluate(e)]


def history(line: str = "rev-xnk") -> list[BudgetEvent]:
    """2022–2024: each year collects 98, 100 and 102 % of a 60,000 bn plan at an even pace."""
    book = BudgetBook(LINES)
    return [e for y, share in ((2022, 0.98), (2023, 1.00), (2024, 1.02)) for e in series(book, line, y, 60_000 * share, 60_000)]


def test_trajectory_is_the_previous_years_share_by_the_same_day() -> None:
    book = BudgetBook(LINES)
    for e in history() + series(book, "rev-xnk", 2025, 50_000, 60_000):
        book.add(e)
    tr = trajectory(book, "rev-xnk", 2025, 182)
    assert tr is not None and tr.years == (2022, 2023, 2024)
    assert tr.usual == pytest.approx(0.50, abs=0.02)  # half a year of an even 100 % year
    assert tr.share == pytest.approx(tr.usual * 50 / 60, rel=0.02)
    fc = forecast(book, "rev-xnk", 2025, 182)
    assert fc is not None and fc.share == pytest.approx(50_000 / 60_000, rel=0.02)
    lo, hi = fc.bounds(1.28)
    assert lo < fc.share < hi and hi - lo < 0.1


def test_ytd_behind_the_usual_trajectory_raises_with_the_officers_figures() -> None:
    rule = BudgetYtdPlanRule(BudgetYtdPlanConfig(type="budget_ytd_plan", id="budget-ytd-plan", series=("rev-xnk",)), LINES)
    assert feed(rule, history()) == []  # three ordinary years: nothing
    book = BudgetBook(LINES)
    slow = series(book, "rev-xnk", 2025, 60_000, 60_000, factor=lambda d: 1.0 if d.month < 3 else 0.75)
    ups = feed(rule, slow)
    raised = [u for u in ups if u.kind is UpdateKind.RAISE]
    assert len(raised) == 1 and raised[0].key == "budget-ytd-plan:rev-xnk:2025"
    u = raised[0]
    assert u.detail_vi.startswith("thu XNK lũy kế ") and "% dự toán HĐND" in u.detail_vi
    assert "cùng kỳ thường " in u.detail_vi and " ± " in u.detail_vi and "(2022–2024)" in u.detail_vi
    assert "% dự toán TW" in u.detail_vi and "tỷ đồng" in u.detail_vi
    assert u.rule_version.startswith("1+") and u.warning_class == "budget" and u.alert_class == "budget"
    # It fires once the gap exceeds the band, not on the first slow day of March.
    assert u.at.date() > date(2025, 3, 15)


def test_a_fall_below_last_year_raises_but_growth_does_not() -> None:
    rule = BudgetYoyRule(BudgetYoyConfig(type="budget_yoy", id="budget-yoy", series=("rev-fdi",)), LINES)
    book = BudgetBook(LINES)
    calm = series(book, "rev-fdi", 2024, 12_000, 12_000) + series(book, "rev-fdi", 2025, 14_000, 13_000)
    assert [u for u in feed(rule, calm) if u.kind is UpdateKind.RAISE] == []  # +17 %: no warning
    rule = BudgetYoyRule(BudgetYoyConfig(type="budget_yoy", id="budget-yoy", series=("rev-fdi",)), LINES)
    drop = series(book, "rev-fdi", 2024, 12_000, 12_000) + series(
        book, "rev-fdi", 2025, 14_000, 13_000, factor=lambda d: 0.5 if d >= date(2025, 6, 2) else 1.0)
    raised = [u for u in feed(rule, drop) if u.kind is UpdateKind.RAISE]
    assert len(raised) == 1 and raised[0].source_id == "rev-fdi"
    assert date(2025, 6, 2) < raised[0].at.date() <= date(2025, 7, 15)  # within weeks of the drop
    assert "30 ngày gần nhất bằng" in raised[0].detail_vi and "cùng kỳ năm 2024" in raised[0].detail_vi


def test_a_lump_is_not_a_trend() -> None:
    """Last year's one-off land payment makes neither a fall this year nor a pessimistic forecast."""
    yoy = BudgetYoyRule(BudgetYoyConfig(type="budget_yoy", id="budget-yoy", series=("rev-sdd",)), LINES)
    fc = BudgetForecastRule(BudgetForecastConfig(type="budget_forecast", id="budget-forecast", series=("rev-sdd",)), LINES)
    book = BudgetBook(LINES)
    years = (series(book, "rev-sdd", 2022, 5_000, 5_000) + series(book, "rev-sdd", 2023, 5_000, 5_000)
             + series(book, "rev-sdd", 2024, 5_000, 5_000, lumps={date(2024, 3, 12): 2_500.0})  # 50 % of a year, one day
             + series(book, "rev-sdd", 2025, 5_000, 5_000))  # fmt: skip
    for rule in (yoy, fc):
        assert [u for u in feed(rule, years) if u.kind is UpdateKind.RAISE] == [], rule.id
    # Without the cap the same lump would have made March 2025 look 45 % down.
    raw = BudgetYoyRule(BudgetYoyConfig(type="budget_yoy", id="budget-yoy", series=("rev-sdd",), lump_factor=1e9), LINES)
    assert [u for u in feed(raw, years) if u.kind is UpdateKind.RAISE]


def test_a_forecast_below_plan_raises_with_its_range_and_a_new_year_clears_it() -> None:
    rule = BudgetForecastRule(BudgetForecastConfig(type="budget_forecast", id="budget-forecast", series=("rev-xnk",)), LINES)
    book = BudgetBook(LINES)
    short = series(book, "rev-xnk", 2025, 52_000, 60_000)  # on course for 87 % of the plan
    ups = feed(rule, history() + short)
    raised = [u for u in ups if u.kind is UpdateKind.RAISE]
    assert len(raised) == 1
    u = raised[0]
    assert u.at.date() >= date(2025, 3, 1)  # no forecast before the start day (60)
    assert "dự báo thu XNK cả năm" in u.detail_vi and "khoảng" in u.detail_vi and "độ tin cậy 90 %" in u.detail_vi
    assert u.value == pytest.approx(52 / 60, abs=0.02)
    nxt = series(book, "rev-xnk", 2026, 60_000, 60_000)[:1]
    cleared = feed(rule, nxt)
    assert [c.kind for c in cleared] == [UpdateKind.CLEAR] and "2025" in cleared[0].detail_vi


# --- the simulator's calibration ------------------------------------------------------------------


def test_simulated_years_reproduce_the_city_totals_and_split() -> None:
    from geodata.sites import load_sites
    from simulators.budget import YEARS, BudgetSource

    src = BudgetSource(load_sites(SourceKind.BUDGET), seed=3)
    for year in (2022, 2023):
        total = {"noi_dia": 0, "xnk": 0, "khac": 0}
        groups = {s.source_id: str(s.properties["group"]) for s in load_sites(SourceKind.BUDGET)}
        for e in src.year_events(year):
            total[groups[e.source_id]] += e.amount_vnd
        for g, want in YEARS[year].actual.items():
            assert total[g] / BN == pytest.approx(want, rel=0.002), (year, g)
    assert sum(YEARS[2022].actual.values()) == pytest.approx(108_674.96)
    assert sum(YEARS[2023].actual.values()) == pytest.approx(103_619)
    # Tết closes the treasury: no report on mùng 1–3.
    assert not [e for e in src.year_events(2025) if e.collection_date in (date(2025, 1, 29), date(2025, 1, 30))]
    # A lump (Bắc sông Cấm, January 2024) stands out of the land-use fee days.
    land = [e.amount_vnd for e in src.year_events(2024) if e.source_id == "rev-sdd"]
    assert max(land) >= 1_231 * BN


def test_cited_figures_are_the_baselines(shared_data: Path) -> None:
    """The calibration quotes baselines.md: the figures are on the lines the code cites."""
    lines = (shared_data / "kpi" / "baselines.md").read_text(encoding="utf-8").splitlines()
    assert "108,674.96" in lines[10] and "105,610" in lines[10]
    assert "43,466" in lines[11] and "69,900" in lines[11]
    assert "16,455.4" in lines[12] and "14.1% DT HĐND" in lines[12]
    assert "106,761" in lines[13] and "1,231" in lines[13]
    assert "118,079" in lines[15] and "77,319" in lines[15]


def test_a_day_in_the_future_is_refused() -> None:
    out = decode(SourceKind.BUDGET, wire(event_time=(NOW + timedelta(days=1)).isoformat()), known_sources=KNOWN, now=NOW)
    assert isinstance(out, Rejected) and out.code is Reason.FUTURE_TIMESTAMP
