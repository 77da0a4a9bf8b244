"""The numbers leaders ask for, by period, category, agency or admin unit; and their CSV.

Merged duplicates are one problem with their primary, so they are not counted again. "Open"
means still waiting for an answer (received, classified, assigned, in progress or reopened);
"overdue" is open past its deadline. Shares are fractions in 0..1 (``None`` when undefined).
No personal data is read here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Literal, LiteralString, get_args

import psycopg
from psycopg.rows import class_row

from ioc.tickets.workflow import OPEN_STATUSES

By = Literal["total", "category", "agency", "unit", "day", "week", "month"]
BY_VALUES: tuple[str, ...] = get_args(By)

_KEYS: dict[str, LiteralString] = {
    "total": "'*'",
    "category": "coalesce(category, suggested_category, '?')",
    "agency": "coalesce(owner_name, '—')",
    "unit": "coalesce(admin_unit, '—')",
    "day": "to_char(date_trunc('day', received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'), 'YYYY-MM-DD')",
    "week": "to_char(date_trunc('week', received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'), 'IYYY-\"W\"IW')",
    "month": "to_char(date_trunc('month', received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'), 'YYYY-MM')",
}

_BODY: LiteralString = (
    " AS key, count(*) AS received,"
    " count(first_answered_at) AS answered,"
    " count(*) FILTER (WHERE status = ANY(%(open)s)) AS open,"
    " count(*) FILTER (WHERE status = 'in_progress') AS in_progress,"
    " count(*) FILTER (WHERE status = ANY(%(open)s) AND deadline < %(now)s) AS overdue,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_answered_at - received_at))"
    "   FILTER (WHERE first_answered_at IS NOT NULL) / 3600.0 AS median_hours_to_answer,"
    " count(*) FILTER (WHERE answered_on_time) AS answered_on_time,"
    " count(verdict) AS verdicts,"
    " count(*) FILTER (WHERE verdict = 'agree') AS agreeing"
    " FROM tickets WHERE status <> 'merged'"
    " AND (%(since)s::timestamptz IS NULL OR received_at >= %(since)s)"
    " AND (%(until)s::timestamptz IS NULL OR received_at < %(until)s)"
    " GROUP BY 1 ORDER BY 1"
)


@dataclass(frozen=True)
class StatsRow:
    key: str
    received: int
    answered: int
    open: int
    in_progress: int
    overdue: int
    median_hours_to_answer: float | None
    answered_on_time: int
    verdicts: int
    agreeing: int

    @property
    def share_answered(self) -> float | None:
        return self.answered / self.received if self.received else None

    @property
    def share_on_time(self) -> float | None:
        return self.answered_on_time / self.answered if self.answered else None

    @property
    def share_agreeing(self) -> float | None:
        return self.agreeing / self.verdicts if self.verdicts else None


def ticket_stats(
    conn: psycopg.Connection,
    by: str = "total",
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[StatsRow]:
    """One row per group (``by`` one of :data:`BY_VALUES`), tickets received in ``[since, until)``."""
    if by not in _KEYS:
        raise ValueError(f"unknown grouping {by!r}: expected one of {', '.join(BY_VALUES)}")
    params = {"open": [s.value for s in OPEN_STATUSES], "now": now, "since": since, "until": until}
    with conn.cursor(row_factory=class_row(StatsRow)) as cur:
        return cur.execute("SELECT " + _KEYS[by] + _BODY, params).fetchall()


CSV_HEADER = {
    "vi": (
        "nhóm", "tiếp nhận", "đã trả lời", "tỉ lệ đã trả lời", "đang mở", "đang xử lý", "quá hạn",
        "trung vị giờ trả lời", "tỉ lệ đúng hạn", "tỉ lệ đồng tình",
    ),
    "en": (
        "group", "received", "answered", "share answered", "open", "in progress", "overdue",
        "median hours to answer", "share on time", "share agreeing",
    ),
}  # fmt: skip


def _r(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def write_csv(rows: list[StatsRow], out: IO[str], lang: str = "vi") -> int:
    """Write the rows as CSV (UTF-8 text, header in ``lang``); returns the rows written."""
    if lang not in CSV_HEADER:
        raise ValueError(f"unsupported language {lang!r}: use 'vi' or 'en'")
    w = csv.writer(out)
    w.writerow(CSV_HEADER[lang])
    for r in rows:
        w.writerow(
            [
                r.key, r.received, r.answered, _r(r.share_answered), r.open, r.in_progress, r.overdue,
                _r(r.median_hours_to_answer, 2), _r(r.share_on_time), _r(r.share_agreeing),
            ]
        )  # fmt: skip
    return len(rows)
