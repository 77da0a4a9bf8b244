"""Replay recorded streams onto the topics: JSONL event records or CSV time series (e.g. NAB).

Several streams replay in sync: they are merged by event time and paced together. A CSV series
``timestamp,value`` becomes the readings of one registered source; which source and field is
given as ``FILE.csv@SOURCE_ID[:FIELD][*SCALE]`` or chosen from the file name:

* ``speed_*.csv`` (NAB realTraffic, Minnesota DOT, mph) → ``seg-caubinh-s`` ``speed_kmh`` × 1.609
* ``occupancy_*.csv`` → ``seg-lachtray-01s`` ``occupancy_pct``
* ``TravelTime_*.csv`` (seconds over the detector's stretch) → ``seg-phamvandong-01s`` ``speed_kmh``
  as 1500 m / travel time (a 1.5 km reference stretch)
* anything else → ``air-trungtam`` ``pm25`` (clipped to the physical range)

The rest of a traffic reading follows from the mapped value through the simulator's speed-flow
curve (free-flow speed and lanes from the registry). Air readings carry only the mapped pollutant.
"""

from __future__ import annotations

import csv
import heapq
import math
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from geodata.sites import Site, sites_by_id
from ioc.events import Event
from ioc.sources import EVENT_CLASSES, SourceKind
from ioc.sources.air import AirEvent
from ioc.sources.traffic import TrafficEvent
from simulators.base import run_event_id
from simulators.traffic import CAPACITY_VPH_PER_LANE, VEHICLE_SPACE_M
from simulators.wire import Message

_NAMESPACE = uuid.UUID("6f1c6f86-5b0e-4c55-9d8b-8a1b2a0f6e11")  # replayed-CSV event ids
TRAVEL_REFERENCE_M = 1500.0

_TRAFFIC_FIELDS = ("speed_kmh", "occupancy_pct", "volume_vph")
_AIR_FIELDS = ("pm25", "pm10", "no2", "so2", "o3", "co", "temperature_c", "humidity_pct")


@dataclass(frozen=True)
class CsvSeries:
    """A ``timestamp,value`` file mapped onto one field of one registered source."""

    path: Path
    source_id: str
    field: str
    scale: float = 1.0
    travel_time: bool = False  # values are seconds over TRAVEL_REFERENCE_M, turned into a speed

    @classmethod
    def parse(cls, spec: str) -> CsvSeries:
        """``FILE.csv``, ``FILE.csv@SOURCE``, ``FILE.csv@SOURCE:FIELD`` or ``…:FIELD*SCALE``."""
        path_part, _, target = spec.partition("@")
        path = Path(path_part)
        default = cls.default_for(path)
        if not target:
            return default
        source_id, _, field_part = target.partition(":")
        field, _, scale = field_part.partition("*")
        field = field or ("speed_kmh" if source_id.startswith("seg-") else "pm25")
        return cls(path, source_id, field, float(scale) if scale else 1.0)

    @classmethod
    def default_for(cls, path: Path) -> CsvSeries:
        name = path.name.lower()
        if name.startswith("speed"):
            return cls(path, "seg-caubinh-s", "speed_kmh", 1.609344)
        if name.startswith("occupancy"):
            return cls(path, "seg-lachtray-01s", "occupancy_pct")
        if name.startswith("traveltime"):
            return cls(path, "seg-phamvandong-01s", "speed_kmh", travel_time=True)
        return cls(path, "air-trungtam", "pm25")


def read_jsonl(path: Path) -> list[Message]:
    """Records of a ``--record`` file (or bare event objects), ordered by time (stable)."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                out.append(Message.from_record(line, where=f"{path}:{n}"))
    out.sort(key=lambda m: m.time)
    return out


def _traffic_from(site: Site, field: str, value: float, t: datetime, event_id: uuid.UUID) -> TrafficEvent:
    ff = float(site.properties["free_flow_kmh"])
    lanes = int(site.properties["lanes"])
    capacity = lanes * CAPACITY_VPH_PER_LANE
    if field == "speed_kmh":
        speed = min(200.0, max(1.0, value))
        ratio = min(1.0, speed / ff)
        x = ((1 / ratio - 1) / 0.8) ** (1 / 3) if ratio < 1 else 0.05  # inverse of the speed-flow curve
        volume = capacity * min(x, 1.0)
        occupancy = min(98.0, volume / lanes / speed * VEHICLE_SPACE_M / 10)
    elif field == "occupancy_pct":
        occupancy = min(100.0, max(0.0, value))
        speed = max(2.0, ff * (1 - 0.85 * occupancy / 100))
        volume = min(20_000.0, occupancy * 10 / VEHICLE_SPACE_M * speed * lanes)
    elif field == "volume_vph":
        volume = min(20_000.0, max(0.0, value))
        x = volume / capacity
        speed = ff / (1 + 0.8 * min(x, 1.3) ** 3)
        occupancy = min(98.0, volume / lanes / speed * VEHICLE_SPACE_M / 10)
    else:
        raise ValueError(f"cannot map a CSV onto traffic field {field!r}; use one of {_TRAFFIC_FIELDS}")
    return TrafficEvent(
        event_id=event_id, source_id=site.source_id, event_time=t, speed_kmh=round(speed, 1),
        volume_vph=round(volume), occupancy_pct=round(occupancy, 1), free_flow_kmh=ff,
    )  # fmt: skip


def read_csv(series: CsvSeries, sites: dict[str, Site] | None = None) -> list[Message]:
    """Readings of one source from a CSV series (naive timestamps are taken as UTC)."""
    sites = sites if sites is not None else sites_by_id()
    site = sites.get(series.source_id)
    if site is None or site.kind not in (SourceKind.TRAFFIC, SourceKind.AIR):
        raise ValueError(
            f"{series.path}: {series.source_id!r} is not a registered traffic segment or air station"
        )
    fields = _TRAFFIC_FIELDS if site.kind is SourceKind.TRAFFIC else _AIR_FIELDS
    if series.field not in fields:
        raise ValueError(
            f"{series.path}: field {series.field!r} does not fit {series.source_id}; use one of {fields}"
        )
    out = []
    with series.path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                t = datetime.fromisoformat(row["timestamp"])
                value = float(row["value"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{series.path}:{n}: expected timestamp,value, got {row!r}") from exc
            if not math.isfinite(value):
                continue
            t = t.replace(tzinfo=UTC) if t.tzinfo is None else t
            event_id = uuid.uuid5(
                _NAMESPACE, f"{series.path.name}:{series.source_id}:{series.field}:{t.isoformat()}"
            )
            if series.travel_time:
                value = TRAVEL_REFERENCE_M / max(value, 1.0) * 3.6
            value *= series.scale
            event: Event
            if site.kind is SourceKind.TRAFFIC:
                event = _traffic_from(site, series.field, value, t, event_id)
            else:
                lo, hi = _bounds(series.field)
                clipped = min(max(value, lo), hi)
                event = AirEvent(
                    event_id=event_id, source_id=site.source_id, event_time=t, **{series.field: clipped}
                )
            out.append(Message.of(event))
    out.sort(key=lambda m: m.time)
    return out


def _bounds(name: str) -> tuple[float, float]:
    """The range pydantic enforces on an AirEvent field (replayed values are clipped into it)."""
    lo, hi = -math.inf, math.inf
    for meta in AirEvent.model_fields[name].metadata:
        lo = float(getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else lo)
        hi = float(getattr(meta, "le", None) if getattr(meta, "le", None) is not None else hi)
    return lo, hi


def load_stream(spec: str) -> list[Message]:
    """One stream from a command-line argument: a ``.jsonl`` record file or a CSV series spec."""
    path = Path(spec.partition("@")[0])
    if not path.exists():
        raise ValueError(f"replay input not found: {path}")
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    if path.suffix == ".csv":
        return read_csv(CsvSeries.parse(spec))
    raise ValueError(f"{path}: replay reads .jsonl records or .csv series, not {path.suffix!r}")


def merge(streams: Iterable[list[Message]]) -> Iterator[Message]:
    """All streams in one time order (ties keep stream order), so they replay in sync."""
    return heapq.merge(*streams, key=lambda m: m.time)


def retime(message: Message, shift: timedelta, run_id: str | None = None) -> Message:
    """The message moved by ``shift``; an event gets the new time and a new id derived from the old.

    The new id is deterministic (uuid5 of the old id and the new time, or of the run id), so
    replaying the same recording at the same new start in the same run stores nothing twice, while
    a different start or run is new data.
    """
    if message.reason is not None:
        return Message(message.time + shift, message.kind, message.key, message.value, message.reason)
    event = EVENT_CLASSES[message.kind].model_validate_json(message.value)
    new_time = event.event_time + shift
    new_id = (run_event_id("replay", run_id, event.event_id) if run_id is not None
              else uuid.uuid5(event.event_id, new_time.isoformat()))
    moved = event.model_copy(update={"event_time": new_time, "event_id": new_id})
    return Message.of(moved)  # type: ignore[arg-type]


def never_future(first: datetime, last: datetime, target: datetime | None, now: datetime) -> timedelta:
    """The shift for a replay: the first event to ``target`` when given, but never so far that the
    newest recorded event lands after ``now`` (consumers refuse future timestamps). ``--start now``
    therefore maps the newest event to now and the rest into the past."""
    shift = (target - first) if target is not None else timedelta(0)
    return min(shift, now - last)
