"""Snapshot part ``kpi_figures``: each no-live-feed indicator's latest figure entered by hand (one
statement for every viewer); the cockpit merges it with the documents' figures
(:func:`ioc.kpi.figures.current_figures`), so the newest value wins on ``/leader``."""

from __future__ import annotations

from datetime import datetime

import psycopg

from ioc.kpi.figures import Figure, latest_entries
from ioc.web.parts import SnapshotPart

EMPTY: tuple[Figure, ...] = ()


def read(conn: psycopg.Connection, _asof: datetime) -> tuple[Figure, ...]:
    return latest_entries(conn)


PARTS = (SnapshotPart("kpi_figures", read, queries=1, every=2, default=EMPTY),)
