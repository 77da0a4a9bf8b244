"""The live city state that the map layers draw and the snapshot refresher builds: vocabulary.

Plain frozen read models (no queries, no web): :class:`CityState` is the city at one moment, built
once by the web app's refresher (``ioc.web.snapshot``) and read by the layer builders (``layers/``),
which therefore never import the web app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

CameraStatus = Literal["online", "offline", "incident", "nodata"]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    source_id: str
    kind: str
    name: str
    lon: float | None
    lat: float | None
    admin_unit: str | None
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReportRow:
    """A citizen report's latest state (no personal data)."""

    ticket_id: str
    created_at: datetime
    updated_at: datetime
    action: str
    category: str | None
    channel: str
    lon: float
    lat: float
    admin_unit: str | None


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An unresolved alert as the alert engine stores it (``ioc/schema/020_alerts.sql``)."""

    alert_id: str
    severity: str
    state: str
    title_vi: str
    title_en: str
    lon: float | None
    lat: float | None
    source_id: str | None
    admin_unit: str | None
    created_at: datetime
    silenced_until: datetime | None

    @property
    def acknowledged(self) -> bool:
        return self.state != "new"

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_vi


@dataclass(frozen=True, slots=True)
class CameraState:
    source_id: str
    status: CameraStatus
    vehicles: int | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TrafficState:
    source_id: str
    speed_kmh: float
    free_flow_kmh: float
    at: datetime

    @property
    def ratio(self) -> float:
        """Speed as a share of the free-flow speed (0 … ~1.2)."""
        return self.speed_kmh / self.free_flow_kmh if self.free_flow_kmh > 0 else 0.0


@dataclass(frozen=True, slots=True)
class AirState:
    source_id: str
    aqi: int | None  # hourly VN_AQI (NowCast), None when there is not enough data
    pm25: float | None  # latest hourly mean
    at: datetime


@dataclass(frozen=True)
class Boundaries:
    """The administrative units drawn under every layer (static for a server's life)."""

    set_id: str
    approximate: bool
    level: str
    geojson: Mapping[str, Any]
    names: Mapping[str, str]  # code → full Vietnamese name
    bbox: tuple[float, float, float, float] = (106.4, 20.6, 107.1, 21.1)  # lon/lat min, max

    @property
    def leaflet_bounds(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` for ``dl.Map(bounds=...)``."""
        w, s, e, n = self.bbox
        return [[s, w], [n, e]]


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity (layer caches key on it)
class CityState:
    """The city at one moment: everything the layers draw. Built once, never changed."""

    asof: datetime
    sources: Mapping[str, SourceInfo]
    boundaries: Boundaries
    cameras: tuple[CameraState, ...] = ()
    traffic: tuple[TrafficState, ...] = ()
    air: tuple[AirState, ...] = ()
    reports: tuple[ReportRow, ...] = ()
    alerts: tuple[AlertRow, ...] = ()
    # Read models of the snapshot parts (ioc/web/parts), by part name, for layers that draw them
    # (e.g. the flood layer); values are typed by the desk that declares the part.
    parts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
