"""The early-warning feeds for the tests: the real simulators' events up to now, stored through the
spine's sink (the rows the consumers write) or produced to the broker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from geodata.sites import load_sites, sites_by_id
from ioc.events import Event
from ioc.sources import SourceKind
from simulators.base import IncidentIndex
from simulators.budget import BudgetSource
from simulators.floods import FloodSource
from simulators.public_order import PublicOrderSource
from simulators.scenario import Incident, IncidentClass, Place
from simulators.soc import SocSource
from streams.sink import TimescaleSink

KB = Place(name="Kho bạc Nhà nước Hải Phòng", lon=106.6835, lat=20.8618)


def surge(now: datetime) -> Incident:
    """A storm surge peaking at the last high water of the sea (before now), at the sea and the Cấm."""
    from simulators.floods import sea_level

    high = max((now - timedelta(minutes=10 * i) for i in range(1, 150)), key=sea_level)

    def at(magnitude: float) -> Incident:
        return Incident(id="test-surge", cls=IncidentClass.TIDE_RAIN_FLOOD, place=KB, start=high - timedelta(hours=10),
                        peak=high, end=now + timedelta(hours=6), magnitude=magnitude, shape="plateau",
                        sources=("wl-hondau", "wl-cam", "rain-phulien"))  # fmt: skip

    # At neap tide 1.2 m of surge leaves the Cấm below BĐ1: raise it until both gauges' last reading
    # is 0.3 m above their BĐ1 (the surge adds linearly), so the test does not depend on the day.
    src = FloodSource(load_sites(SourceKind("water")), load_sites(SourceKind("rain")), 0, IncidentIndex((at(1.0),)))
    last = high + timedelta(minutes=10)
    gauges = [s for s in src.water if s.source_id in ("wl-hondau", "wl-cam")]
    need = max((src._bd1(s) + 0.3 - src.level(s, last)) / src.surge(s, last) for s in gauges)
    return at(max(1.2, need))


def warning_events(now: datetime | None = None, *, seed: int = 5, budget_years: int = 4, po_hours: int = 48,
                   flood_hours: int = 24, soc_hours: int = 72, xnk_short: bool = True) -> list[Event]:  # fmt: skip
    """Budget reports for the last ``budget_years`` years up to now, hourly police and SOC counts and
    ten-minute gauge readings over the last hours (with a storm surge and an import–export shortfall)."""
    now = now or datetime.now(UTC)
    year = now.year
    incidents: list[Incident] = [surge(now)]
    if xnk_short:
        jan1 = datetime(year, 1, 1, tzinfo=UTC)
        incidents.append(Incident(id="test-xnk", cls=IncidentClass.REVENUE_SHORTFALL, place=KB, start=jan1 + timedelta(days=40),
                                  peak=jan1 + timedelta(days=200), end=jan1 + timedelta(days=366), magnitude=0.5,
                                  sources=("rev-xnk",), shape="plateau"))  # fmt: skip
    index = IncidentIndex(tuple(incidents))
    out: list[Event] = []
    budget = BudgetSource(load_sites(SourceKind("budget")), seed, index)
    for y in range(year - budget_years + 1, year + 1):
        out += [e for e in budget.year_events(y) if e.event_time <= now]
    out += PublicOrderSource(load_sites(SourceKind("public_order")), seed).events(now - timedelta(hours=po_hours), now)
    # The gauges' last reading is the surge at the last high water (so the map shows levels above BĐ1).
    high = incidents[0].peak + timedelta(minutes=10)
    out += FloodSource(load_sites(SourceKind("water")), load_sites(SourceKind("rain")), seed, index).events(
        high - timedelta(hours=flood_hours), high)
    out += SocSource(load_sites(SourceKind("soc")), seed).events(now - timedelta(hours=soc_hours), now)
    return out


def store(dsn: str, events: Sequence[Event]) -> int:
    """Write events through the real sink (copy mode), one flush per kind; returns rows inserted."""
    sites = sites_by_id()
    by_kind: dict[SourceKind, list[Event]] = {}
    for e in events:
        by_kind.setdefault(e.kind, []).append(e)  # type: ignore[arg-type]
    n = 0
    with psycopg.connect(dsn) as conn:
        for kind, evs in by_kind.items():
            sink = TimescaleSink(conn, "test-warnings", kind)
            for off, e in enumerate(evs):
                site = sites.get(e.source_id)
                unit = site.properties.get("admin_unit") if site else None
                sink.add(e, topic=f"test.{kind.value}", partition=0, offset=off, late=False, admin_unit=unit)
            n += sink.flush().inserted
    return n
