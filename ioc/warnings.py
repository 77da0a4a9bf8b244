"""The early-warning desk's read models: budget revenue, public order, floods, the SOC, simulations.

Frozen dataclasses and one-statement queries (constant SQL, parameters only). The snapshot parts
(``ioc/web/parts/warnings.py``) run them once per tick for every viewer; the pages and the layers
(``layers/water.py``, ``layers/public_order.py``, ``layers/simulation.py``) read the results from the
snapshot. Data scoping (a ward user sees only its units) is a parameter of the functions that
select rows for display (``scope``: admin-unit codes, ``None`` for city-wide), so the access policy
can be wired in one place. No personal data is read: flood signals carry a ticket id or a camera id
and a position, never a reporter.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, LiteralString
from zoneinfo import ZoneInfo

import psycopg

from ioc.sources.public_order import CASUALTIES, INCIDENT_TYPES

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
PO_TYPES = (*INCIDENT_TYPES, *CASUALTIES)
#: Rule-id prefixes of the early warnings (their alerts are listed on the panels).
WARNING_RULE_PATTERNS = ("budget-%", "public-order-%", "flood-%", "soc-%")
Scope = frozenset[str] | None


def in_scope(unit: str | None, scope: Scope) -> bool:
    return scope is None or (unit is not None and unit in scope)


# --- alerts of the early warnings ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WarningAlert:
    alert_id: str
    rule_id: str
    alert_class: str
    severity: str
    state: str
    active: bool
    title_vi: str
    title_en: str
    detail_vi: str
    detail_en: str
    admin_unit: str | None
    source_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def family(self) -> str:
        for prefix, fam in (("budget-", "budget"), ("public-order-", "public_order"), ("flood-", "flood"),
                            ("soc-", "soc")):  # fmt: skip
            if self.rule_id.startswith(prefix):
                return fam
        return self.alert_class

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi

    def detail(self, lang: str) -> str:
        return self.detail_en if lang == "en" else self.detail_vi


Q_WARNING_ALERTS: LiteralString = (
    "SELECT alert_id::text, rule_id, alert_class, severity, state, active, title_vi, title_en, detail_vi, detail_en,"
    " admin_unit, source_id, created_at, updated_at FROM alerts WHERE state <> 'resolved' AND rule_id LIKE ANY(%s)"
    " ORDER BY updated_at DESC LIMIT 200"
)


def warning_alerts(conn: psycopg.Connection) -> tuple[WarningAlert, ...]:
    return tuple(WarningAlert(*r) for r in conn.execute(Q_WARNING_ALERTS, (list(WARNING_RULE_PATTERNS),)).fetchall())


# --- budget ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetDay:
    fiscal_year: int
    source_id: str
    collection_date: date
    amount_vnd: int
    ytd_vnd: int
    plan_central_vnd: int
    plan_council_vnd: int


Q_BUDGET_DAYS: LiteralString = (
    "SELECT DISTINCT ON (source_id, collection_date) fiscal_year, source_id, collection_date, amount_vnd, ytd_vnd,"
    " plan_central_vnd, plan_council_vnd FROM budget_events WHERE fiscal_year >= %s AND collection_date <= %s"
    " ORDER BY source_id, collection_date, event_time DESC"
)


def budget_days(conn: psycopg.Connection, asof: datetime, years: int = 4) -> list[BudgetDay]:
    """The last report per line and day, for this year and the ``years − 1`` before."""
    today = asof.astimezone(LOCAL).date()
    return [BudgetDay(*r) for r in conn.execute(Q_BUDGET_DAYS, (today.year - years + 1, today)).fetchall()]


@dataclass(frozen=True, slots=True)
class LineFigures:
    """One series of the budget panel: collected, against both plans, the usual, the year before, the forecast."""

    series: str
    label_vi: str
    label_en: str
    ytd_vnd: int
    plan_council_vnd: int
    plan_central_vnd: int
    usual_share: float | None  # of the council plan by this day, previous years
    band: float | None
    yoy: float | None  # ytd / same period last year
    forecast_share: float | None
    forecast_lo: float | None
    forecast_hi: float | None

    @property
    def share_council(self) -> float | None:
        return self.ytd_vnd / self.plan_council_vnd if self.plan_council_vnd else None

    @property
    def share_central(self) -> float | None:
        return self.ytd_vnd / self.plan_central_vnd if self.plan_central_vnd else None

    @property
    def behind(self) -> bool:
        """Below the usual trajectory by more than the band."""
        s = self.share_council
        return s is not None and self.usual_share is not None and self.band is not None and (
            s < self.usual_share - 2 * self.band)


@dataclass(frozen=True, slots=True)
class Curve:
    year: int
    days: tuple[int, ...]  # day of year
    shares: tuple[float, ...]  # YTD / council plan


@dataclass(frozen=True)
class BudgetPanel:
    """What the budget panel draws (total revenue's curves, every line's figures)."""

    year: int | None
    day: int | None
    reported_through: date | None
    lines: tuple[LineFigures, ...] = ()
    curves: tuple[Curve, ...] = ()  # total revenue, one per year
    usual_days: tuple[int, ...] = ()
    usual_mean: tuple[float, ...] = ()
    usual_band: tuple[float, ...] = ()
    usual_years: tuple[int, ...] = ()
    monthly: tuple[tuple[str, int, tuple[float, ...]], ...] = ()  # (series, year, 12 monthly sums in VND)

    @property
    def empty(self) -> bool:
        return self.year is None


EMPTY_BUDGET = BudgetPanel(None, None, None)


# --- public order ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitCounts:
    admin_unit: str
    counts: tuple[int, ...]  # in PO_TYPES order, over the last 24 h

    @property
    def incidents(self) -> int:
        return sum(self.counts[: len(INCIDENT_TYPES)])

    def count(self, kind: str) -> int:
        return self.counts[PO_TYPES.index(kind)]


@dataclass(frozen=True, slots=True)
class HourCounts:
    hour: datetime
    counts: tuple[int, ...]  # PO_TYPES order, city-wide


@dataclass(frozen=True)
class PublicOrderView:
    asof: datetime | None
    units: tuple[UnitCounts, ...] = ()
    hourly: tuple[HourCounts, ...] = ()  # last 7 days, city-wide

    def totals(self, hours: int = 24) -> tuple[int, ...]:
        """City-wide counts over the last ``hours`` (PO_TYPES order)."""
        if self.asof is None:
            return tuple(0 for _ in PO_TYPES)
        since = self.asof - timedelta(hours=hours)
        out = [0] * len(PO_TYPES)
        for h in self.hourly:
            if h.hour >= since:
                out = [a + b for a, b in zip(out, h.counts, strict=True)]
        return tuple(out)

    def scoped(self, scope: Scope) -> tuple[UnitCounts, ...]:
        """The units a user may see (``None``: all)."""
        return tuple(u for u in self.units if in_scope(u.admin_unit, scope))


EMPTY_PUBLIC_ORDER = PublicOrderView(None)

_SUMS: LiteralString = ", ".join(f"coalesce(sum({c}), 0)::int" for c in PO_TYPES)  # type: ignore[assignment]
Q_PO_UNITS: LiteralString = (
    "SELECT admin_unit, " + _SUMS + " FROM public_order_events WHERE period_start >= %s AND period_start < %s"
    " AND admin_unit IS NOT NULL GROUP BY admin_unit ORDER BY admin_unit"
)
Q_PO_HOURLY: LiteralString = (
    "SELECT date_bin(INTERVAL '1 hour', period_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour, " + _SUMS +
    " FROM public_order_events WHERE period_start >= %s AND period_start < %s GROUP BY 1 ORDER BY 1"
)


def public_order_units(conn: psycopg.Connection, asof: datetime) -> tuple[UnitCounts, ...]:
    rows = conn.execute(Q_PO_UNITS, (asof - timedelta(hours=24), asof)).fetchall()
    return tuple(UnitCounts(r[0], tuple(int(x) for x in r[1:])) for r in rows)


def public_order_hourly(conn: psycopg.Connection, asof: datetime) -> tuple[HourCounts, ...]:
    rows = conn.execute(Q_PO_HOURLY, (asof - timedelta(days=7), asof)).fetchall()
    return tuple(HourCounts(r[0], tuple(int(x) for x in r[1:])) for r in rows)


# --- floods ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelPoint:
    at: datetime
    level_m: float


@dataclass(frozen=True, slots=True)
class GaugeLevels:
    source_id: str
    points: tuple[LevelPoint, ...]  # 10-minute means over the last 24 h

    @property
    def latest(self) -> LevelPoint | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True, slots=True)
class RainTotals:
    source_id: str
    mm_1h: float
    mm_3h: float
    mm_24h: float
    at: datetime | None


@dataclass(frozen=True, slots=True)
class FloodSignal:
    """A flooded-street signal: a citizen report (ticket id) or a camera's detection; no personal data."""

    origin: str  # report | camera
    ref: str
    lon: float
    lat: float
    at: datetime
    admin_unit: str | None


@dataclass(frozen=True, slots=True)
class FloodAreaView:
    area_id: str
    name: str
    depth_cm: float | None
    observed_at: datetime
    author: str
    origin: str
    prone: bool
    geometry: Mapping[str, Any]


@dataclass(frozen=True)
class FloodView:
    asof: datetime | None
    levels: tuple[GaugeLevels, ...] = ()
    rain: tuple[RainTotals, ...] = ()
    signals: tuple[FloodSignal, ...] = ()
    areas: tuple[FloodAreaView, ...] = ()

    def level(self, source_id: str) -> GaugeLevels | None:
        return next((g for g in self.levels if g.source_id == source_id), None)

    def rain_at(self, source_id: str) -> RainTotals | None:
        return next((r for r in self.rain if r.source_id == source_id), None)


EMPTY_FLOODS = FloodView(None)

Q_WATER: LiteralString = (
    "SELECT source_id, date_bin(INTERVAL '10 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS t,"
    " avg(level_m)::float8 FROM water_1m WHERE bucket > %s AND bucket <= %s GROUP BY 1, 2 ORDER BY 1, 2"
)
Q_RAIN: LiteralString = (
    "SELECT source_id, coalesce(sum(rain_mm) FILTER (WHERE bucket > %s), 0)::float8,"
    " coalesce(sum(rain_mm) FILTER (WHERE bucket > %s), 0)::float8, coalesce(sum(rain_mm), 0)::float8, max(bucket)"
    " FROM rain_1m WHERE bucket > %s AND bucket <= %s GROUP BY source_id ORDER BY source_id"
)
Q_FLOOD_SIGNALS: LiteralString = (
    "SELECT 'report', ticket_id, lon, lat, event_time, admin_unit FROM feedback_events"
    " WHERE action = 'created' AND event_time > %s AND event_time <= %s"
    " AND (category = ANY(%s) OR text ~* %s)"
    " UNION ALL SELECT 'camera', c.source_id, s.lon, s.lat, max(c.event_time), s.admin_unit FROM camera_events c"
    " JOIN sources s ON s.source_id = c.source_id WHERE c.event_time > %s AND c.event_time <= %s"
    " AND c.top_detection = 'flooding' AND c.top_confidence >= %s AND s.lon IS NOT NULL"
    " GROUP BY c.source_id, s.lon, s.lat, s.admin_unit"
)
FLOOD_CATEGORIES = ("flooding", "ngap_ung")
FLOOD_WORDS = "ngập|ngap|úng|lụt|flood"


def water_levels(conn: psycopg.Connection, asof: datetime) -> tuple[GaugeLevels, ...]:
    by: dict[str, list[LevelPoint]] = {}
    for sid, t, level in conn.execute(Q_WATER, (asof - timedelta(hours=24), asof)).fetchall():
        by.setdefault(sid, []).append(LevelPoint(t, float(level)))
    return tuple(GaugeLevels(sid, tuple(pts)) for sid, pts in sorted(by.items()))


def rain_totals(conn: psycopg.Connection, asof: datetime) -> tuple[RainTotals, ...]:
    rows = conn.execute(Q_RAIN, (asof - timedelta(hours=1), asof - timedelta(hours=3), asof - timedelta(hours=24),
                                 asof)).fetchall()  # fmt: skip
    return tuple(RainTotals(*r) for r in rows)


def flood_signals(conn: psycopg.Connection, asof: datetime, *, report_hours: int = 6, camera_hours: int = 1,
                  camera_confidence: float = 0.65) -> tuple[FloodSignal, ...]:  # fmt: skip
    rows = conn.execute(Q_FLOOD_SIGNALS, (
        asof - timedelta(hours=report_hours), asof, list(FLOOD_CATEGORIES), FLOOD_WORDS,
        asof - timedelta(hours=camera_hours), asof, camera_confidence,
    )).fetchall()  # fmt: skip
    return tuple(FloodSignal(*r) for r in rows)


def flood_area_views(conn: psycopg.Connection, asof: datetime, hours: int = 72) -> tuple[FloodAreaView, ...]:
    from geodata.overlays import flood_areas

    return tuple(FloodAreaView(str(a.area_id), a.name, a.depth_cm, a.observed_at, a.author, a.origin, a.prone,
                               a.geometry) for a in flood_areas(conn, asof - timedelta(hours=hours)))  # fmt: skip


# --- simulation layers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimulationView:
    layer_id: str
    name: str
    scenario_time: datetime
    author: str
    feature_count: int
    imported_at: datetime
    features: Mapping[str, Any]


def simulation_views(conn: psycopg.Connection, limit: int = 10) -> tuple[SimulationView, ...]:
    from geodata.overlays import simulation_layers

    return tuple(SimulationView(str(s.layer_id), s.name, s.scenario_time, s.author, s.feature_count, s.imported_at,
                                s.features) for s in simulation_layers(conn, limit))  # fmt: skip


# --- SOC ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SocDay:
    day: date
    origin: str
    raised: int
    resolved: int


@dataclass(frozen=True, slots=True)
class SocOpen:
    origin: str
    open_new: int
    open_in_progress: int
    at: datetime


@dataclass(frozen=True)
class SocView:
    asof: datetime | None
    open: tuple[SocOpen, ...] = ()
    days: tuple[SocDay, ...] = ()  # since 1 January (or 30 days back, whichever is earlier)

    def raised_since(self, first: date) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.days:
            if d.day >= first:
                out[d.origin] = out.get(d.origin, 0) + d.raised
        return out

    @property
    def open_total(self) -> int:
        return sum(o.open_new + o.open_in_progress for o in self.open)


EMPTY_SOC = SocView(None)

Q_SOC_OPEN: LiteralString = (
    "SELECT DISTINCT ON (origin) origin, open_new, open_in_progress, event_time FROM soc_events"
    " WHERE event_time > %s AND event_time <= %s ORDER BY origin, period_start DESC, event_time DESC"
)
Q_SOC_DAYS: LiteralString = (
    "SELECT (date_bin(INTERVAL '1 day', period_start, TIMESTAMPTZ '2000-01-01 00:00:00+07')"
    " AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, origin, sum(raised)::int, sum(resolved)::int FROM soc_events"
    " WHERE period_start >= %s AND period_start < %s GROUP BY 1, 2 ORDER BY 1, 2"
)


def soc_open(conn: psycopg.Connection, asof: datetime) -> tuple[SocOpen, ...]:
    return tuple(SocOpen(*r) for r in conn.execute(Q_SOC_OPEN, (asof - timedelta(days=2), asof)).fetchall())


def soc_days(conn: psycopg.Connection, asof: datetime) -> tuple[SocDay, ...]:
    local = asof.astimezone(LOCAL)
    jan1 = datetime(local.year, 1, 1, tzinfo=LOCAL)
    since = min(jan1, asof - timedelta(days=30))
    return tuple(SocDay(*r) for r in conn.execute(Q_SOC_DAYS, (since, asof)).fetchall())


# --- the budget panel's figures (pure) ------------------------------------------------------------------


def budget_panel(days: Sequence[BudgetDay], asof: datetime, lines: Mapping[str, Any] | None = None,
                 watched: Iterable[str] | None = None) -> BudgetPanel:  # fmt: skip
    """Curves and per-line figures from the daily reports, with the rules' own statistics
    (:mod:`alerts.budget_rules`): what the finance officer sees is what the warnings judge."""
    from alerts.budget_rules import BudgetBook, doy, forecast, registry_lines, trajectory

    if not days:
        return EMPTY_BUDGET
    book = BudgetBook(lines if lines is not None else registry_lines())
    for d in days:
        book.record(d.source_id, d.fiscal_year, d.collection_date, d.amount_vnd, d.ytd_vnd, d.plan_central_vnd,
                    d.plan_council_vnd)  # fmt: skip
    year = max(d.fiscal_year for d in days)
    day = book.reported_through("total", year)
    if day == 0:
        day = max(doy(d.collection_date) for d in days if d.fiscal_year == year)
    series = list(watched) if watched is not None else list(book.members)
    figures = []
    for s in series:
        if s not in book.members:
            continue
        tr = trajectory(book, s, year, day)
        fc = forecast(book, s, year, day)
        prev = book.ytd(s, year - 1, day)
        lo, hi = fc.bounds(1.28) if fc else (None, None)
        figures.append(LineFigures(
            s, book.label(s, "vi"), book.label(s, "en"), book.ytd(s, year, day), book.plan(s, year, "council"),
            book.plan(s, year, "central"), tr.usual if tr else None, tr.band if tr else None,
            (book.ytd(s, year, day) / prev) if prev > 0 else None, fc.share if fc else None, lo, hi,
        ))  # fmt: skip
    curves = []
    for y in book.years("total"):
        p = book.plan("total", y, "council")
        last = day if y == year else 366
        if p:
            ds = tuple(range(1, last + 1, 3))
            curves.append(Curve(y, ds, tuple(book.ytd("total", y, d) / p for d in ds)))
    usual_days, mean, band, years = [], [], [], ()
    for d in range(1, 367, 3):
        tr = trajectory(book, "total", year, min(d, 366))
        if tr is not None:
            usual_days.append(d)
            mean.append(tr.usual)
            band.append(tr.band)
            years = tr.years
    monthly = []
    for s in series:
        if s not in book.members:
            continue
        for y in book.years(s):
            sums = [0.0] * 12
            for d in days:
                if d.fiscal_year == y and d.source_id in book.members[s]:
                    sums[d.collection_date.month - 1] += d.amount_vnd
            monthly.append((s, y, tuple(sums)))
    reported = date(year, 1, 1) + timedelta(days=day - 1)
    return BudgetPanel(year, day, reported, tuple(figures), tuple(curves), tuple(usual_days), tuple(mean),
                       tuple(band), tuple(years), tuple(monthly))  # fmt: skip


def median_or_none(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


@dataclass(frozen=True)
class WarningsSummary:
    """City-level counts for the wall and /leader: open warnings per family, nothing identifying."""

    open_by_family: Mapping[str, int] = field(default_factory=dict)
    severe_by_family: Mapping[str, int] = field(default_factory=dict)


def summarise(alerts: Iterable[WarningAlert]) -> WarningsSummary:
    opened: dict[str, int] = {}
    severe: dict[str, int] = {}
    for a in alerts:
        opened[a.family] = opened.get(a.family, 0) + 1
        if a.severity in ("severe", "extreme"):
            severe[a.family] = severe.get(a.family, 0) + 1
    return WarningsSummary(opened, severe)


__all__ = [
    "EMPTY_BUDGET",
    "EMPTY_FLOODS",
    "EMPTY_PUBLIC_ORDER",
    "EMPTY_SOC",
    "PO_TYPES",
    "BudgetDay",
    "BudgetPanel",
    "FloodView",
    "PublicOrderView",
    "SimulationView",
    "SocView",
    "WarningAlert",
    "budget_days",
    "budget_panel",
    "in_scope",
    "summarise",
]
