"""The 766 index, live: periods, and the accumulators read back from the intake's tables.

Two statements serve every period and every unit: the counters per (unit, month, sector) since a
date, and the due times of the open dossiers since that date (whose on-time judgement waits for
``as_of``). From them :func:`period_index` builds, per period, an :class:`Index766Book` of the
units and the city's result with the very code the CSV command runs (``ioc.kpi.index766``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
from psycopg import sql

from ioc.kpi.index766 import (
    COUNTER_NAMES,
    VECTOR_FIELDS,
    CountVector,
    Index766Accumulator,
    Index766Book,
    Index766Counts,
    Index766Result,
    ScoreCard,
    UnitScore,
    instant,
    score,
)

LOCAL = timezone(timedelta(hours=7))
_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|H([12])|(\d{2})))?$")
Key = tuple[str, date, str]  # (unit, month, sector)


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period in Hải Phòng time: ``2026-11``, ``2026-Q3``, ``2026-H2`` or ``2026``."""

    label: str
    kind: str  # "month" | "quarter" | "half" | "year"
    start: date
    end: date  # exclusive

    @property
    def as_of_end(self) -> datetime:
        """The last second of the period (section 8's "end of the period")."""
        return datetime.combine(self.end, datetime.min.time(), LOCAL) - timedelta(seconds=1)

    def as_of(self, now: datetime) -> datetime:
        """Evaluation moment: now inside the period, its end once it is over."""
        return min(now.astimezone(LOCAL), self.as_of_end)

    def months(self) -> tuple[date, ...]:
        out, d = [], self.start
        while d < self.end:
            out.append(d)
            d = _add_months(d, 1)
        return tuple(out)

    def previous(self) -> Period:
        """The period just before (month before, quarter before …)."""
        step = {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind]
        return period_containing(self.kind, _add_months(self.start, -step))

    def year_before(self) -> Period:
        return period_containing(self.kind, _add_months(self.start, -12))


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def period_containing(kind: str, d: date) -> Period:
    """The ``kind`` period holding the local date ``d``."""
    if kind == "month":
        a = date(d.year, d.month, 1)
        return Period(f"{a:%Y-%m}", kind, a, _add_months(a, 1))
    if kind == "quarter":
        q = (d.month - 1) // 3 + 1
        a = date(d.year, 3 * q - 2, 1)
        return Period(f"{d.year}-Q{q}", kind, a, _add_months(a, 3))
    if kind == "half":
        h = 1 if d.month <= 6 else 2
        a = date(d.year, 1 if h == 1 else 7, 1)
        return Period(f"{d.year}-H{h}", kind, a, _add_months(a, 6))
    if kind == "year":
        return Period(str(d.year), kind, date(d.year, 1, 1), date(d.year + 1, 1, 1))
    raise ValueError(f"unknown period kind {kind!r}")


def parse_period(text: str) -> Period:
    """``2026-11``, ``2026-Q3``, ``2026-H2`` (6 months) or ``2026``."""
    m = _PERIOD.match(text.strip())
    if not m:
        raise ValueError(f"period must look like 2026-11, 2026-Q3, 2026-H2 or 2026, got {text!r}")
    y = int(m.group(1))
    if m.group(2):
        return period_containing("quarter", date(y, 3 * int(m.group(2)), 1))
    if m.group(3):
        return period_containing("half", date(y, 6 * int(m.group(3)), 1))
    if m.group(4):
        mo = int(m.group(4))
        if not 1 <= mo <= 12:
            raise ValueError(f"no month {mo} in {text!r}")
        return period_containing("month", date(y, mo, 1))
    return period_containing("year", date(y, 1, 1))


# ---------------------------------------------------------------------------------------------
# Reading the intake's tables (two statements)

_COUNTERS_SQL = sql.SQL("SELECT unit, month, sector, {cols} FROM dossier_counters WHERE month >= %s AND month < %s").format(
    cols=sql.SQL(", ").join(map(sql.Identifier, COUNTER_NAMES)))
_OPEN_SQL = sql.SQL(
    "SELECT unit, month, coalesce(sector, ''), due_at, (rating IS DISTINCT FROM 'unsatisfied' AND NOT complained)"
    " FROM dossiers WHERE completed_at IS NULL AND received_at IS NOT NULL AND supplement_requests <= 1"
    " AND month >= %s AND month < %s")


def read_accumulators(conn: psycopg.Connection, since: date, until: date) -> dict[Key, Index766Accumulator]:
    """One accumulator per (unit, month, sector) with months in ``[since, until)``."""
    counters = {(r[0], r[1], r[2]): dict(zip(COUNTER_NAMES, r[3:], strict=True))
                for r in conn.execute(_COUNTERS_SQL, (since, until)).fetchall()}  # fmt: skip
    open_due: dict[Key, list[tuple[int, bool]]] = {}
    for unit, month, sector, due_at, content in conn.execute(_OPEN_SQL, (since, until)).fetchall():
        open_due.setdefault((unit, month, sector), []).append((instant(due_at), bool(content)))
    keys = set(counters) | set(open_due)
    return {k: Index766Accumulator.from_counters(counters.get(k, {}), open_due.get(k, ())) for k in keys}


def book_for(accs: Mapping[Key, Index766Accumulator], period: Period, *, by: str = "unit") -> Index766Book:
    """The period's book: one merged accumulator per unit (or per sector with ``by="sector"``)."""
    grouped: dict[str, list[Index766Accumulator]] = {}
    for (unit, month, sector), acc in accs.items():
        if period.start <= month < period.end:
            grouped.setdefault(unit if by == "unit" else (sector or "—"), []).append(acc)
    return Index766Book({k: Index766Accumulator.merged(v) for k, v in grouped.items()})


@dataclass(frozen=True, slots=True)
class RankedUnit:
    """One unit's line of the league table for a period."""

    unit: str
    card: ScoreCard
    rank: int  # 1 = best total; ties share a rank
    previous_rank: int | None  # in the previous period (None: not ranked then)
    previous_total: Decimal | None

    @property
    def movement(self) -> int | None:
        """Places gained since the previous period (positive = up)."""
        return None if self.previous_rank is None else self.previous_rank - self.rank


@dataclass(frozen=True, slots=True)
class PeriodIndex:
    """The index of one period: units ranked, the city, the sectors, and the previous period's city."""

    period: Period
    as_of: datetime
    units: tuple[RankedUnit, ...]  # best first
    city: ScoreCard
    sectors: tuple[tuple[str, ScoreCard], ...]
    previous_city: ScoreCard | None
    year_before_city: ScoreCard | None

    def unit(self, code: str) -> RankedUnit | None:
        return next((u for u in self.units if u.unit == code), None)


def _ranks(result: Index766Result) -> dict[str, int]:
    ordered = sorted(result.units, key=lambda u: (-u.card.total, u.unit))
    ranks: dict[str, int] = {}
    prev_total, prev_rank = None, 0
    for i, u in enumerate(ordered, start=1):
        if u.card.total != prev_total:
            prev_rank, prev_total = i, u.card.total
        ranks[u.unit] = prev_rank
    return ranks


Memo = dict[tuple[Key, datetime], CountVector]


def _vector(acc: Index766Accumulator, key: Key, t: datetime, memo: Memo | None) -> CountVector:
    if memo is None:
        return acc.vector(t)
    c = memo.get((key, t))
    if c is None:
        c = memo[(key, t)] = acc.vector(t)
    return c


def _pooled(vectors: list[CountVector]) -> Index766Counts:
    """Counts of parts together: plain integer sums (element-wise, in C)."""
    return Index766Counts.from_vector(tuple(map(sum, zip(*vectors, strict=True))) if vectors else (0,) * len(VECTOR_FIELDS))


def _result(accs: Mapping[Key, Index766Accumulator], period: Period, now: datetime, *,
            by: str = "unit", memo: Memo | None = None) -> Index766Result:
    """What ``book_for(accs, period, by=by).result(as_of)`` gives, without merging the due-time lists:
    counts at ``as_of`` are additive, so each group's counts are its parts' counts pooled."""
    t = period.as_of(now)
    parts: dict[str, list[CountVector]] = {}
    for key, acc in accs.items():
        unit, month, sector = key
        if period.start <= month < period.end:
            parts.setdefault(unit if by == "unit" else (sector or "—"), []).append(_vector(acc, key, t, memo))
    counts = {k: _pooled(v) for k, v in sorted(parts.items())}
    city = _pooled([v for vs in parts.values() for v in vs])
    return Index766Result(t, tuple(UnitScore(k, score(c)) for k, c in counts.items()), score(city))


def city_card(accs: Mapping[Key, Index766Accumulator], period: Period, now: datetime,
              unit: str | None = None, memo: Memo | None = None) -> ScoreCard:
    """The city's (or one unit's) card: the pooled counts, scored once (no per-unit scoring)."""
    t = period.as_of(now)
    parts = [_vector(acc, key, t, memo) for key, acc in accs.items()
             if period.start <= key[1] < period.end and (unit is None or key[0] == unit)]  # fmt: skip
    return score(_pooled(parts))


def period_index(accs: Mapping[Key, Index766Accumulator], period: Period, now: datetime,
                 memo: Memo | None = None) -> PeriodIndex:
    """Rank the units of ``period`` (evaluated at now, or the period's end) against the previous period."""
    memo = {} if memo is None else memo  # counts of one accumulator at one moment, computed once
    res = _result(accs, period, now, memo=memo)
    prev = _result(accs, period.previous(), now, memo=memo)
    yoy = city_card(accs, period.year_before(), now, memo=memo)
    ranks, prev_ranks = _ranks(res), _ranks(prev)
    prev_totals = {u.unit: u.card.total for u in prev.units}
    units = tuple(sorted(
        (RankedUnit(u.unit, u.card, ranks[u.unit], prev_ranks.get(u.unit), prev_totals.get(u.unit)) for u in res.units),
        key=lambda r: (r.rank, r.unit)))  # fmt: skip
    as_of = period.as_of(now)
    sectors = _result(accs, period, now, by="sector", memo=memo)
    return PeriodIndex(period, as_of, units, res.city, tuple((s.unit, s.card) for s in sectors.units),
                       prev.city if prev.city.dossiers else None, yoy if yoy.dossiers else None)


def monthly_city(accs: Mapping[Key, Index766Accumulator], months: Iterable[Period], now: datetime,
                 unit: str | None = None, memo: Memo | None = None) -> tuple[tuple[str, ScoreCard], ...]:
    """The city's (or one unit's) card per month, for the trend lines."""
    return tuple((m.label, city_card(accs, m, now, unit, memo)) for m in months)
