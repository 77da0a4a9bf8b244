"""Scenarios (YAML files in ``simulators/scenarios/``) and the ground truth a run publishes.

A scenario plants incidents on top of the normal city. Incident times in the file are offsets
from the run's start; the ground truth gives them as absolute UTC times together with the
resolved list of affected source ids, so detections can be scored against it.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from geodata.sites import Site, load_sites
from ioc.events import Lat, Lon

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"2h"``, ``"1h30m"``, ``"45m"``, ``"1d"``, ``"90s"``, ISO 8601 (``"PT2H"``) or seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if value.strip().upper().startswith("P"):  # ISO 8601, as the models serialise durations
        return TypeAdapter(timedelta).validate_python(value.strip())
    match = _DURATION.match(value)
    if not value.strip() or match is None or not any(match.groups()):
        raise ValueError(f"invalid duration {value!r}: use e.g. '2h', '1h30m', '45m', '1d'")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class IncidentClass(StrEnum):
    CONGESTION = "congestion"
    PM25_EPISODE = "pm25_episode"
    CAMERA_OUTAGE = "camera_outage"
    FLOODING = "flooding"
    CROWD = "crowd"
    STOPPED_VEHICLE = "stopped_vehicle"
    # The early warnings (issue 13), simulated by simulators/{budget,public_order,floods,soc}.py
    REVENUE_SHORTFALL = "revenue_shortfall"
    REVENUE_DROP = "revenue_drop"
    DISORDER_CLUSTER = "disorder_cluster"
    TIDE_RAIN_FLOOD = "tide_rain_flood"
    SOC_ALERT_STORM = "soc_alert_storm"
    ON_TIME_COLLAPSE = "on_time_collapse"  # a unit's dossiers complete late (simulators/dossiers.py)
    DOSSIER_OUTAGE = "dossier_outage"  # the one-stop system is down: no dossiers


#: The sources a warning scenario runs (instead of the city's cameras, traffic, air and reports).
WarningKind = Literal["budget", "public_order", "flood", "soc"]


class Shape(StrEnum):
    """How severity evolves: RAMP rises start→peak and falls peak→end; PLATEAU holds from peak to end."""

    RAMP = "ramp"
    PLATEAU = "plateau"


class Place(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    lon: Lon
    lat: Lat


class ReportSpike(BaseModel):
    """Extra citizen reports the incident causes, near its place, at full severity."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    category: str
    per_hour: float = Field(gt=0, le=1000)
    radius_m: float = Field(default=500, gt=0, le=20_000)


class _Timed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    cls: IncidentClass = Field(alias="class")
    place: Place
    shape: Shape = Shape.RAMP
    magnitude: float = Field(default=1.0, gt=0)  # class-specific: depth of a speed drop, µg/m³ added …
    reports: ReportSpike | None = None


class IncidentSpec(_Timed):
    """An incident as written in a scenario file: times are offsets from the run's start."""

    start: Duration
    peak: Duration
    end: Duration
    sources: tuple[str, ...] = ()  # explicit affected source ids
    radius_m: float = Field(default=0, ge=0, le=20_000)  # plus sites of `kinds` within this distance
    kinds: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> IncidentSpec:
        if not (self.start <= self.peak <= self.end) or self.start == self.end:
            raise ValueError(f"incident {self.id!r}: need start <= peak <= end and start < end")
        return self


class Incident(_Timed):
    """A planted incident as published in the ground truth (absolute UTC times, resolved sources)."""

    start: AwareDatetime
    peak: AwareDatetime
    end: AwareDatetime
    sources: tuple[str, ...]

    def severity(self, t: datetime) -> float:
        """0 outside [start, end); rises to 1 at the peak; then falls (RAMP) or holds (PLATEAU)."""
        if t < self.start or t >= self.end:
            return 0.0
        if t < self.peak:
            return (t - self.start) / (self.peak - self.start)
        if self.shape is Shape.PLATEAU or self.end == self.peak:
            return 1.0
        return 1.0 - (t - self.peak) / (self.end - self.peak)


class Scenario(BaseModel):
    """A named scenario: default start, duration and the incidents it plants."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str  # Vietnamese, one line
    description_en: str
    start: AwareDatetime
    duration: Duration
    camera_blips_per_day: float = Field(
        default=0.1, ge=0
    )  # random short outages per camera (real-life noise)
    incidents: tuple[IncidentSpec, ...] = ()
    # An early-warning scenario (budget, public order, floods, SOC) runs its own simulator after
    # ``history`` of the normal feed before ``start`` (what its rules learn from).
    warning: WarningKind | None = None
    history: Duration | None = None

    def resolve(self, start: datetime, sites: list[Site]) -> tuple[Incident, ...]:
        """Absolute incidents for a run starting at ``start``; raises on an unknown source id."""
        by_id = {s.source_id: s for s in sites}
        resolved = []
        for spec in self.incidents:
            unknown = [i for i in spec.sources if i not in by_id]
            if unknown:
                raise ValueError(
                    f"scenario {self.name!r}, incident {spec.id!r}: unknown source ids {unknown}"
                )
            ids = set(spec.sources)
            if spec.radius_m:
                ids |= {
                    s.source_id
                    for s in sites
                    if s.kind in spec.kinds
                    and _can_sense(s, spec.cls)
                    and distance_m(spec.place.lon, spec.place.lat, s.lon, s.lat) <= spec.radius_m
                }
            data = spec.model_dump(
                by_alias=True, exclude={"start", "peak", "end", "sources", "radius_m", "kinds"}
            )
            resolved.append(
                Incident(
                    **data,
                    start=start + spec.start,
                    peak=start + spec.peak,
                    end=start + spec.end,
                    sources=tuple(sorted(ids)),
                )
            )
        return tuple(resolved)


class GroundTruth(BaseModel):
    """What a run planted: written as JSON next to the recorded events."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scenario: str
    seed: int
    start: AwareDatetime
    end: AwareDatetime | None
    incidents: tuple[Incident, ...]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def _can_sense(site: Site, cls: IncidentClass) -> bool:
    """Cameras without video analytics (service counters) see no flood or crowd; they can only go offline."""
    return bool(site.properties.get("analytics", True)) or cls is IncidentClass.CAMERA_OUTAGE


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough within a city."""
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * 111_320
    return math.hypot(dx, dy)


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name, or a YAML file by path; errors name the file and the bad value."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise ValueError(
                f"unknown scenario {str(name_or_path)!r}; available: {', '.join(scenario_names())}"
            )
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario file must be a YAML mapping")
    try:
        return Scenario.model_validate(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def all_sites(directory: Path | None = None) -> list[Site]:
    return load_sites(None, directory)
