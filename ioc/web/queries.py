"""Read models for the dashboard: constant, parameterised SQL returning frozen dataclasses.

Live state comes from the 1-minute rollups (``camera_1m``, ``traffic_1m``, ``air_1m``,
``feedback_1m``), which exist with the same names and columns on plain PostgreSQL and TimescaleDB,
and from ``ingest_stats``. Citizen reports need positions, so they come from ``feedback_events``
(never the reporter's name or phone). Every function runs exactly one statement; the snapshot
refresher counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import LiteralString

import psycopg
from psycopg import errors, sql
from psycopg.rows import class_row

from geodata.names import humanise
from ioc.sources import SOURCES
from ioc.state import AlertRow, ReportRow, SourceInfo  # noqa: F401 - the read models live in ioc.state

# How far back "latest" may look before a source counts as silent.
LATEST_WINDOW = "15 minutes"


@dataclass(frozen=True, slots=True)
class CameraMinute:
    source_id: str
    bucket: datetime
    all_online: bool | None
    vehicles: int | None
    max_confidence: float | None


@dataclass(frozen=True, slots=True)
class TrafficMinute:
    source_id: str
    bucket: datetime
    speed_kmh: float | None
    free_flow_kmh: float | None
    volume_vph: float | None
    occupancy_pct: float | None


@dataclass(frozen=True, slots=True)
class AirHour:
    """Hourly mean concentrations of one station (µg/m³)."""

    source_id: str
    hour: datetime
    pm25: float | None
    pm10: float | None


@dataclass(frozen=True, slots=True)
class SourceRate:
    kind: str
    events_per_min: float


@dataclass(frozen=True, slots=True)
class IngestStat:
    kind: str
    accepted: int
    rejected: int
    late: int
    newest_event_time: datetime | None
    last_ingest_at: datetime | None


Q_SOURCES: LiteralString = """
SELECT source_id, kind, name, lon, lat, admin_unit, geometry, properties FROM sources ORDER BY source_id"""

Q_CAMERA_LATEST: LiteralString = """
SELECT DISTINCT ON (source_id) source_id, bucket, all_online, vehicles::bigint AS vehicles,
       max_confidence::float8 AS max_confidence
FROM camera_1m WHERE bucket > %(asof)s - INTERVAL '15 minutes' AND bucket <= %(asof)s
ORDER BY source_id, bucket DESC"""

Q_TRAFFIC_LATEST: LiteralString = """
SELECT DISTINCT ON (source_id) source_id, bucket, speed_kmh::float8 AS speed_kmh,
       free_flow_kmh::float8 AS free_flow_kmh, volume_vph::float8 AS volume_vph,
       occupancy_pct::float8 AS occupancy_pct
FROM traffic_1m WHERE bucket > %(asof)s - INTERVAL '15 minutes' AND bucket <= %(asof)s
ORDER BY source_id, bucket DESC"""

# Hourly means weighted by the minute counts; enough hours back for NowCast (12 h) at every
# look-back step of the 24-hour slider.
Q_AIR_HOURLY: LiteralString = """
SELECT source_id, date_trunc('hour', bucket) AS hour,
       (sum(pm25 * n) / NULLIF(sum(n) FILTER (WHERE pm25 IS NOT NULL), 0))::float8 AS pm25,
       (sum(pm10 * n) / NULLIF(sum(n) FILTER (WHERE pm10 IS NOT NULL), 0))::float8 AS pm10
FROM air_1m WHERE bucket > %(asof)s - %(hours)s * INTERVAL '1 hour' AND bucket <= %(asof)s
GROUP BY 1, 2 ORDER BY 1, 2 DESC"""

# Hourly camera and traffic state for the look-back slider (one row per source and hour).
Q_CAMERA_HOURLY: LiteralString = """
SELECT source_id, date_trunc('hour', bucket) AS bucket, bool_and(all_online) AS all_online,
       sum(vehicles)::bigint AS vehicles, max(max_confidence)::float8 AS max_confidence
FROM camera_1m WHERE bucket > %(asof)s - INTERVAL '25 hours' AND bucket <= %(asof)s
GROUP BY 1, 2 ORDER BY 1, 2 DESC"""

Q_TRAFFIC_HOURLY: LiteralString = """
SELECT source_id, date_trunc('hour', bucket) AS bucket,
       (sum(speed_kmh * n) / sum(n))::float8 AS speed_kmh, avg(free_flow_kmh)::float8 AS free_flow_kmh,
       (sum(volume_vph * n) / sum(n))::float8 AS volume_vph, (sum(occupancy_pct * n) / sum(n))::float8 AS occupancy_pct
FROM traffic_1m WHERE bucket > %(asof)s - INTERVAL '25 hours' AND bucket <= %(asof)s
GROUP BY 1, 2 ORDER BY 1, 2 DESC"""

# Latest state of every ticket first reported in the window; PII columns are never selected.
Q_REPORTS: LiteralString = """
SELECT DISTINCT ON (ticket_id) ticket_id,
       min(event_time) OVER (PARTITION BY ticket_id) AS created_at, event_time AS updated_at,
       action, category, channel, lon, lat, admin_unit
FROM feedback_events
WHERE event_time > %(asof)s - %(hours)s * INTERVAL '1 hour' AND event_time <= %(asof)s
ORDER BY ticket_id, event_time DESC
LIMIT %(limit)s"""

# Events per minute per source over the last five complete minutes, from every declared rollup.
_RATE_PART = sql.SQL(
    "SELECT {kind} AS kind, n FROM {rollup} WHERE bucket >= date_trunc('minute', %(asof)s) - INTERVAL '5 minutes'"
    " AND bucket < date_trunc('minute', %(asof)s)")
Q_RATES = sql.SQL(
    "SELECT kind, (coalesce(sum(n), 0) / 5.0)::float8 AS events_per_min FROM ({}) t GROUP BY kind").format(
    sql.SQL(" UNION ALL ").join(
        _RATE_PART.format(kind=sql.Literal(k), rollup=sql.Identifier(s.rollup.name))
        for k, s in SOURCES.items() if s.rollup is not None and s.rollup.bucket == "1 minute"))

Q_INGEST_STATS: LiteralString = """
SELECT kind, accepted, rejected, late, newest_event_time, last_ingest_at FROM ingest_stats ORDER BY kind"""

# Unresolved alerts, newest change first (uses the partial index alerts_open_by_update).
Q_OPEN_ALERTS: LiteralString = """
SELECT alert_id::text AS alert_id, severity, state, title_vi, title_en, lon, lat, source_id, admin_unit,
       created_at, silenced_until
FROM alerts WHERE state <> 'resolved'
ORDER BY updated_at DESC
LIMIT %(limit)s"""


def sources(conn: psycopg.Connection) -> list[SourceInfo]:
    with conn.cursor(row_factory=class_row(SourceInfo)) as cur:
        return cur.execute(Q_SOURCES).fetchall()


def camera_latest(conn: psycopg.Connection, asof: datetime) -> list[CameraMinute]:
    with conn.cursor(row_factory=class_row(CameraMinute)) as cur:
        return cur.execute(Q_CAMERA_LATEST, {"asof": asof}).fetchall()


def traffic_latest(conn: psycopg.Connection, asof: datetime) -> list[TrafficMinute]:
    with conn.cursor(row_factory=class_row(TrafficMinute)) as cur:
        return cur.execute(Q_TRAFFIC_LATEST, {"asof": asof}).fetchall()


def camera_hourly(conn: psycopg.Connection, asof: datetime) -> list[CameraMinute]:
    with conn.cursor(row_factory=class_row(CameraMinute)) as cur:
        return cur.execute(Q_CAMERA_HOURLY, {"asof": asof}).fetchall()


def traffic_hourly(conn: psycopg.Connection, asof: datetime) -> list[TrafficMinute]:
    with conn.cursor(row_factory=class_row(TrafficMinute)) as cur:
        return cur.execute(Q_TRAFFIC_HOURLY, {"asof": asof}).fetchall()


def air_hourly(conn: psycopg.Connection, asof: datetime, hours: int = 12) -> list[AirHour]:
    """Hourly means of the last ``hours`` hours, most recent hour first within each station."""
    with conn.cursor(row_factory=class_row(AirHour)) as cur:
        return cur.execute(Q_AIR_HOURLY, {"asof": asof, "hours": hours}).fetchall()


def reports(
    conn: psycopg.Connection, asof: datetime, hours: int = 24, limit: int = 20_000
) -> list[ReportRow]:
    with conn.cursor(row_factory=class_row(ReportRow)) as cur:
        return cur.execute(Q_REPORTS, {"asof": asof, "hours": hours, "limit": limit}).fetchall()


def rates(conn: psycopg.Connection, asof: datetime) -> list[SourceRate]:
    with conn.cursor(row_factory=class_row(SourceRate)) as cur:
        return cur.execute(Q_RATES, {"asof": asof}).fetchall()


def ingest_stats(conn: psycopg.Connection) -> list[IngestStat]:
    with conn.cursor(row_factory=class_row(IngestStat)) as cur:
        return cur.execute(Q_INGEST_STATS).fetchall()


@dataclass(frozen=True, slots=True)
class TicketKpis:
    """Citizen tickets today (local day) and overdue now, for the KPI panel."""

    received_today: int
    answered_today: int
    overdue: int


# ``day_start`` is local midnight (Asia/Ho_Chi_Minh) as an instant, computed by the caller.
Q_TICKET_KPIS: LiteralString = """
SELECT count(*) FILTER (WHERE received_at >= %(day_start)s AND received_at <= %(asof)s)::int AS received_today,
       count(*) FILTER (WHERE first_answered_at >= %(day_start)s AND first_answered_at <= %(asof)s)::int
           AS answered_today,
       count(*) FILTER (WHERE deadline < %(asof)s AND status IN ('received', 'classified', 'assigned',
                                                                 'in_progress', 'reopened'))::int AS overdue
FROM tickets"""


def ticket_kpis(conn: psycopg.Connection, asof: datetime) -> TicketKpis:
    """Received and answered today, overdue now; zeros on a database without the tickets migration."""
    from zoneinfo import ZoneInfo

    local = asof.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        with conn.cursor(row_factory=class_row(TicketKpis)) as cur:
            row = cur.execute(Q_TICKET_KPIS, {"day_start": day_start, "asof": asof}).fetchone()
    except errors.UndefinedTable:
        return TicketKpis(0, 0, 0)
    return row or TicketKpis(0, 0, 0)


@dataclass(frozen=True, slots=True)
class ComponentRow:
    """One row of ``component_health``: a supervised process or a component's heartbeat."""

    component: str
    role: str
    state: str
    restarts: int
    last_exit: str | None
    detail: dict  # type: ignore[type-arg]
    heartbeat_age_s: float


Q_COMPONENTS: LiteralString = """
SELECT component, role, state, restarts, last_exit, detail,
       EXTRACT(EPOCH FROM now() - heartbeat_at)::float8 AS heartbeat_age_s
FROM component_health ORDER BY component"""


def component_health(conn: psycopg.Connection) -> list[ComponentRow]:
    """Every component's last word; empty on a database without the health migration."""
    try:
        with conn.cursor(row_factory=class_row(ComponentRow)) as cur:
            return cur.execute(Q_COMPONENTS).fetchall()
    except errors.UndefinedTable:
        return []


def open_alerts(conn: psycopg.Connection, limit: int = 500) -> list[AlertRow]:
    """Unresolved alerts, newest first; empty on a database without the alerts migration."""
    try:
        with conn.cursor(row_factory=class_row(AlertRow)) as cur:
            rows = cur.execute(Q_OPEN_ALERTS, {"limit": limit}).fetchall()
    except errors.UndefinedTable:
        return []
    # Titles stored with codes (camera ids, unit codes) read as names on every screen.
    return [replace(a, title_vi=humanise(a.title_vi, "vi"), title_en=humanise(a.title_en, "en")) for a in rows]
