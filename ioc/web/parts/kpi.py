"""Snapshot part ``kpi``: the leaders' cockpit, read once per tick for every viewer (five statements).

The 766 index per unit, sector and city for the current month, quarter, six months and year, each
against its previous period (movement in the ranking) and the year before, from the intake's
counters with the code the CSV command runs (:mod:`ioc.kpi.live`); the city's monthly trend; the
late and overdue dossiers behind the numbers (at most :data:`LATE_PER_UNIT` per unit, for the
drill-down); the open overdue count per unit; citizen reports answered on time by unit this month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

import psycopg

from ioc.kpi.index766 import ScoreCard
from ioc.kpi.live import (
    LOCAL,
    Period,
    PeriodIndex,
    city_card,
    monthly_city,
    period_containing,
    period_index,
    read_accumulators,
)
from ioc.tickets.workflow import OPEN_STATUSES
from ioc.web.parts import SnapshotPart

LATE_PER_UNIT = 25
TREND_MONTHS = 12
KINDS = ("month", "quarter", "half", "year")


@dataclass(frozen=True, slots=True)
class LateDossier:
    """A dossier behind a late figure (no personal data: dossiers carry none)."""

    dossier_id: str
    unit: str
    procedure_name: str | None
    channel: str | None
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None  # None: still open, past due
    supplement_requests: int


@dataclass(frozen=True, slots=True)
class ReportsOnTime:
    """Citizen reports (tickets) of one admin unit (or the city) this month."""

    received: int
    answered: int
    answered_on_time: int
    open_overdue: int

    @property
    def on_time_rate(self) -> float | None:
        return None if self.answered == 0 else self.answered_on_time / self.answered


@dataclass(frozen=True, slots=True)
class KpiPart:
    now: datetime
    periods: Mapping[str, PeriodIndex]  # by kind: month, quarter, half, year
    trend: tuple[tuple[str, ScoreCard], ...]  # the city, month by month, oldest first
    late: Mapping[str, tuple[LateDossier, ...]]  # by unit, most overdue first
    overdue_open: Mapping[str, int]  # open dossiers past due, by unit
    reports: Mapping[str, ReportsOnTime]  # by ticket admin unit name; "*" = the city
    accumulators: Mapping = field(default_factory=dict, repr=False)  # (unit, month, sector) → accumulator

    def period(self, kind: str = "month") -> PeriodIndex | None:
        return self.periods.get(kind)

    def unit_trend(self, unit: str) -> tuple[tuple[str, ScoreCard], ...]:
        """One unit's card month by month (from the accumulators already read: no query)."""
        months = _trend_months(self.now)
        return monthly_city(self.accumulators, months, self.now, unit=unit)

    def cards(self, kind: str, unit: str | None = None) -> tuple[ScoreCard | None, ScoreCard | None, ScoreCard | None]:
        """The city's (or one unit's) card this period, the period before and the same period a year
        before, each ``None`` without dossiers (a unit's from the accumulators already read: no query)."""
        pi = self.periods.get(kind)
        if pi is None:
            return None, None, None
        if unit is None:
            return (pi.city if pi.city.dossiers else None), pi.previous_city, pi.year_before_city
        p = pi.period
        cur, prev, yoy = (city_card(self.accumulators, q, self.now, unit=unit) for q in (p, p.previous(), p.year_before()))
        return tuple(c if c.dossiers else None for c in (cur, prev, yoy))  # type: ignore[return-value]


EMPTY = KpiPart(datetime(2000, 1, 1, tzinfo=LOCAL), MappingProxyType({}), (), MappingProxyType({}),
                MappingProxyType({}), MappingProxyType({}))  # fmt: skip


def _trend_months(now: datetime) -> list[Period]:
    m = period_containing("month", now.astimezone(LOCAL).date())
    out = [m]
    for _ in range(TREND_MONTHS - 1):
        out.append(out[-1].previous())
    return out[::-1]


_LATE = (
    "SELECT dossier_id, unit, procedure_name, channel, received_at, due_at, completed_at, supplement_requests FROM ("
    " SELECT *, row_number() OVER (PARTITION BY unit ORDER BY (coalesce(completed_at, %(now)s) - due_at) DESC) AS rn"
    " FROM dossiers WHERE month >= %(since)s AND received_at IS NOT NULL AND ("
    "  (completed_at IS NULL AND due_at < %(now)s) OR completed_at > due_at OR supplement_requests > 1)"
    ") x WHERE rn <= %(n)s ORDER BY unit, rn"
)
_OVERDUE = (
    "SELECT unit, count(*) FROM dossiers WHERE completed_at IS NULL AND received_at IS NOT NULL AND due_at < %s"
    " GROUP BY unit"
)
_REPORTS = (
    "SELECT coalesce(admin_unit, '—'), count(*), count(first_answered_at),"
    " count(*) FILTER (WHERE first_answered_at <= deadline),"
    " count(*) FILTER (WHERE status = ANY(%(open)s) AND deadline < %(now)s)"
    " FROM tickets WHERE received_at >= %(since)s AND merged_into IS NULL GROUP BY ROLLUP (1)"
)


def read(conn: psycopg.Connection, asof: datetime) -> KpiPart:
    today = asof.astimezone(LOCAL).date()
    since = date(today.year - 1, 1, 1)
    accs = read_accumulators(conn, since, date(today.year + 1, 1, 1))  # statements 1 and 2
    memo: dict = {}  # each accumulator counted once per evaluation moment, across periods
    periods = {k: period_index(accs, period_containing(k, today), asof, memo) for k in KINDS}
    trend = monthly_city(accs, _trend_months(asof), asof, memo=memo)
    month_start = period_containing("month", today).start
    late: dict[str, list[LateDossier]] = {}
    rows = conn.execute(_LATE, {"now": asof, "since": period_containing("quarter", today).previous().start,
                                "n": LATE_PER_UNIT}).fetchall()  # fmt: skip
    for r in rows:
        late.setdefault(r[1], []).append(LateDossier(*r))
    overdue = dict(conn.execute(_OVERDUE, (asof,)).fetchall())
    start = datetime.combine(month_start, datetime.min.time(), LOCAL)
    reports = {}
    for unit, received, answered, on_time, open_overdue in conn.execute(
            _REPORTS, {"now": asof, "since": start, "open": sorted(OPEN_STATUSES)}).fetchall():
        reports["*" if unit is None else unit] = ReportsOnTime(received, answered, on_time, open_overdue)
    return KpiPart(asof, MappingProxyType(periods), trend, MappingProxyType({k: tuple(v) for k, v in late.items()}),
                   MappingProxyType(overdue), MappingProxyType(reports), MappingProxyType(accs))  # fmt: skip


PARTS = (SnapshotPart("kpi", read, queries=5, every=2, default=EMPTY),)
