"""Snapshot part ``directives``: board counts, the overdue count (the wall) and the on-time rate
per recipient this quarter, read once per tick for every viewer (two statements, constant)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from ioc.directives.stats import OnTimeRow, on_time_rates, parse_period
from ioc.directives.store import BoardCounts, board_counts
from ioc.web.parts import SnapshotPart


@dataclass(frozen=True, slots=True)
class DirectivesPart:
    counts: BoardCounts
    rates: tuple[OnTimeRow, ...]
    period: str

    @property
    def overdue(self) -> int:
        return self.counts.overdue


def read(conn: psycopg.Connection, asof: datetime) -> DirectivesPart:
    period = f"{asof.year}-Q{(asof.month - 1) // 3 + 1}"
    return DirectivesPart(board_counts(conn, asof), tuple(on_time_rates(conn, parse_period(period), asof)), period)


PARTS = (SnapshotPart("directives", read, queries=2, every=5, default=None),)
