"""The directives and tasks section of the periodic reports (``ioc/kpi/report.py`` includes it).

:func:`section` returns typed rows only; the report builder lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from ioc.directives.stats import OnTimeKpi, OnTimeRow, on_time_kpi, parse_period
from ioc.directives.tasks import Rollup, list_tasks, rollups


@dataclass(frozen=True, slots=True)
class DirectivesSection:
    period: str
    directives_created: int
    parts_assigned: int
    parts_accepted: int
    parts_open_overdue: int
    on_time: OnTimeKpi
    worst: tuple[OnTimeRow, ...]  # the recipients with the lowest on-time rate (due > 0)
    tasks_by_group: tuple[Rollup, ...]
    tasks_overdue: int
    tasks_total: int


def section(conn: psycopg.Connection, period: str, now: datetime | None = None) -> DirectivesSection:
    """Directives and the task tracker in ``period`` (``2026-Q3``, ``2026-07``, ``2026``)."""
    p = parse_period(period)
    now = now or datetime.now(UTC)
    row = conn.execute(
        "SELECT (SELECT count(*) FROM directives WHERE created_at >= %(s)s AND created_at < %(e)s),"
        " count(*), count(*) FILTER (WHERE status = 'accepted'),"
        " count(*) FILTER (WHERE status IN ('sent', 'acknowledged', 'in_progress', 'returned') AND deadline < %(now)s)"
        " FROM directive_assignments a JOIN directives d USING (directive_id)"
        " WHERE d.created_at >= %(s)s AND d.created_at < %(e)s",
        {"s": p.start, "e": p.end, "now": now},
    ).fetchone()
    assert row is not None
    kpi = on_time_kpi(conn, p, now)
    worst = tuple(sorted((r for r in kpi.ranking if r.due), key=lambda r: (r.rate or 0.0, -r.due))[:5])
    tasks = list_tasks(conn, min(now.astimezone(p.end.tzinfo).date(), p.end.date()))
    return DirectivesSection(
        period=p.label, directives_created=int(row[0]), parts_assigned=int(row[1]), parts_accepted=int(row[2]),
        parts_open_overdue=int(row[3]), on_time=kpi, worst=worst, tasks_by_group=tuple(rollups(tasks, "group")),
        tasks_overdue=sum(t.overdue for t in tasks), tasks_total=len(tasks),
    )  # fmt: skip
