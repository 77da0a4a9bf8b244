"""The State Treasury's daily collection for Hải Phòng, by revenue line, calibrated to the city's figures.

Annual plans and outcomes per year come from ``../shared/data/kpi/baselines.md`` §5 (line numbers
below; billion VND). Where the file has no figure (UNCONFIRMED) the value is derived or assumed, and
:data:`YEARS` says which. The simulated territory is Hải Phòng before the merger with Hải Dương: the
file notes that the series breaks on 1 July 2025, and the 2025 row keeps the old city's plan and pace.

The calendar: the treasury collects on working days only (no weekends, public holidays or the Tết
break); the monthly tax deadline on the 20th, the quarterly provisional corporate tax at the end of
the month after each quarter, the annual finalisations (31 March corporate, 30 April personal), the
year-end push in December and the pre-Tết rush. Land-use fees arrive mostly in lumps from single
projects (e.g. January 2024: Bắc sông Cấm 1,231 + 419 and Our City 300, baselines.md line 14).

Planted incidents (``simulators/scenarios/budget_*.yaml``) act on the lines they name: a shortfall
lowers a line's collection by ``magnitude`` × the incident's severity (a RAMP deepens like the
import–export shortfall of 2023, a PLATEAU is a sudden drop). The same seed gives the same bytes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from geodata.sites import Site
from ioc.events import Event
from ioc.sources.budget import BudgetEvent, lunar_new_year, treasury_open
from simulators.base import IncidentIndex, seeded_uuid, stream_rng

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
BILLION = 1_000_000_000
REPORT_TIME = time(16, 30)  # the treasury closes its day's books


@dataclass(frozen=True)
class YearFigures:
    """One year's plans and outcome (billion VND): central (DT TW) and council (DT HĐND) plans by group."""

    year: int
    plan_central: Mapping[str, float]  # group -> plan
    plan_council: Mapping[str, float]
    actual: Mapping[str, float]  # group -> outcome (domestic includes land-use fees)
    note: str


# Groups: noi_dia (domestic, land-use fees included), xnk (import–export), khac (other).
# "other" plans are what the total plan leaves after the two named groups.
YEARS: dict[int, YearFigures] = {
    2022: YearFigures(
        2022,
        plan_central={"noi_dia": 41_000 / 1.292, "xnk": 66_000 / 1.18, "khac": 91_790 - 41_000 / 1.292 - 66_000 / 1.18},
        plan_council={"noi_dia": 41_000, "xnk": 66_000 / 1.10, "khac": 105_610 - 41_000 - 66_000 / 1.10},
        actual={"noi_dia": 41_000, "xnk": 66_000, "khac": 108_674.96 - 41_000 - 66_000},
        note="baselines.md line 11: total 108,674.96 (118.4 % DT TW, 102.9 % DT HĐND), domestic ≈41,000 "
        "(129.2 % DT TW, 100 % DT HĐND), XNK ≈66,000 (118 % DT TW, 110 % DT HĐND); plans derived from the %",
    ),
    2023: YearFigures(
        2023,
        plan_central={"noi_dia": 43_466 / 1.387, "xnk": 69_900 * 0.932, "khac": 4_305 * 0.895},
        plan_council={"noi_dia": 42_500, "xnk": 69_900, "khac": 16_455.4 / 0.141 - 42_500 - 69_900},
        actual={"noi_dia": 43_466, "xnk": 103_619 - 43_466 - 1_700, "khac": 1_700},
        note="baselines.md lines 12-13: total 103,619, domestic 43,466 (138.7 % DT TW); DT HĐND domestic "
        "42,500, XNK 69,900, total 16,455.4/14.1 %; XNK final UNCONFIRMED (Nov estimate 58,000): the rest of "
        "the total after domestic and an assumed other 1,700; central XNK/other plans assumed at 2022's ratios",
    ),
    2024: YearFigures(
        2024,
        plan_central={"noi_dia": 45_000 * 0.9166, "xnk": 60_000 * 0.9166, "khac": 1_761 * 0.9166},
        plan_council={"noi_dia": 45_000, "xnk": 60_000, "khac": 106_761 - 45_000 - 60_000},
        actual={"noi_dia": 54_000, "xnk": 66_000, "khac": 1_700},
        note="baselines.md line 14: target 106,761 (domestic 45,000, XNK 60,000); January 10,763.7 = 11 % "
        "DT TW; full year UNCONFIRMED: assumed twice H1 (77,319/1.271 = 60,834, line 16)",
    ),
    2025: YearFigures(
        2025,
        plan_central={"noi_dia": 51_000 * 0.993, "xnk": 62_700 * 0.993, "khac": 4_379 * 0.993},
        plan_council={"noi_dia": 51_000, "xnk": 62_700, "khac": 118_079 - 51_000 - 62_700},
        actual={"noi_dia": 82_000, "xnk": 78_000, "khac": 1_900},
        note="baselines.md line 16: DT 118,079 (domestic 51,000, XNK 62,700), Q1 40.83 % DT TW; the old city's "
        "full year is not published (H1 77,319): assumed from the Jan–May pace (domestic 37,155, XNK 32,946)",
    ),
}
GROWTH = 1.10  # years after the table: plans and outcomes grow 10 % a year (assumption)
LAND_SHARE = 0.12  # land-use fees as a share of domestic revenue (assumption: UNCONFIRMED in the file)
LAND_LUMP_SHARE = 0.6  # … of which arrives in lumps from single projects
# Known lumps (date, billion VND): January 2024, baselines.md line 14.
KNOWN_LUMPS: dict[int, tuple[tuple[date, float], ...]] = {
    2024: ((date(2024, 1, 16), 1_231.0), (date(2024, 1, 24), 419.0), (date(2024, 1, 30), 300.0)),
}
DAILY_NOISE = {"noi_dia": 0.22, "xnk": 0.12, "khac": 0.45, "land": 0.5}


def figures(year: int) -> YearFigures:
    """The year's figures: from the table, or grown from its last year."""
    if year in YEARS:
        return YEARS[year]
    last = max(YEARS) if year > max(YEARS) else min(YEARS)
    k = GROWTH ** (year - last)
    f = YEARS[last]
    return YearFigures(year, {g: v * k for g, v in f.plan_central.items()},
                       {g: v * k for g, v in f.plan_council.items()},
                       {g: v * k for g, v in f.actual.items()}, f"grown {GROWTH:.0%} a year from {last}")  # fmt: skip


def _day_weight(d: date, group: str) -> float:
    """How much of a month's collection falls on one treasury day (before noise)."""
    w = 1.0
    if group == "xnk":  # customs collects steadily; a little more towards the month's end
        w *= 1.0 + 0.15 * (d.day >= 24)
    else:
        if 17 <= d.day <= 20:  # the 20th: monthly VAT and withheld PIT
            w *= 2.6
        if d.month in (1, 4, 7, 10) and d.day >= 27:  # provisional corporate tax of the past quarter
            w *= 2.0
        if d.month == 3 and d.day >= 25:  # annual corporate tax finalisation (31 March)
            w *= 2.5
        if d.month == 4 and 24 <= d.day <= 30:  # personal income tax finalisation (30 April)
            w *= 1.8
        if d.day >= 28:  # month end
            w *= 1.2
    month = {1: 1.15, 2: 0.75, 12: 1.35, 11: 1.05}.get(d.month, 1.0)
    tet = lunar_new_year(d.year)
    if timedelta(0) < tet - d <= timedelta(days=10):  # the pre-Tết rush
        month *= 1.5
    elif timedelta(0) < d - tet <= timedelta(days=12):  # the first days back
        month *= 0.6
    return w * month


@dataclass(frozen=True, slots=True)
class _Line:
    source_id: str
    group: str  # noi_dia | xnk | khac
    share: float  # of domestic excluding land (tax types)
    lumpy: bool


class BudgetSource:
    """Daily treasury reports, one event per revenue line and working day (report at 16:30 local)."""

    def __init__(self, sites: Sequence[Site], seed: int, incidents: IncidentIndex | None = None) -> None:
        self.seed = seed
        self.incidents = incidents or IncidentIndex(())
        self.lines = tuple(
            _Line(s.source_id, str(s.properties.get("group", "khac")), float(s.properties.get("domestic_share", 0)),
                  bool(s.properties.get("lumpy")))
            for s in sites
        )  # fmt: skip
        if not self.lines:
            raise ValueError("no budget lines registered")
        self._years: dict[int, list[BudgetEvent]] = {}

    # -- one year, computed whole ------------------------------------------------------------------
    def _shares(self, line: _Line, f: YearFigures, which: Mapping[str, float]) -> float:
        """A line's part (billion VND) of a group figure: tax types split domestic excluding land."""
        if line.lumpy:
            return which["noi_dia"] * LAND_SHARE
        if line.group == "noi_dia":
            return which["noi_dia"] * (1 - LAND_SHARE) * line.share
        return which[line.group] / max(1, sum(1 for x in self.lines if x.group == line.group and not x.lumpy))

    def year_events(self, year: int) -> list[BudgetEvent]:
        if year not in self._years:
            self._years[year] = self._build_year(year)
        return self._years[year]

    def _build_year(self, year: int) -> list[BudgetEvent]:
        f = figures(year)
        days = [d for d in (date(year, 1, 1) + timedelta(days=i) for i in range(366)) if d.year == year and treasury_open(d)]
        out: list[BudgetEvent] = []
        for line in self.lines:
            rng = stream_rng(self.seed, f"budget:{line.source_id}:{year}")
            total = self._shares(line, f, f.actual) * BILLION
            plan_c = round(self._shares(line, f, f.plan_central) * BILLION)
            plan_h = round(self._shares(line, f, f.plan_council) * BILLION)
            amounts = self._amounts(line, days, total, rng, year)
            ytd = 0
            for d, base in zip(days, amounts, strict=True):
                at = datetime.combine(d, REPORT_TIME, LOCAL).astimezone(UTC)
                factor = 1.0
                for inc, sev in self.incidents.at(line.source_id, at):
                    factor *= max(0.0, 1.0 - inc.magnitude * sev)
                amount = round(base * factor)
                ytd += amount
                out.append(BudgetEvent(
                    event_id=seeded_uuid(rng), source_id=line.source_id, event_time=at, collection_date=d,
                    fiscal_year=year, amount_vnd=amount, ytd_vnd=ytd, plan_central_vnd=plan_c, plan_council_vnd=plan_h,
                ))  # fmt: skip
        out.sort(key=lambda e: (e.event_time, e.source_id))
        return out

    def _amounts(self, line: _Line, days: list[date], total: float, rng: random.Random, year: int) -> list[float]:
        """Daily amounts summing to the line's outcome: the calendar's shape × noise (+ lumps for land)."""
        group = "land" if line.lumpy else line.group
        sigma = DAILY_NOISE[group]
        weights = [_day_weight(d, line.group) * math.exp(rng.gauss(-sigma * sigma / 2, sigma)) for d in days]
        lumps = [0.0] * len(days)
        steady = total
        if line.lumpy:
            steady = total * (1 - LAND_LUMP_SHARE)
            budget = total * LAND_LUMP_SHARE
            known = KNOWN_LUMPS.get(year, ())
            for when, bn in known:
                i = next((k for k, d in enumerate(days) if d >= when), len(days) - 1)
                lumps[i] += bn * BILLION
            budget -= sum(bn for _, bn in known) * BILLION
            n = max(1, round(rng.gauss(6, 1.5)))
            sizes = [math.exp(rng.gauss(0, 0.6)) for _ in range(n)]
            for size in sizes:
                lumps[rng.randrange(len(days))] += max(0.0, budget) * size / sum(sizes)
        scale = steady / sum(weights)
        return [w * scale + lump for w, lump in zip(weights, lumps, strict=True)]

    # -- the stream --------------------------------------------------------------------------------
    def events(self, a: datetime, b: datetime) -> list[Event]:
        out: list[Event] = []
        for year in range(a.astimezone(LOCAL).year, b.astimezone(LOCAL).year + 1):
            out += [e for e in self.year_events(year) if a <= e.event_time < b]
        return out

    @cached_property
    def line_ids(self) -> tuple[str, ...]:
        return tuple(x.source_id for x in self.lines)


__all__ = ["YEARS", "BudgetSource", "YearFigures", "figures"]
