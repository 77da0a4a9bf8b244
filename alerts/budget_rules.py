"""Budget-revenue warnings: year to date against the plan trajectory, a line below the same period of
the previous year, and the year's forecast against the plan with its uncertainty.

All three read the State Treasury's daily collection (:class:`ioc.sources.budget.BudgetEvent`) into
one :class:`BudgetBook` and judge each watched series — every revenue line, plus total revenue and
domestic revenue — once per treasury day, when every line of the series has reported it:

- **budget-ytd-plan**: the share of the plan (DT HĐND by default) collected so far, against the share
  usually collected by the same day in previous years (mean ± spread of those years, with a floor):
  "thu XNK lũy kế 52,5 % dự toán HĐND, cùng kỳ thường 61,0 % ± 3,0 (2022–2024)";
- **budget-yoy**: the last 30 days (per treasury working day) or the year to date below the same
  period of the previous year by more than a threshold; windows next to a Tết break in either year
  are not compared (Tết moves by up to three weeks between years);
- **budget-forecast**: the year's outcome projected from each previous year's collection rhythm;
  raised when the upper end of its range stays below the plan.

Land-use fees (tiền sử dụng đất) arrive in lumps from single projects. A day above ``lump_factor``
times the line's median day counts only up to that cap in the comparisons and in the rhythm a
forecast extrapolates, and the lumps of previous years after the same day are added as expected
lumps (scaled by the plans), so one large payment is neither a trend nor a fall the year after.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.model import Severity, UpdateKind
from alerts.warnings import WarningUpdate, config_version, fmt_num, fmt_pct
from ioc.events import Event
from ioc.sources.budget import BudgetEvent, near_tet, treasury_open

_CFG = ConfigDict(frozen=True, extra="forbid")
TOTAL = "total"
DOMESTIC = "noi_dia"
BILLION = 1_000_000_000  # tỷ đồng

PlanKind = Literal["council", "central"]


@dataclass(frozen=True, slots=True)
class LineInfo:
    """A revenue line as the registry declares it."""

    source_id: str
    group: str  # noi_dia | xnk | khac
    short_vi: str
    short_en: str
    lumpy: bool = False


AGGREGATE_NAMES = {TOTAL: ("tổng thu NSNN", "total revenue"), DOMESTIC: ("thu nội địa", "domestic revenue")}


def registry_lines() -> dict[str, LineInfo]:
    """The revenue lines of ``geodata/sites/budget_lines.json``."""
    from geodata.sites import load_sites
    from ioc.sources import SourceKind

    out = {}
    for s in load_sites(SourceKind("budget")):
        p = s.properties
        out[s.source_id] = LineInfo(s.source_id, str(p.get("group", "khac")), str(p.get("short", s.name)),
                                    str(p.get("short_en", p.get("name_en", s.source_id))), bool(p.get("lumpy")))
    return out


# --- the book of collections ---------------------------------------------------------------------


@dataclass
class _LineYear:
    plan_central: int = 0
    plan_council: int = 0
    days: list[int] = field(default_factory=list)  # sorted days of year with a report
    amount: dict[int, int] = field(default_factory=dict)
    ytd: dict[int, int] = field(default_factory=dict)
    last_day: int = 0


def doy(d: date) -> int:
    return d.timetuple().tm_yday


class BudgetBook:
    """Every line's daily collection per fiscal year, with year-to-date and lump-capped views."""

    def __init__(self, lines: Mapping[str, LineInfo], lump_factor: float = 6.0) -> None:
        self.lines = dict(lines)
        self.lump_factor = lump_factor
        self._data: dict[tuple[str, int], _LineYear] = {}
        self._caps: dict[tuple[str, int], tuple[int, float]] = {}  # (line, year) -> (days seen, cap)
        self._prefixes: dict[tuple[str, int], tuple[int, float, tuple[list[int], list[float], list[float]]]] = {}
        self.members: dict[str, tuple[str, ...]] = {
            TOTAL: tuple(self.lines),
            DOMESTIC: tuple(s for s, li in self.lines.items() if li.group == DOMESTIC),
            **{s: (s,) for s in self.lines},
        }

    def add(self, e: BudgetEvent) -> bool:
        """Record a report (a later report of the same day replaces it); False for an unknown line."""
        return self.record(e.source_id, e.fiscal_year, e.collection_date, e.amount_vnd, e.ytd_vnd,
                           e.plan_central_vnd, e.plan_council_vnd)  # fmt: skip

    def record(self, source_id: str, year: int, day: date, amount: int, ytd: int, plan_central: int,
               plan_council: int) -> bool:  # fmt: skip
        if source_id not in self.lines:
            return False
        ly = self._data.setdefault((source_id, year), _LineYear())
        d = doy(day)
        if d not in ly.amount:
            bisect.insort(ly.days, d)
        ly.amount[d], ly.ytd[d] = amount, ytd
        ly.plan_central, ly.plan_council = plan_central, plan_council
        ly.last_day = max(ly.last_day, d)
        return True

    # -- reading -------------------------------------------------------------------------------
    def years(self, series: str) -> list[int]:
        return sorted({y for (s, y) in self._data if s in self.members[series]})

    def reported_through(self, series: str, year: int) -> int:
        """The last day of year every line of the series has reported (0 when one has none)."""
        days = [self._data[(s, year)].last_day if (s, year) in self._data else 0 for s in self.members[series]]
        present = [d for d in days if d > 0]
        return min(present) if present else 0

    def plan(self, series: str, year: int, which: PlanKind) -> int:
        total = 0
        for s in self.members[series]:
            ly = self._data.get((s, year))
            if ly is not None:
                total += ly.plan_council if which == "council" else ly.plan_central
        return total

    def _line_ytd(self, s: str, year: int, day: int) -> int:
        ly = self._data.get((s, year))
        if ly is None:
            return 0
        i = bisect.bisect_right(ly.days, day)
        return ly.ytd[ly.days[i - 1]] if i else 0

    def ytd(self, series: str, year: int, day: int) -> int:
        """Collected from 1 January to ``day`` (the last report on or before it, per line)."""
        return sum(self._line_ytd(s, year, day) for s in self.members[series])

    def complete(self, series: str, year: int) -> bool:
        """The year has reports into its last week (a finished year to learn from)."""
        return self.reported_through(series, year) >= 358

    def _cap(self, s: str, year: int) -> float:
        """The day above which a line's collection counts as a lump: ``lump_factor`` × its median day
        (frozen once the year has 40 reports; before that, the previous year's median scaled by the plans)."""
        ly = self._data.get((s, year))
        n = len(ly.days) if ly else 0
        cached = self._caps.get((s, year))
        if cached is not None and (cached[0] >= 40 or cached[0] == n):
            return cached[1]
        values = sorted(v for v in (ly.amount.values() if ly else ()) if v > 0)
        if len(values) < 20:
            prev = self._data.get((s, year - 1))
            pv = sorted(v for v in (prev.amount.values() if prev else ()) if v > 0)
            scale = (ly.plan_council / prev.plan_council) if ly and prev and prev.plan_council else 1.0
            base = statistics.median(pv) * scale if pv else (statistics.median(values) if values else 0.0)
        else:
            base = statistics.median(values)
        cap = self.lump_factor * base if base > 0 else math.inf
        self._caps[(s, year)] = (n, cap)
        return cap

    def _prefix(self, s: str, year: int) -> tuple[list[int], list[float], list[float]] | None:
        """(days, cumulative capped amount, cumulative lump excess) of one line-year, cached."""
        ly = self._data.get((s, year))
        if ly is None:
            return None
        cap = self._cap(s, year)
        key = (s, year)
        cached = self._prefixes.get(key)
        if cached is not None and cached[0] == len(ly.days) and cached[1] == cap:
            return cached[2]
        capped, excess, c, x = [0.0], [0.0], 0.0, 0.0
        for d in ly.days:
            a = ly.amount[d]
            c += min(a, cap)
            x += max(0.0, a - cap)
            capped.append(c)
            excess.append(x)
        out = (ly.days, capped, excess)
        self._prefixes[key] = (len(ly.days), cap, out)
        return out

    def capped_sum(self, series: str, year: int, first: int, last: int) -> tuple[float, int]:
        """(lump-capped collection over days ``first``…``last``, treasury days reported in it)."""
        total, days = 0.0, 0
        for s in self.members[series]:
            pre = self._prefix(s, year)
            if pre is None:
                continue
            ds, capped, _ = pre
            lo, hi = bisect.bisect_left(ds, first), bisect.bisect_right(ds, last)
            total += capped[hi] - capped[lo]
            days = max(days, hi - lo)
        return total, days

    def capped_days(self, series: str, year: int, first: int, last: int) -> list[float]:
        """The lump-capped collection of each treasury day in ``first``…``last`` (series summed)."""
        by_day: dict[int, float] = {}
        for s in self.members[series]:
            ly = self._data.get((s, year))
            if ly is None:
                continue
            cap = self._cap(s, year)
            lo, hi = bisect.bisect_left(ly.days, first), bisect.bisect_right(ly.days, last)
            for d in ly.days[lo:hi]:
                by_day[d] = by_day.get(d, 0.0) + min(ly.amount[d], cap)
        return [by_day[d] for d in sorted(by_day)]

    def lumps(self, series: str, year: int, first: int, last: int) -> float:
        """What lumps added above their cap over days ``first``…``last``."""
        excess = 0.0
        for s in self.members[series]:
            pre = self._prefix(s, year)
            if pre is None:
                continue
            ds, _, ex = pre
            lo, hi = bisect.bisect_left(ds, first), bisect.bisect_right(ds, last)
            excess += ex[hi] - ex[lo]
        return excess

    def label(self, series: str, lang: str) -> str:
        if series in AGGREGATE_NAMES:
            return AGGREGATE_NAMES[series][0 if lang == "vi" else 1]
        li = self.lines[series]
        return li.short_vi if lang == "vi" else li.short_en


def previous_years(book: BudgetBook, series: str, year: int, history: int) -> list[int]:
    """Up to ``history`` finished years before ``year`` with a plan, most recent last."""
    ys = [y for y in book.years(series) if y < year and book.complete(series, y) and book.plan(series, y, "council")]
    return ys[-history:]


@dataclass(frozen=True, slots=True)
class Trajectory:
    """The usual share of the plan collected by one day (previous years), and this year's."""

    day: int
    share: float  # this year, of the plan
    usual: float  # mean over previous years
    band: float  # spread used for the warning (sd with floors)
    years: tuple[int, ...]


def trajectory(book: BudgetBook, series: str, year: int, day: int, *, plan: PlanKind = "council", history: int = 3,
               min_band: float = 0.02, rel_band: float = 0.0, capped: bool = False) -> Trajectory | None:  # fmt: skip
    """This year's share of the plan at ``day`` against the previous years' (None without two years).

    ``capped``: lumps count only up to their cap, this year and in the years compared with, so a
    one-off payment last January does not make this January look behind.
    """
    p = book.plan(series, year, plan)
    ys = previous_years(book, series, year, history)
    if p <= 0 or len(ys) < 2:
        return None

    def collected(y: int) -> float:
        return book.capped_sum(series, y, 1, day)[0] if capped else float(book.ytd(series, y, day))

    usual = [collected(y) / book.plan(series, y, plan) for y in ys if book.plan(series, y, plan)]
    if len(usual) < 2:
        return None
    m = statistics.fmean(usual)
    band = max(statistics.stdev(usual), min_band, rel_band * m)
    return Trajectory(day, collected(year) / p, m, band, tuple(ys))


@dataclass(frozen=True, slots=True)
class Forecast:
    value: float  # VND, the mean projection
    sd: float  # VND
    plan: int
    years: tuple[int, ...]

    @property
    def share(self) -> float:
        return self.value / self.plan

    def bounds(self, z: float) -> tuple[float, float]:
        return (self.value - z * self.sd) / self.plan, (self.value + z * self.sd) / self.plan


def forecast(book: BudgetBook, series: str, year: int, day: int, *, plan: PlanKind = "council", history: int = 3,
             rel_floor: float = 0.02) -> Forecast | None:  # fmt: skip
    """The year's outcome projected from each previous year's rhythm (lumps added as those years had them)."""
    p = book.plan(series, year, plan)
    ys = previous_years(book, series, year, history)
    if p <= 0 or len(ys) < 2:
        return None
    raw_now = book.ytd(series, year, day)
    base_now, _ = book.capped_sum(series, year, 1, day)
    projections = []
    for y in ys:
        base_then, _ = book.capped_sum(series, y, 1, day)
        base_year, _ = book.capped_sum(series, y, 1, 366)
        if base_then <= 0 or base_year <= 0:
            continue
        lumps_after = book.lumps(series, y, day + 1, 366)
        scale = p / book.plan(series, y, plan) if book.plan(series, y, plan) else 1.0
        projections.append(raw_now + base_now * (base_year / base_then - 1.0) + lumps_after * scale)
    if len(projections) < 2:
        return None
    mean = statistics.fmean(projections)
    sd = math.hypot(statistics.stdev(projections), rel_floor * mean)
    return Forecast(mean, sd, p, tuple(ys))


# --- configuration -------------------------------------------------------------------------------


class _BudgetConfig(BaseModel):
    model_config = _CFG
    id: str
    version: str = "1"
    alert_class: str = "budget"
    series: tuple[str, ...] = ()  # watched series (line ids, "total", "noi_dia"); empty: all of them
    plan: PlanKind = "council"
    history_years: int = Field(default=3, ge=2, le=10)
    sustain_days: int = Field(default=3, ge=1, le=60)  # treasury days in breach before raising
    clear_days: int = Field(default=5, ge=1, le=60)
    lump_factor: float = Field(default=6.0, gt=1)


class BudgetYtdPlanConfig(_BudgetConfig):
    """Year to date against the usual share of the plan by that day: breach below usual − k·band."""

    type: Literal["budget_ytd_plan"]
    band_sigma: float = Field(default=2.0, gt=0)
    clear_sigma: float = Field(default=1.0, ge=0)
    severe_sigma: float = Field(default=4.0, gt=0)
    min_band_pp: float = Field(default=2.0, ge=0)  # the band is at least this many points of the plan
    rel_band: float = Field(default=0.05, ge=0)  # … and at least this share of the usual value
    min_gap_pp: float = Field(default=3.0, ge=0)
    start_day: int = Field(default=20, ge=1, le=366)

    @model_validator(mode="after")
    def _hysteresis(self) -> BudgetYtdPlanConfig:
        if not self.clear_sigma <= self.band_sigma <= self.severe_sigma:
            raise ValueError("need clear_sigma ≤ band_sigma ≤ severe_sigma")
        return self


class BudgetYoyConfig(_BudgetConfig):
    """A series below the same period of the previous year: the last ``window_days`` (per treasury day)
    by more than ``window_drop``, or the year to date by more than ``ytd_drop``."""

    type: Literal["budget_yoy"]
    window_days: int = Field(default=30, ge=7, le=120)
    window_drop: float = Field(default=0.20, gt=0, lt=1)
    ytd_drop: float = Field(default=0.10, gt=0, lt=1)
    clear_margin: float = Field(default=0.05, ge=0, lt=1)  # cleared once this much above the thresholds
    severe_drop: float = Field(default=0.35, gt=0, lt=1)
    tet_guard_days: int = Field(default=12, ge=0, le=60)
    min_days: int = Field(default=15, ge=1)  # treasury days in each window
    start_day: int = Field(default=20, ge=1, le=366)
    ytd_start_day: int = Field(default=60, ge=1, le=366)  # Jan–Feb totals move with the date of Tết
    # The fall must also be large against the line's own day-to-day spread: a noisy line needs more
    # evidence (log ratio of the means at least z_min standard errors below zero).
    z_min: float = Field(default=3.0, ge=0)
    growth_adjusted: bool = True  # the window against last year's same period × this year's growth so far
    growth_min_days: int = Field(default=40, ge=10)


class BudgetForecastConfig(_BudgetConfig):
    """The year's projected outcome: raised when even its upper bound (z·sd) is below the plan."""

    type: Literal["budget_forecast"]
    z: float = Field(default=1.28, gt=0)  # 1.28: the one-sided 90 % bound
    tolerance: float = Field(default=0.02, ge=0, lt=0.5)  # below (1 − tolerance) × plan
    rel_floor: float = Field(default=0.02, ge=0)
    severe_share: float = Field(default=0.90, gt=0, le=1)
    start_day: int = Field(default=60, ge=1, le=366)


BudgetConfig = BudgetYtdPlanConfig | BudgetYoyConfig | BudgetForecastConfig


# --- the rules -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Watch:
    active: bool = False
    breach: int = 0
    calm: int = 0
    severity: Severity | None = None
    judged: int = 0  # last day judged


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a rule found on one series and day: in breach or not, and the figures to say why."""

    breach: bool
    calm: bool  # clearly back to normal (hysteresis)
    severity: Severity
    value: float
    detail_vi: str
    detail_en: str


_PLAN_VI = {"council": "dự toán HĐND", "central": "dự toán TW"}
_PLAN_EN = {"council": "the council's estimate", "central": "the central estimate"}


def _years_text(years: Sequence[int]) -> str:
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])


def _bn(v: float, lang: str) -> str:
    return fmt_num(v / BILLION, lang)


class _BudgetRule:
    """Shared state machine: per series, judge once per treasury day, raise after ``sustain_days`` in
    breach, clear after ``clear_days`` calm; severity changes are updates."""

    warning_class = "budget"
    _title: tuple[str, str] = ("", "")

    def __init__(self, cfg: BudgetConfig, lines: Mapping[str, LineInfo] | None = None,
                 book: BudgetBook | None = None) -> None:  # fmt: skip
        self.cfg = cfg
        self.id = cfg.id
        self.version = config_version(cfg.version, cfg)
        self.alert_class = cfg.alert_class
        self.book = book or BudgetBook(lines if lines is not None else registry_lines(), cfg.lump_factor)
        self.series = cfg.series or tuple(self.book.members)
        unknown = set(self.series) - set(self.book.members)
        if unknown:
            raise ValueError(f"rule {cfg.id}: unknown budget series {sorted(unknown)}; known: {sorted(self.book.members)}")
        self._watch: dict[tuple[str, int], _Watch] = {}
        self._owns_book = book is None
        self._pending: dict[str, tuple[int, int, datetime]] = {}  # series -> (year, day, at) not judged yet

    def evaluate(self, event: Event) -> list[WarningUpdate]:
        if not isinstance(event, BudgetEvent):
            return []
        if self._owns_book and not self.book.add(event):
            return []
        year, day = event.fiscal_year, doy(event.collection_date)
        out = self._close_years(year, event.event_time)
        for s in self.series:
            if event.source_id not in self.book.members[s]:
                continue
            pending = self._pending.get(s)
            if pending is not None and (pending[0], pending[1]) < (year, day):  # a day some line never reported
                out += self._judge_series(s, pending[0], pending[1], pending[2])
                self._pending.pop(s, None)
            if self.book.reported_through(s, year) >= day:
                out += self._judge_series(s, year, day, event.event_time)
                self._pending.pop(s, None)
            else:
                self._pending[s] = (year, day, event.event_time)
        return out

    def evaluate_tick(self, now: datetime) -> list[WarningUpdate]:
        return []

    def _close_years(self, year: int, at: datetime) -> list[WarningUpdate]:
        """A new fiscal year closes the warnings of the previous one (its outcome is settled)."""
        out = []
        for (s, y), w in list(self._watch.items()):
            if y < year:
                if w.active:
                    out.append(WarningUpdate(
                        kind=UpdateKind.CLEAR, key=f"{self.id}:{s}:{y}", rule_id=self.id, rule_version=self.version,
                        warning_class="budget", alert_class=self.alert_class, severity=w.severity or Severity.MODERATE,
                        at=at, source_id=s if s in self.book.lines else None,
                        title_vi=self._title[0].format(name=self.book.label(s, "vi"), year=y),
                        title_en=self._title[1].format(name=self.book.label(s, "en"), year=y),
                        detail_vi=f"năm ngân sách {y} đã kết thúc", detail_en=f"fiscal year {y} has ended",
                    ))  # fmt: skip
                del self._watch[(s, y)]
        return out

    def _judge_series(self, s: str, year: int, day: int, at: datetime) -> list[WarningUpdate]:
        w = self._watch.setdefault((s, year), _Watch())
        key = year * 1000 + day
        if key <= w.judged:
            return []
        w.judged = key
        j = self.judge(s, year, day)
        if j is None:
            return []
        if not w.active:
            w.breach = w.breach + 1 if j.breach else 0
            if w.breach >= self.cfg.sustain_days:
                w.active, w.calm, w.severity = True, 0, j.severity
                return [self._update(UpdateKind.RAISE, s, year, at, j)]
            return []
        w.calm = w.calm + 1 if j.calm else 0
        if w.calm >= self.cfg.clear_days:
            w.active, w.breach, w.severity = False, 0, None
            return [self._update(UpdateKind.CLEAR, s, year, at, j)]
        if j.breach and j.severity != w.severity:
            w.severity = j.severity
            return [self._update(UpdateKind.UPDATE, s, year, at, j)]
        return []

    def judge(self, s: str, year: int, day: int) -> Judgement | None:
        raise NotImplementedError

    def _update(self, kind: UpdateKind, s: str, year: int, at: datetime, j: Judgement) -> WarningUpdate:
        name_vi, name_en = self.book.label(s, "vi"), self.book.label(s, "en")
        title_vi, title_en = self._title
        return WarningUpdate(
            kind=kind, key=f"{self.id}:{s}:{year}", rule_id=self.id, rule_version=self.version,
            warning_class="budget", alert_class=self.alert_class, severity=j.severity, at=at,
            source_id=s if s in self.book.lines else None, value=round(j.value, 4),
            title_vi=title_vi.format(name=name_vi, year=year), title_en=title_en.format(name=name_en, year=year),
            detail_vi=j.detail_vi, detail_en=j.detail_en,
        )  # fmt: skip


class BudgetYtdPlanRule(_BudgetRule):
    _title = ("Tiến độ {name} năm {year} chậm so với dự toán", "{name} {year} behind the plan trajectory")
    cfg: BudgetYtdPlanConfig

    def judge(self, s: str, year: int, day: int) -> Judgement | None:
        c = self.cfg
        if day < c.start_day:
            return None
        lumpy = any(self.book.lines[m].lumpy for m in self.book.members[s])
        tr = trajectory(self.book, s, year, day, plan=c.plan, history=c.history_years, min_band=c.min_band_pp / 100,
                        rel_band=c.rel_band, capped=lumpy)  # fmt: skip
        if tr is None:
            return None
        gap = tr.usual - tr.share
        breach = tr.share < tr.usual - c.band_sigma * tr.band and gap >= c.min_gap_pp / 100
        calm = tr.share >= tr.usual - c.clear_sigma * tr.band
        sev = Severity.SEVERE if tr.share < tr.usual - c.severe_sigma * tr.band else Severity.MODERATE
        ytd = self.book.ytd(s, year, day)
        other = "central" if c.plan == "council" else "council"
        p_other = self.book.plan(s, year, other)
        other_vi = f"; {fmt_pct(100 * ytd / p_other, 'vi')} {_PLAN_VI[other]}" if p_other else ""
        other_en = f"; {fmt_pct(100 * ytd / p_other, 'en')} of {_PLAN_EN[other]}" if p_other else ""
        yrs = _years_text(tr.years)
        name_vi, name_en = self.book.label(s, "vi"), self.book.label(s, "en")
        note_vi = note_en = ""
        if lumpy:
            note_vi = f"; không tính phần nộp đột xuất vượt {c.lump_factor:g} lần ngày thường"
            note_en = f"; one-off payments counted up to {c.lump_factor:g} × a usual day"
        return Judgement(
            breach, calm, sev, tr.share,
            f"{name_vi} lũy kế {fmt_pct(100 * tr.share, 'vi')} {_PLAN_VI[c.plan]} ({_bn(ytd, 'vi')} tỷ đồng{other_vi}), "
            f"cùng kỳ thường {fmt_pct(100 * tr.usual, 'vi')} ± {fmt_num(100 * tr.band, 'vi', 1)} ({yrs}{note_vi})",
            f"{name_en} year to date {fmt_pct(100 * tr.share, 'en')} of {_PLAN_EN[c.plan]} "
            f"(VND {_bn(ytd, 'en')} bn{other_en}); usually {fmt_pct(100 * tr.usual, 'en')} ± "
            f"{fmt_num(100 * tr.band, 'en', 1)} by this day ({yrs}{note_en})",
        )  # fmt: skip


class BudgetYoyRule(_BudgetRule):
    _title = ("{name} năm {year} giảm so với cùng kỳ", "{name} {year} below the same period last year")
    cfg: BudgetYoyConfig

    def judge(self, s: str, year: int, day: int) -> Judgement | None:
        c = self.cfg
        prev = year - 1
        if day < c.start_day or prev not in self.book.years(s):
            return None
        book = self.book
        first = day - c.window_days + 1
        checks: list[tuple[str, float]] = []
        today = date(year, 1, 1) + timedelta(days=day - 1)
        guard = any(near_tet(date(y, 1, 1) + timedelta(days=d - 1), c.tet_guard_days)
                    for y in (year, prev) for d in range(max(1, first), day + 1, 3))  # fmt: skip
        growth = None
        if not guard:
            check = _ratio(book.capped_days(s, year, max(1, first), day), book.capped_days(s, prev, max(1, first), day),
                           c.min_days)  # fmt: skip
            if check is not None:
                # Against the same period of last year grown at this year's pace before the window, so a
                # line growing fast that suddenly falls is seen, and one growing slowly is not flagged.
                before_now, n_now = book.capped_sum(s, year, 1, first - 1)
                before_then, n_then = book.capped_sum(s, prev, 1, first - 1)
                if c.growth_adjusted and min(n_now, n_then) >= c.growth_min_days and before_then > 0 and before_now > 0:
                    growth = before_now / before_then
                    check = ((1 + check[0]) / growth - 1, check[1] - math.log(growth) / check[2], check[2])
                checks.append(("window", *check))
        tet_then = date(prev, 1, 1) + timedelta(days=day - 1)
        if day >= c.ytd_start_day and not near_tet(today, c.tet_guard_days) and not near_tet(tet_then, c.tet_guard_days):
            check = _ratio(book.capped_days(s, year, 1, day), book.capped_days(s, prev, 1, day), c.min_days)
            if check is not None:
                checks.append(("ytd", *check))
        if not checks:
            return None
        limits = {"window": c.window_drop, "ytd": c.ytd_drop}
        worst_name, worst, _, _ = min(checks, key=lambda kv: kv[1] + limits[kv[0]])  # the furthest past its limit
        breach = any(v <= -limits[n] and z <= -c.z_min for n, v, z, _ in checks)
        calm = all(v > -limits[n] + c.clear_margin or z > -c.z_min / 2 for n, v, z, _ in checks)
        sev = Severity.SEVERE if worst <= -c.severe_drop else Severity.MODERATE
        name_vi, name_en = book.label(s, "vi"), book.label(s, "en")
        if worst_name == "window" and growth is not None:
            vi = (f"{name_vi} {c.window_days} ngày gần nhất bằng {fmt_pct(100 * (1 + worst), 'vi')} cùng kỳ năm {prev} "
                  f"đã tính tốc độ tăng từ đầu năm ({fmt_pct(100 * (growth - 1), 'vi')})")
            en = (f"{name_en} over the last {c.window_days} days at {fmt_pct(100 * (1 + worst), 'en')} of the same period "
                  f"of {prev} grown at this year's pace ({fmt_pct(100 * (growth - 1), 'en')})")
        elif worst_name == "window":
            vi = f"{name_vi} {c.window_days} ngày gần nhất bằng {fmt_pct(100 * (1 + worst), 'vi')} cùng kỳ năm {prev}"
            en = f"{name_en} over the last {c.window_days} days at {fmt_pct(100 * (1 + worst), 'en')} of the same period of {prev}"
        else:
            vi = f"{name_vi} lũy kế bằng {fmt_pct(100 * (1 + worst), 'vi')} cùng kỳ năm {prev}"
            en = f"{name_en} year to date at {fmt_pct(100 * (1 + worst), 'en')} of the same period of {prev}"
        limit = limits[worst_name]
        vi += f" (ngưỡng cảnh báo giảm {fmt_pct(100 * limit, 'vi', 0)}; tính theo ngày làm việc, khoản thu đột biến tính tối đa {c.lump_factor:g} lần ngày thường)"
        en += f" (warning below −{fmt_pct(100 * limit, 'en', 0)}; per treasury day, lumps capped at {c.lump_factor:g} × a usual day)"
        return Judgement(breach, calm, sev, 1 + worst, vi, en)


def _ratio(now: Sequence[float], then: Sequence[float], min_days: int) -> tuple[float, float, float] | None:
    """(mean now / mean then − 1, its log in standard errors, the standard error) per treasury day, or None."""
    if len(now) < min_days or len(then) < min_days:
        return None
    m1, m0 = statistics.fmean(now), statistics.fmean(then)
    if m1 <= 0 or m0 <= 0:
        return None
    cv1, cv0 = statistics.pstdev(now) / m1, statistics.pstdev(then) / m0
    se = math.sqrt(cv1 * cv1 / len(now) + cv0 * cv0 / len(then)) or 1e-9
    return m1 / m0 - 1.0, math.log(m1 / m0) / se, se


class BudgetForecastRule(_BudgetRule):
    _title = ("Dự báo {name} năm {year} không đạt dự toán", "{name} {year} forecast below the plan")
    cfg: BudgetForecastConfig

    def judge(self, s: str, year: int, day: int) -> Judgement | None:
        c = self.cfg
        if day < c.start_day:
            return None
        fc = forecast(self.book, s, year, day, plan=c.plan, history=c.history_years, rel_floor=c.rel_floor)
        if fc is None:
            return None
        lo, hi = fc.bounds(c.z)
        breach = hi < 1.0 - c.tolerance
        calm = hi >= 1.0 - c.tolerance / 2
        sev = Severity.SEVERE if fc.share < c.severe_share else Severity.MODERATE
        yrs = _years_text(fc.years)
        name_vi, name_en = self.book.label(s, "vi"), self.book.label(s, "en")
        conf = round(100 * (0.5 * (1 + math.erf(c.z / math.sqrt(2)))))
        return Judgement(
            breach, calm, sev, fc.share,
            f"dự báo {name_vi} cả năm {_bn(fc.value, 'vi')} tỷ đồng = {fmt_pct(100 * fc.share, 'vi')} "
            f"{_PLAN_VI[c.plan]} (khoảng {fmt_num(100 * lo, 'vi', 1)}–{fmt_num(100 * hi, 'vi', 1)} %, độ tin cậy "
            f"{conf} % một phía), theo nhịp thu các năm {yrs}",
            f"{name_en} forecast for the year VND {_bn(fc.value, 'en')} bn = {fmt_pct(100 * fc.share, 'en')} of "
            f"{_PLAN_EN[c.plan]} (range {fmt_num(100 * lo, 'en', 1)}–{fmt_num(100 * hi, 'en', 1)} %, one-sided "
            f"{conf} %), from the collection rhythm of {yrs}",
        )  # fmt: skip


def build_budget_rule(cfg: BudgetConfig, lines: Mapping[str, LineInfo] | None = None,
                      book: BudgetBook | None = None) -> _BudgetRule:  # fmt: skip
    match cfg:
        case BudgetYtdPlanConfig():
            return BudgetYtdPlanRule(cfg, lines, book)
        case BudgetYoyConfig():
            return BudgetYoyRule(cfg, lines, book)
        case BudgetForecastConfig():
            return BudgetForecastRule(cfg, lines, book)
    raise TypeError(f"not a budget rule configuration: {cfg!r}")


def open_days(year: int) -> list[date]:
    """The treasury's working days of ``year``."""
    d, out = date(year, 1, 1), []
    while d.year == year:
        if treasury_open(d):
            out.append(d)
        d += timedelta(days=1)
    return out


Lines = Callable[[], Mapping[str, LineInfo]]

__all__ = [
    "AGGREGATE_NAMES",
    "DOMESTIC",
    "TOTAL",
    "BudgetBook",
    "BudgetConfig",
    "BudgetForecastConfig",
    "BudgetForecastRule",
    "BudgetYoyConfig",
    "BudgetYoyRule",
    "BudgetYtdPlanConfig",
    "BudgetYtdPlanRule",
    "Forecast",
    "LineInfo",
    "Trajectory",
    "build_budget_rule",
    "forecast",
    "open_days",
    "registry_lines",
    "trajectory",
]
