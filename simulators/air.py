"""Air-quality stations: one reading per station every 5 minutes.

PM2.5 = monthly background (dry winter high) × day-to-day weather × diurnal inversion cycle ×
station factor (ports and industrial zones higher, coast lower) × a slow station-level AR(1)
term. The weather of a calendar day depends only on (seed, date), so overlapping runs agree.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from geodata.sites import Site
from ioc.sources.air import AirEvent
from simulators import profiles
from simulators.base import IncidentIndex, phase_s, schedule, seeded_uuid, stream_rng
from simulators.scenario import IncidentClass, distance_m

PERIOD_S = 300

_ZONE_NO2 = {"traffic": 1.6, "urban": 1.3, "port": 1.3, "industrial": 1.1, "coastal": 0.5}
_ZONE_SO2 = {"port": 2.2, "industrial": 2.5, "urban": 1.0, "traffic": 1.1, "coastal": 0.6}


class Weather:
    """Day-by-day weather: a PM dispersion factor and rain, drawn per (seed, date)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._days: dict[str, tuple[float, bool]] = {}

    def day(self, local_noon: datetime) -> tuple[float, bool]:
        key = local_noon.date().isoformat()
        if key not in self._days:
            rng = stream_rng(self.seed, f"weather:{key}")
            rain = rng.random() < profiles.RAIN_PROBABILITY[local_noon.month - 1]
            # Dry winter days swing more (monsoon surges clean the air, calm days trap it).
            sigma = 0.35 if profiles.dry_season(local_noon) else 0.25
            factor = math.exp(rng.gauss(0, sigma)) * (0.6 if rain else 1.0)
            self._days[key] = (factor, rain)
        return self._days[key]

    def at(self, local: datetime) -> tuple[float, float]:
        """Dispersion factor (interpolated between days' noons) and rain share at a local time."""
        noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
        other = noon + timedelta(days=1 if local >= noon else -1)
        w = abs((local - noon).total_seconds()) / 86400
        (f1, r1), (f2, r2) = self.day(noon), self.day(other)
        return f1 * (1 - w) + f2 * w, float(r1) * (1 - w) + float(r2) * w


class AirSource:
    def __init__(self, sites: list[Site], seed: int, incidents: IncidentIndex) -> None:
        self.sites = sorted(sites, key=lambda s: s.source_id)
        self.rng = stream_rng(seed, "air")
        self.weather = Weather(seed)
        self.incidents = incidents
        self.noise = {s.source_id: 0.0 for s in self.sites}

    def events(self, a: datetime, b: datetime) -> list[AirEvent]:
        out = []
        rng = self.rng
        for site in self.sites:
            for t in schedule(a, b, PERIOD_S, phase_s(site.source_id, PERIOD_S)):
                event_id = seeded_uuid(rng)
                self.noise[site.source_id] = 0.95 * self.noise[site.source_id] + rng.gauss(0, 0.05)
                draws = [rng.gauss(0, 1) for _ in range(6)]
                out.append(self._reading(site, t, event_id, draws))
        return out

    def _reading(self, site: Site, t: datetime, event_id, draws: list[float]) -> AirEvent:
        local = profiles.to_local(t)
        zone = str(site.properties.get("zone", "urban"))
        factor, rain = self.weather.at(local)
        traffic = profiles.traffic_demand(local)
        pm25 = (
            profiles.interp_monthly(profiles.PM25_MONTHLY, local)
            * factor
            * profiles.pm_diurnal(local)
            * float(site.properties.get("pm_factor", 1.0))
            * math.exp(self.noise[site.source_id])
        )
        pm25 = max(2.0, pm25 + 1.5 * draws[0])
        extra_pm = 0.0
        for inc, s in self.incidents.at(site.source_id, t):
            if inc.cls is IncidentClass.PM25_EPISODE:
                # Stations nearer the source see more of the plume.
                d = distance_m(inc.place.lon, inc.place.lat, site.lon, site.lat)
                extra_pm += inc.magnitude * s * max(0.4, 1.0 - d / 10_000)
        pm25 += extra_pm
        pm10 = pm25 * (1.55 + 0.1 * draws[1]) + (0.0 if rain > 0.5 else 6.0)
        no2 = max(3.0, (12.0 + 28.0 * traffic) * _ZONE_NO2.get(zone, 1.0) * factor + 3.0 * draws[2])
        so2 = max(1.0, 9.0 * _ZONE_SO2.get(zone, 1.0) * factor + 2.0 * draws[3] + 0.1 * extra_pm)
        summer = 1.0 + 0.4 * math.sin(math.pi * (local.month - 3) / 6)
        o3 = max(
            2.0, 20.0 + 75.0 * profiles.sunlight(local) * summer * (0.5 if rain > 0.5 else 1.0) + 6 * draws[4]
        )
        co = max(
            150.0,
            (400.0 + 900.0 * traffic * _ZONE_NO2.get(zone, 1.0)) * factor + 80.0 * draws[5] + 8.0 * extra_pm,
        )
        temperature = profiles.temperature(local) - 2.5 * rain
        humidity = min(99.0, profiles.humidity(local) + 8.0 * rain)
        return AirEvent(
            event_id=event_id,
            source_id=site.source_id,
            event_time=t,
            pm25=round(pm25, 1),
            pm10=round(pm10, 1),
            no2=round(no2, 1),
            so2=round(so2, 1),
            o3=round(o3, 1),
            co=round(co),
            temperature_c=round(temperature, 1),
            humidity_pct=round(humidity, 1),
        )
