"""The live city snapshot: ONE refresher thread per server process, shared by every browser.

Each tick the refresher runs a fixed set of queries (``ioc.web.queries``) on its own connection and
replaces :attr:`LiveSnapshot.current` with a new immutable :class:`Snapshot`. It wakes on the
spine's ``NOTIFY ioc_ingest`` (debounced) or every ``Settings.refresh_seconds``. Callbacks only
read ``current``; the number of queries per tick does not depend on the number of viewers
(:attr:`LiveSnapshot.queries_total` / :attr:`LiveSnapshot.ticks_total` show it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import flask
import psycopg

from ioc import health
from ioc.settings import Settings
from ioc.sources import SOURCES
from ioc.state import AirState, Boundaries, CameraState, CameraStatus, CityState, TrafficState  # noqa: F401
from ioc.web import queries as q
from ioc.web.parts import PARTS
from ioc.web.parts.warnings import MAP_PARTS

log = logging.getLogger(__name__)

EXTENSION = "ioc"  # key of the app's objects in flask.Flask.extensions
NOTIFY_CHANNEL = "ioc_ingest"  # streams/sink.py notifies it after each committed batch
INCIDENT_CONFIDENCE = 0.6  # a detection at least this confident marks the camera as an incident
HISTORY_HOURS = 24
LIVE_QUERIES = 9  # every tick: camera, traffic, air, reports, rates, ingest stats, alerts, ticket KPIs, health
HISTORY_QUERIES = 3  # every ``history_every`` ticks: sources, hourly camera, hourly traffic


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, so caches can key on a snapshot
class Snapshot:
    version: int
    refreshed_at: datetime
    live: CityState
    history: Mapping[int, CityState] = field(default_factory=dict)  # hours ago → state
    rates: tuple[q.SourceRate, ...] = ()
    ingest: tuple[q.IngestStat, ...] = ()
    tickets: q.TicketKpis = q.TicketKpis(0, 0, 0)
    error: str | None = None  # the last refresh error, shown as stale data
    parts: Mapping[str, Any] = field(default_factory=dict)  # ioc/web/parts: the desks' read models
    feeds: tuple[health.FeedHealth, ...] = ()  # each source's newest event age, judged by its freshness
    components: tuple[health.Component, ...] = ()  # supervised processes and heartbeats, judged

    def part(self, name: str) -> Any:
        """A declared part's latest value (its default before the first read)."""
        if name in self.parts:
            return self.parts[name]
        return next(p.default for p in PARTS if p.name == name)

    def at(self, hours_ago: int) -> CityState:
        """The live state (0) or the state ``hours_ago`` hours back (falls back to live)."""
        return self.history.get(hours_ago, self.live) if hours_ago else self.live

    @property
    def newest_data(self) -> datetime | None:
        """The oldest of the sources' newest events: what a panel drawing every source is as old as."""
        times = [s.newest_event_time for s in self.ingest if s.newest_event_time]
        return min(times) if times else None

    def data_time(self, kind: str) -> datetime | None:
        """Event time of the newest stored event of ``kind`` (the age of what a panel draws)."""
        return next((s.newest_event_time for s in self.ingest if s.kind == kind), None)

    @property
    def failed(self) -> tuple[health.Component, ...]:
        return tuple(c for c in self.components if c.status == "down")

    def rate(self, kind: str) -> float:
        return next((r.events_per_min for r in self.rates if r.kind == kind), 0.0)


# --- pure builders (unit-tested without a database) -----------------------------------------------


def camera_states(
    sources: Mapping[str, q.SourceInfo], rows: Sequence[q.CameraMinute], *,
    asof: datetime | None = None, lost_after_s: float | None = None,
) -> tuple[CameraState, ...]:
    """One state per registered camera; cameras with no recent minute are ``nodata``.

    With ``asof`` and ``lost_after_s``, a camera whose own last heartbeat (the minute of its newest
    event) is older than that counts as ``nodata`` too: "online" is each camera's word, not the wall's.
    """
    by_id = {r.source_id: r for r in rows}
    out = []
    for sid, src in sources.items():
        if src.kind != "camera":
            continue
        r = by_id.get(sid)
        if r is not None and asof is not None and lost_after_s is not None:
            if (asof - (r.bucket + timedelta(minutes=1))).total_seconds() > lost_after_s:
                r = None
        if r is None:
            out.append(CameraState(sid, "nodata"))
            continue
        status: CameraStatus = "online" if r.all_online else "offline"
        if r.max_confidence is not None and r.max_confidence >= INCIDENT_CONFIDENCE:
            status = "incident"
        out.append(CameraState(sid, status, r.vehicles, r.bucket))
    return tuple(out)


def traffic_states(rows: Sequence[q.TrafficMinute]) -> tuple[TrafficState, ...]:
    return tuple(
        TrafficState(r.source_id, r.speed_kmh, r.free_flow_kmh, r.bucket)
        for r in rows
        if r.speed_kmh is not None and r.free_flow_kmh
    )


def air_states(rows: Sequence[q.AirHour], asof: datetime) -> tuple[AirState, ...]:
    """Per station: hourly VN_AQI by NowCast over the 12 hours up to ``asof`` (rows may span more)."""
    from alerts.aqi import Pollutant, hourly_aqi

    by_station: dict[str, list[q.AirHour]] = {}
    for r in rows:
        if r.hour <= asof:
            by_station.setdefault(r.source_id, []).append(r)
    out = []
    for sid, hours in sorted(by_station.items()):
        hours.sort(key=lambda h: h.hour, reverse=True)
        top = asof.replace(minute=0, second=0, microsecond=0)
        series: dict[Any, list[float | None]] = {Pollutant.PM25: [], Pollutant.PM10: []}
        by_hour = {h.hour: h for h in hours}
        for i in range(12):  # most recent first, gaps as None (NowCast handles them)
            h = by_hour.get(top - timedelta(hours=i))
            series[Pollutant.PM25].append(h.pm25 if h else None)
            series[Pollutant.PM10].append(h.pm10 if h else None)
        # The current hour may still be empty (just past the hour): NowCast needs 2 of the last 3 hours.
        readings = {p: v for p, v in series.items() if sum(x is not None for x in v[:3]) >= 2}
        try:
            aqi: int | None = hourly_aqi(readings).aqi if readings else None
        except ValueError:  # not enough recent hours for NowCast
            aqi = None
        out.append(AirState(sid, aqi, hours[0].pm25, hours[0].hour))
    return tuple(out)


def alert_views(rows: Sequence[q.AlertRow], now: datetime) -> tuple[q.AlertRow, ...]:
    """The unresolved alerts to show; alerts silenced past ``now`` are left off the wall and map."""
    return tuple(r for r in rows if r.silenced_until is None or r.silenced_until <= now)


def history_states(
    live: CityState,
    camera_rows: Sequence[q.CameraMinute],
    traffic_rows: Sequence[q.TrafficMinute],
    air_rows: Sequence[q.AirHour],
    report_rows: Sequence[q.ReportRow],
) -> dict[int, CityState]:
    """The city at each whole hour back (1 … 24 h) from hourly rollups: one state per slider step."""
    out: dict[int, CityState] = {}
    for h in range(1, HISTORY_HOURS + 1):
        asof = live.asof - timedelta(hours=h)
        hour = asof.replace(minute=0, second=0, microsecond=0)
        cams = [r for r in camera_rows if r.bucket == hour]
        traffic = [r for r in traffic_rows if r.bucket == hour]
        reports = tuple(r for r in report_rows if asof - timedelta(hours=24) < r.created_at <= asof)
        out[h] = CityState(
            asof=asof,
            sources=live.sources,
            boundaries=live.boundaries,
            cameras=camera_states(live.sources, cams),
            traffic=traffic_states(traffic),
            air=air_states(air_rows, asof),
            reports=reports,
            alerts=(),
        )
    return out


def feed_health(ingest: Sequence[q.IngestStat], asof: datetime, settings: Settings) -> tuple[health.FeedHealth, ...]:
    """Each declared source judged live / late / silent by its newest event's age and its freshness."""
    by_kind = {s.kind: s for s in ingest}
    out = []
    for kind in SOURCES:
        st = by_kind.get(kind)
        newest = st.newest_event_time if st else None
        age = None if newest is None else max(0.0, (asof - newest).total_seconds())
        late_s, silent_s = health.thresholds(kind, settings)
        out.append(health.FeedHealth(kind, health.feed_of(age, late_s, silent_s), newest, age, late_s, silent_s))
    return tuple(out)


def load_boundaries(on: date | None = None) -> Boundaries:
    """The finest units of the boundary set in force (installed sets first, then the defaults)."""
    from geodata.boundaries import boundary_set_for, city_bounds, load_boundary_sets, to_geojson

    bset = boundary_set_for(on or datetime.now(UTC).date(), load_boundary_sets())
    level = bset.levels[-1]
    geo = to_geojson(bset, level, tolerance=0.0005, decimals=4)
    names = {u.code: u.full_name for u in bset.features}
    # Fit the mainland with Cát Hải and Cát Bà; Bạch Long Vĩ, ~110 km out, would shrink the city.
    w, s, e, n = city_bounds(bset).main
    return Boundaries(
        bset.id, bset.approximate, level, MappingProxyType(geo), MappingProxyType(names), (w, s, e, n)
    )


# --- the refresher --------------------------------------------------------------------------------


class LiveSnapshot:
    """Owns one refresher thread and the current snapshot (replaced whole, never mutated)."""

    def __init__(
        self,
        settings: Settings,
        *,
        history_every: int = 30,
        min_interval: float = 0.5,
        boundaries: Boundaries | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.history_every = history_every
        self.min_interval = min_interval
        self.clock = clock
        self.boundaries = boundaries or load_boundaries()
        self.queries_total = 0  # written only by the refresher thread
        self.ticks_total = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition()
        self._sources: dict[str, q.SourceInfo] = {}
        self._history: Mapping[int, CityState] = {}
        self._parts: dict[str, Any] = {}
        empty = CityState(asof=clock(), sources={}, boundaries=self.boundaries)
        self.current = Snapshot(version=0, refreshed_at=clock(), live=empty, error="not refreshed yet")

    # The refresher's queries go through here, so the count is exact.
    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        self.queries_total += 1
        return fn(*args)

    def refresh_once(self, conn: psycopg.Connection) -> Snapshot:
        """Run one tick's queries and publish a new snapshot."""
        asof = self.clock()
        tick = self.ticks_total
        if not self._sources or tick % self.history_every == 0:
            self._sources = {s.source_id: s for s in self._run(q.sources, conn)}
        sources = MappingProxyType(dict(self._sources))
        cams = self._run(q.camera_latest, conn, asof)
        traffic = self._run(q.traffic_latest, conn, asof)
        air = self._run(q.air_hourly, conn, asof, 12 + HISTORY_HOURS)
        reports = self._run(q.reports, conn, asof, 24 + HISTORY_HOURS)
        rates = self._run(q.rates, conn, asof)
        ingest = self._run(q.ingest_stats, conn)
        alerts = self._run(q.open_alerts, conn)
        tickets = self._run(q.ticket_kpis, conn, asof)
        comps = self._run(q.component_health, conn)
        cam_late, _ = health.thresholds("camera", self.settings) if "camera" in SOURCES else (None, None)
        for part in PARTS:
            if tick % part.every == 0:
                self._parts[part.name] = self._read_part(part, conn, asof)
        live = CityState(
            asof=asof,
            sources=sources,
            boundaries=self.boundaries,
            cameras=camera_states(sources, cams, asof=asof, lost_after_s=cam_late),
            traffic=traffic_states(traffic),
            air=air_states(air, asof),
            reports=tuple(r for r in reports if r.created_at > asof - timedelta(hours=24)),
            alerts=alert_views(alerts, asof),
            # Only parts any map viewer may see (floods, simulation layers): never budget or public order.
            parts=MappingProxyType({n: self._parts[n] for n in MAP_PARTS if n in self._parts}),
        )
        if tick % self.history_every == 0:
            cam_h = self._run(q.camera_hourly, conn, asof)
            traffic_h = self._run(q.traffic_hourly, conn, asof)
            self._history = MappingProxyType(history_states(live, cam_h, traffic_h, air, reports))
        snap = Snapshot(
            version=self.current.version + 1,
            refreshed_at=self.clock(),
            live=live,
            history=self._history,
            rates=tuple(rates),
            tickets=tickets,
            ingest=tuple(ingest),
            parts=MappingProxyType(dict(self._parts)),
            feeds=feed_health(ingest, asof, self.settings),
            components=tuple(health.judge(c.component, c.role, c.state, c.restarts, c.last_exit, dict(c.detail or {}),
                                          c.heartbeat_age_s, self.settings.heartbeat_stale_seconds) for c in comps),
        )
        self.ticks_total += 1
        self._publish(snap)
        return snap

    def _read_part(self, part: Any, conn: psycopg.Connection, asof: datetime) -> Any:
        self.queries_total += part.queries - 1  # _run counts one
        try:
            return self._run(part.read, conn, asof)
        except psycopg.errors.UndefinedTable:  # a desk whose migration has not run yet
            return part.default

    def _publish(self, snap: Snapshot) -> None:
        with self._changed:
            self.current = snap
            self._changed.notify_all()

    def wait_for(self, version: int, timeout: float) -> Snapshot:
        """Block until a snapshot newer than ``version`` exists (or the timeout); return the current one."""
        with self._changed:
            self._changed.wait_for(lambda: self.current.version > version, timeout)
            return self.current

    def start(self) -> LiveSnapshot:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ioc-snapshot", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                dsn = self.settings.database_dsn()
                with (
                    psycopg.connect(dsn, autocommit=True) as conn,
                    psycopg.connect(dsn, autocommit=True) as listener,
                ):
                    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    backoff = 1.0
                    while not self._stop.is_set():
                        started = time.monotonic()
                        self.refresh_once(conn)
                        self._sleep_until_woken(listener, started)
            except (psycopg.Error, OSError) as exc:
                log.warning(
                    "snapshot refresh failed (%s); keeping the last snapshot, retrying in %.0f s",
                    type(exc).__name__,
                    backoff,
                )
                old = self.current
                self._publish(  # a new version, so every browser learns that its data is stale
                    Snapshot(
                        old.version + 1,
                        old.refreshed_at,
                        old.live,
                        old.history,
                        old.rates,
                        old.ingest,
                        old.tickets,
                        error=type(exc).__name__,
                        parts=old.parts,
                        feeds=feed_health(old.ingest, self.clock(), self.settings),
                        components=old.components,
                    )
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _sleep_until_woken(self, listener: psycopg.Connection, started: float) -> None:
        """Wait for a NOTIFY or the refresh period; never refresh more often than ``min_interval``."""
        period = self.settings.refresh_seconds
        deadline = started + period
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            woken = any(True for _ in listener.notifies(timeout=min(left, 1.0), stop_after=1))
            if woken:
                rest = started + self.min_interval - time.monotonic()
                if rest > 0:
                    self._stop.wait(rest)
                for _ in listener.notifies(timeout=0.001):  # drain the burst: one refresh serves it
                    pass
                return


def live() -> LiveSnapshot:
    """The snapshot owner of the app serving the current request (for page callbacks)."""
    return flask.current_app.extensions[EXTENSION]["live"]  # type: ignore[no-any-return]


def web_settings() -> Settings:
    return flask.current_app.extensions[EXTENSION]["settings"]  # type: ignore[no-any-return]
