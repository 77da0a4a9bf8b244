"""On-time completion per recipient, and the KPI ``directives.on_time`` of ``ioc/kpi/catalogue.yaml``.

The catalogue's definition: among the tasks due in the period, the share done by their deadline;
tasks not yet due are left out; an extended task counts against its new deadline. Here a *task*
is one recipient's part of a directive (an assignment), *due in the period* means its current
deadline falls in the period and has passed (or it is already accepted), and *done by the
deadline* means the report the leader accepted came in no later than that deadline. Cancelled
parts are left out. One statement per call, whatever the number of directives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from ioc.directives.recipients import registry
from ioc.tickets.calendar import TZ

KPI_ID = "directives.on_time"
_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime  # inclusive, local midnight
    end: datetime  # exclusive


def parse_period(text: str) -> Period:
    """``2026-Q3``, ``2026-07`` or ``2026`` (Vietnam time)."""
    m = _PERIOD.match(text.strip())
    if not m:
        raise ValueError(f"period must look like 2026-Q3, 2026-07 or 2026, got {text!r}")
    y = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        a, b = date(y, 3 * q - 2, 1), date(y + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    elif m.group(3):
        mo = int(m.group(3))
        if not 1 <= mo <= 12:
            raise ValueError(f"no month {mo} in {text!r}")
        a, b = date(y, mo, 1), date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    else:
        a, b = date(y, 1, 1), date(y + 1, 1, 1)
    return Period(text.strip(), datetime.combine(a, datetime.min.time(), TZ), datetime.combine(b, datetime.min.time(), TZ))


@dataclass(frozen=True, slots=True)
class OnTimeRow:
    """One recipient's figures for a period (``rate`` is None when nothing was due)."""

    recipient_code: str
    recipient_name: str
    assigned: int
    due: int
    on_time: int
    late: int
    open_overdue: int

    @property
    def rate(self) -> float | None:
        return None if self.due == 0 else self.on_time / self.due


@dataclass(frozen=True, slots=True)
class OnTimeKpi:
    """The KPI for the cockpit: the city's value and the ranking of recipients (best first)."""

    kpi_id: str
    period: str
    value_percent: float | None
    numerator: int
    denominator: int
    ranking: tuple[OnTimeRow, ...]


_RATES = (
    "SELECT recipient_code, count(*) AS assigned,"
    " count(*) FILTER (WHERE status = 'accepted' OR deadline < %(now)s) AS due,"
    " count(*) FILTER (WHERE status = 'accepted' AND on_time) AS on_time,"
    " count(*) FILTER (WHERE (status = 'accepted' AND NOT on_time) OR (status <> 'accepted' AND deadline < %(now)s)) AS late,"
    " count(*) FILTER (WHERE status IN ('sent', 'acknowledged', 'in_progress', 'returned') AND deadline < %(now)s)"
    " AS open_overdue"
    " FROM directive_assignments WHERE status <> 'cancelled' AND deadline >= %(start)s AND deadline < %(end)s"
    " AND (%(scope)s::text[] IS NULL OR recipient_code = ANY(%(scope)s))"
    " GROUP BY recipient_code ORDER BY recipient_code"
)


def on_time_rates(
    conn: psycopg.Connection, period: Period, now: datetime, scope: frozenset[str] | None = None
) -> list[OnTimeRow]:
    reg = registry()
    rows = conn.execute(
        _RATES, {"now": now, "start": period.start, "end": period.end,
                 "scope": None if scope is None else sorted(scope)},
    ).fetchall()  # fmt: skip
    return [
        OnTimeRow(str(r[0]), reg.get(r[0]).name_vi if r[0] in reg else str(r[0]), int(r[1]), int(r[2]),
                  int(r[3]), int(r[4]), int(r[5]))
        for r in rows
    ]  # fmt: skip


def on_time_kpi(conn: psycopg.Connection, period: Period, now: datetime) -> OnTimeKpi:
    """``directives.on_time`` for the city, with the recipients ranked by their rate (then volume)."""
    rows = on_time_rates(conn, period, now)
    num, den = sum(r.on_time for r in rows), sum(r.due for r in rows)
    ranked = sorted(rows, key=lambda r: (r.rate is None, -(r.rate or 0.0), -r.due, r.recipient_code))
    return OnTimeKpi(KPI_ID, period.label, None if den == 0 else 100.0 * num / den, num, den, tuple(ranked))
