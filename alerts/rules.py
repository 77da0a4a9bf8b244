"""Rules: stateful, pure evaluators over typed events that say when an incident starts, lasts and ends.

Each rule keeps per-key state (station, segment, camera, admin unit) and returns ``AlertUpdate``s:
``raise`` once when its condition has held long enough, ``update`` while it lasts (when the
severity or the measured value changes), ``clear`` once when it has been quiet long enough. The
thresholds differ for raising and clearing (hysteresis), so one incident gives one alert.
Rules never touch the database or Kafka; the engine that wires them does. Time comes only from
event times and from ``evaluate_tick(now)``, so replays are deterministic.

The thresholds live in ``alerts/rules.yaml`` (``load_rule_config``), not in code.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Protocol
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.aqi import Pollutant, Standard, band_for, hourly_sub_index
from alerts.budget_rules import BudgetForecastConfig, BudgetYoyConfig, BudgetYtdPlanConfig
from alerts.flood_rules import (
    FloodLevelConfig,
    FloodRainTideConfig,
    FloodRiseConfig,
    FloodStreetClusterConfig,
)
from alerts.model import AlertClass, AlertUpdate, Severity, UpdateKind
from alerts.public_order_rules import PublicOrderClusterConfig, PublicOrderCountConfig
from alerts.soc_rules import SocStormConfig
from ioc.events import Event
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent, DetectionType
from ioc.sources.feedback import FeedbackAction, FeedbackEvent
from ioc.sources.traffic import TrafficEvent

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
log = logging.getLogger(__name__)

# --- configuration -----------------------------------------------------------------------------

_CFG = ConfigDict(frozen=True, extra="forbid")


class AqiSustainedConfig(BaseModel):
    """Hourly AQI (NowCast for PM) at or above ``raise_at`` for ``sustain_hours`` consecutive hours;
    cleared after ``clear_hours`` hours below ``clear_below``."""

    model_config = _CFG
    type: Literal["aqi_sustained"]
    id: str
    standard: Standard = Standard.VN
    pollutants: tuple[Pollutant, ...] = (Pollutant.PM25, Pollutant.PM10)
    raise_at: int = Field(default=151, ge=1, le=500)
    clear_below: int = Field(default=101, ge=1, le=500)
    sustain_hours: int = Field(default=2, ge=1, le=72)
    clear_hours: int = Field(default=2, ge=1, le=72)
    severity_from: dict[int, Severity] = {
        101: Severity.MINOR,
        151: Severity.MODERATE,
        201: Severity.SEVERE,
        301: Severity.EXTREME,
    }

    @model_validator(mode="after")
    def _hysteresis(self) -> AqiSustainedConfig:
        if self.clear_below > self.raise_at:
            raise ValueError(f"clear_below {self.clear_below} must not exceed raise_at {self.raise_at}")
        return self


class TrafficSlowConfig(BaseModel):
    """Speed below ``raise_ratio`` × free-flow for ``raise_after``; cleared once at or above
    ``clear_ratio`` for ``clear_after``."""

    model_config = _CFG
    type: Literal["traffic_slow"]
    id: str
    raise_ratio: float = Field(default=0.4, gt=0, lt=1)
    clear_ratio: float = Field(default=0.6, gt=0, le=1)
    severe_ratio: float = Field(default=0.2, gt=0, lt=1)
    raise_after: timedelta = timedelta(minutes=10)
    clear_after: timedelta = timedelta(minutes=5)

    @model_validator(mode="after")
    def _hysteresis(self) -> TrafficSlowConfig:
        if not self.severe_ratio <= self.raise_ratio <= self.clear_ratio:
            raise ValueError("need severe_ratio ≤ raise_ratio ≤ clear_ratio")
        return self


class CameraSilentConfig(BaseModel):
    """No online heartbeat for ``silent_after`` (checked on clock ticks); cleared by the next one."""

    model_config = _CFG
    type: Literal["camera_silent"]
    id: str
    silent_after: timedelta = timedelta(minutes=5)
    severe_after: timedelta = timedelta(hours=1)


class DetectionThreshold(BaseModel):
    model_config = _CFG
    raise_confidence: float = Field(ge=0, le=1)
    clear_confidence: float = Field(ge=0, le=1)
    alert_class: AlertClass
    severity: Severity = Severity.MODERATE

    @model_validator(mode="after")
    def _hysteresis(self) -> DetectionThreshold:
        if self.clear_confidence > self.raise_confidence:
            raise ValueError("clear_confidence must not exceed raise_confidence")
        return self


class CameraDetectionConfig(BaseModel):
    """A detection of a configured type at ``raise_confidence`` or more; kept alive by detections at
    ``clear_confidence`` or more and cleared after ``quiet_after`` without one."""

    model_config = _CFG
    type: Literal["camera_detection"]
    id: str
    detections: dict[DetectionType, DetectionThreshold]
    quiet_after: timedelta = timedelta(minutes=3)


class CitizenBurstConfig(BaseModel):
    """More new reports in one admin unit within ``window`` than its usual hourly rate explains:
    Poisson tail P(N ≥ n) < ``alpha`` and n ≥ ``min_reports``; cleared when P ≥ ``clear_alpha``."""

    model_config = _CFG
    type: Literal["citizen_burst"]
    id: str
    window: timedelta = timedelta(hours=1)
    alpha: float = Field(default=1e-3, gt=0, lt=1)
    clear_alpha: float = Field(default=0.05, gt=0, lt=1)
    severe_alpha: float = Field(default=1e-6, gt=0, lt=1)
    min_reports: int = Field(default=5, ge=1)
    default_rate_per_hour: float = Field(default=0.5, gt=0)
    rates_per_hour: dict[str, float] = {}

    @model_validator(mode="after")
    def _hysteresis(self) -> CitizenBurstConfig:
        if not self.severe_alpha <= self.alpha <= self.clear_alpha:
            raise ValueError("need severe_alpha ≤ alpha ≤ clear_alpha")
        return self


class SeriesDetectorConfig(BaseModel):
    """One anomaly detector (``alerts.detectors`` registry name) over some features of a series.

    A reading is *hot* for this detector when its score reaches ``raise_score`` and, with a
    ``direction``, the first feature lies on that side of its usual (seasonal) value: slow traffic
    and dirty air matter, fast traffic and clean air do not. It stays warm down to ``clear_score``.
    """

    model_config = _CFG
    detector: str
    features: tuple[str, ...] = Field(min_length=1)
    params: dict[str, float | int | bool | str] = {}
    raise_score: float = Field(gt=0, lt=1)
    clear_score: float = Field(gt=0, lt=1)
    direction: Literal["low", "high", "any"] = "any"
    # With a direction: the first feature must also differ from its usual value by this much (in its
    # own unit), so a series that hardly varies (night-time free flow) cannot alarm on a tiny change.
    min_deviation: float = Field(default=0.0, ge=0)
    # ... and by this share of its usual value (0.25: a quarter below/above usual), so a segment whose
    # rush hour is 20 km/h and one whose rush hour is 60 km/h are judged alike.
    min_change: float = Field(default=0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _hysteresis(self) -> SeriesDetectorConfig:
        if self.clear_score > self.raise_score:
            raise ValueError(f"clear_score {self.clear_score} must not exceed raise_score {self.raise_score}")
        return self


class AnomalyConfig(BaseModel):
    """Anomaly models per series of one source kind (traffic segment, air station).

    Readings are grouped ``aggregate`` at a time into one observation (the median of each feature).
    Raised after ``raise_after`` consecutive hot observations (any detector), once the series has
    ``min_learned`` observations; cleared after ``clear_after`` consecutive observations that no
    detector finds even warm. Built by :class:`alerts.engine.AlertEngine`, not by :func:`build_rules`.
    """

    model_config = _CFG
    type: Literal["anomaly"]
    id: str
    source: Literal["traffic", "air", "camera"]
    alert_class: AlertClass
    detectors: tuple[SeriesDetectorConfig, ...] = Field(min_length=1)
    aggregate: int = Field(default=1, ge=1, le=60)  # readings per observation (their median)
    raise_after: int = Field(default=5, ge=1)
    clear_after: int = Field(default=10, ge=1)
    min_learned: int = Field(default=720, ge=0)
    severe_score: float = Field(default=0.9, gt=0, le=1)
    # Parameters of the usual-value profile kept per series (alerts.engine.UsualProfile: per day
    # type and quarter hour): with it the detectors see each feature as a ratio to its usual value
    # now (1.0 = usual), so a stream detector judges the departure from the daily pattern.
    usual: dict[str, int] | None = None


RuleSpec = Annotated[
    AqiSustainedConfig
    | TrafficSlowConfig
    | CameraSilentConfig
    | CameraDetectionConfig
    | CitizenBurstConfig
    | AnomalyConfig
    # the early warnings (issue 13): budget revenue, public order, floods, SOC
    | BudgetYtdPlanConfig
    | BudgetYoyConfig
    | BudgetForecastConfig
    | PublicOrderCountConfig
    | PublicOrderClusterConfig
    | FloodLevelConfig
    | FloodRiseConfig
    | FloodRainTideConfig
    | FloodStreetClusterConfig
    | SocStormConfig,
    Field(discriminator="type"),
]


class RuleConfig(BaseModel):
    model_config = _CFG
    rules: tuple[RuleSpec, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleConfig:
        ids = [r.id for r in self.rules]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate rule ids: {sorted(dup)}")
        return self


def load_rule_config(path: Path | None = None) -> RuleConfig:
    """Read the rules file (default: the packaged ``alerts/rules.yaml``); errors name the bad field."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("alerts").joinpath("rules.yaml").read_text("utf-8")
    )
    return RuleConfig.model_validate(yaml.safe_load(text))


# --- rules ---------------------------------------------------------------------------------------


class Rule(Protocol):
    id: str

    def evaluate(self, event: Event) -> list[AlertUpdate]: ...

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]: ...


def _key(rule_id: str, *parts: str) -> str:
    return ":".join((rule_id, *parts))


def _severity_for(value: int, table: Mapping[int, Severity]) -> Severity:
    chosen = Severity.MINOR
    for threshold, sev in sorted(table.items()):
        if value >= threshold:
            chosen = sev
    return chosen


@dataclass(slots=True)
class _Station:
    hour: datetime | None = None
    sums: dict[Pollutant, list[float]] = field(default_factory=dict)  # pollutant → [sum, count]
    history: dict[Pollutant, deque[float | None]] = field(default_factory=dict)  # most recent first
    above: int = 0
    below: int = 0
    active: bool = False
    severity: Severity | None = None
    last_aqi: int | None = None


class AqiSustainedRule:
    """Per station: hourly means → hourly AQI (NowCast for PM) → sustained-band alert.

    An hour is evaluated when the first reading of a later hour arrives. Readings older than the
    station's current hour are ignored (the hour is closed).
    """

    def __init__(self, cfg: AqiSustainedConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self._stations: dict[str, _Station] = {}

    def evaluate(self, event: Event) -> list[AlertUpdate]:
        if not isinstance(event, AirEvent):
            return []
        st = self._stations.setdefault(event.source_id, _Station())
        hour = event.event_time.replace(minute=0, second=0, microsecond=0)
        out: list[AlertUpdate] = []
        if st.hour is not None and hour < st.hour:
            return out
        if st.hour is not None and hour > st.hour:
            out += self._close_hours(event.source_id, st, hour)
        st.hour = hour
        for p in self.cfg.pollutants:
            v = _reading(event, p)
            if v is not None:
                acc = st.sums.setdefault(p, [0.0, 0])
                acc[0] += v
                acc[1] += 1
        return out

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        return []

    def _close_hours(self, source_id: str, st: _Station, new_hour: datetime) -> list[AlertUpdate]:
        assert st.hour is not None
        gap = int((new_hour - st.hour) / timedelta(hours=1))
        out: list[AlertUpdate] = []
        for k in range(min(gap, 12)):
            end = st.hour + timedelta(hours=k + 1)
            for p in self.cfg.pollutants:
                hist = st.history.setdefault(p, deque(maxlen=12))
                acc = st.sums.get(p)
                hist.appendleft(acc[0] / acc[1] if k == 0 and acc and acc[1] else None)
            out += self._judge(source_id, st, end)
        st.sums = {}
        return out

    def _judge(self, source_id: str, st: _Station, at: datetime) -> list[AlertUpdate]:
        subs = []
        for p, hist in st.history.items():
            try:
                subs.append(hourly_sub_index(p, list(hist), self.cfg.standard))
            except ValueError:  # too few recent hours for this pollutant: no index this hour
                continue
        if not subs:
            return []  # no data is not evidence either way: counters keep their values
        worst = max(subs, key=lambda s: s.value)
        aqi = worst.aqi
        st.above = st.above + 1 if aqi >= self.cfg.raise_at else 0
        st.below = st.below + 1 if aqi < self.cfg.clear_below else 0
        severity = _severity_for(aqi, self.cfg.severity_from)
        if not st.active:
            if st.above >= self.cfg.sustain_hours:
                st.active, st.severity, st.last_aqi = True, severity, aqi
                return [self._update(UpdateKind.RAISE, source_id, at, aqi, worst.pollutant, severity)]
            return []
        if st.below >= self.cfg.clear_hours:
            st.active, st.severity, st.last_aqi = False, None, None
            return [self._update(UpdateKind.CLEAR, source_id, at, aqi, worst.pollutant, severity)]
        if aqi != st.last_aqi or severity != st.severity:
            st.severity, st.last_aqi = severity, aqi
            return [self._update(UpdateKind.UPDATE, source_id, at, aqi, worst.pollutant, severity)]
        return []

    def _update(
        self,
        kind: UpdateKind,
        source_id: str,
        at: datetime,
        aqi: int,
        pollutant: Pollutant,
        severity: Severity,
    ) -> AlertUpdate:
        band = band_for(aqi, self.cfg.standard)
        std = "VN_AQI" if self.cfg.standard is Standard.VN else "US AQI"
        hours = self.cfg.sustain_hours
        return AlertUpdate(
            kind=kind,
            key=_key(self.id, source_id),
            rule_id=self.id,
            alert_class=AlertClass.ENVIRONMENT,
            severity=severity,
            at=at,
            source_id=source_id,
            value=float(aqi),
            title_vi=f"Chất lượng không khí {band.name_vi.lower()} kéo dài tại trạm {source_id}",
            title_en=f"Sustained {band.name_en.lower()} air quality at station {source_id}",
            detail_vi=f"{std} giờ {aqi} ({band.name_vi}, do {pollutant.value}); ngưỡng {self.cfg.raise_at} trong {hours} giờ liên tiếp",
            detail_en=f"hourly {std} {aqi} ({band.name_en}, from {pollutant.value}); threshold {self.cfg.raise_at} for {hours} consecutive hours",
        )


def _reading(event: AirEvent, p: Pollutant) -> float | None:
    return {
        Pollutant.PM25: event.pm25,
        Pollutant.PM10: event.pm10,
        Pollutant.O3: event.o3,
        Pollutant.NO2: event.no2,
        Pollutant.SO2: event.so2,
        Pollutant.CO: event.co,
    }[p]


@dataclass(slots=True)
class _Segment:
    slow_since: datetime | None = None
    ok_since: datetime | None = None
    active: bool = False
    severity: Severity | None = None
    last_time: datetime | None = None


class TrafficSlowRule:
    """Per road segment: sustained speed below a share of its free-flow speed."""

    def __init__(self, cfg: TrafficSlowConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self._segments: dict[str, _Segment] = {}

    def evaluate(self, event: Event) -> list[AlertUpdate]:
        if not isinstance(event, TrafficEvent):
            return []
        seg = self._segments.setdefault(event.source_id, _Segment())
        t = event.event_time
        if seg.last_time is not None and t < seg.last_time:
            return []  # out of order: the segment's timeline has moved on
        seg.last_time = t
        ratio = event.speed_kmh / event.free_flow_kmh
        severity = Severity.SEVERE if ratio < self.cfg.severe_ratio else Severity.MODERATE
        if not seg.active:
            if ratio < self.cfg.raise_ratio:
                seg.slow_since = seg.slow_since or t
                if t - seg.slow_since >= self.cfg.raise_after:
                    seg.active, seg.severity, seg.ok_since = True, severity, None
                    return [self._update(UpdateKind.RAISE, event, ratio, severity, t - seg.slow_since)]
            else:
                seg.slow_since = None
            return []
        if ratio >= self.cfg.clear_ratio:
            seg.ok_since = seg.ok_since or t
            if t - seg.ok_since >= self.cfg.clear_after:
                seg.active, seg.slow_since, seg.severity = False, None, None
                return [self._update(UpdateKind.CLEAR, event, ratio, severity, None)]
            return []
        seg.ok_since = None
        if severity != seg.severity:  # worse or easing, still congested
            seg.severity = severity
            return [self._update(UpdateKind.UPDATE, event, ratio, severity, None)]
        return []

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        return []

    def _update(
        self, kind: UpdateKind, e: TrafficEvent, ratio: float, severity: Severity, lasted: timedelta | None
    ) -> AlertUpdate:
        minutes = f" trong {int(lasted.total_seconds() // 60)} phút" if lasted else ""
        minutes_en = f" for {int(lasted.total_seconds() // 60)} min" if lasted else ""
        return AlertUpdate(
            kind=kind,
            key=_key(self.id, e.source_id),
            rule_id=self.id,
            alert_class=AlertClass.TRAFFIC,
            severity=severity,
            at=e.event_time,
            source_id=e.source_id,
            value=round(ratio, 3),
            title_vi=f"Ùn tắc giao thông trên đoạn {e.source_id}",
            title_en=f"Congestion on segment {e.source_id}",
            detail_vi=f"tốc độ {e.speed_kmh:.0f} km/h = {ratio:.0%} tốc độ dòng tự do {e.free_flow_kmh:.0f} km/h{minutes}",
            detail_en=f"speed {e.speed_kmh:.0f} km/h = {ratio:.0%} of free-flow {e.free_flow_kmh:.0f} km/h{minutes_en}",
        )


@dataclass(slots=True)
class _Camera:
    last_online: datetime
    active: bool = False
    severity: Severity | None = None


class CameraSilentRule:
    """Per camera: no online heartbeat for too long (needs clock ticks)."""

    def __init__(self, cfg: CameraSilentConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self._cameras: dict[str, _Camera] = {}

    def evaluate(self, event: Event) -> list[AlertUpdate]:
        if not isinstance(event, CameraEvent):
            return []
        cam = self._cameras.get(event.source_id)
        if cam is None:
            # First sight: an offline report starts the silence clock now.
            self._cameras[event.source_id] = _Camera(event.event_time)
            return []
        if not event.online or event.event_time <= cam.last_online:
            return []
        cam.last_online = event.event_time
        if cam.active:
            cam.active, cam.severity = False, None
            return [
                self._update(
                    UpdateKind.CLEAR, event.source_id, event.event_time, Severity.MINOR, timedelta(0)
                )
            ]
        return []

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        out = []
        for source_id, cam in self._cameras.items():
            silent = now - cam.last_online
            if silent < self.cfg.silent_after:
                continue
            severity = Severity.SEVERE if silent >= self.cfg.severe_after else Severity.MODERATE
            if not cam.active:
                cam.active, cam.severity = True, severity
                out.append(self._update(UpdateKind.RAISE, source_id, now, severity, silent))
            elif severity != cam.severity:
                cam.severity = severity
                out.append(self._update(UpdateKind.UPDATE, source_id, now, severity, silent))
        return out

    def _update(
        self, kind: UpdateKind, source_id: str, at: datetime, severity: Severity, silent: timedelta
    ) -> AlertUpdate:
        minutes = int(silent.total_seconds() // 60)
        return AlertUpdate(
            kind=kind,
            key=_key(self.id, source_id),
            rule_id=self.id,
            alert_class=AlertClass.CAMERA,
            severity=severity,
            at=at,
            source_id=source_id,
            value=float(minutes),
            title_vi=f"Camera {source_id} mất tín hiệu",
            title_en=f"Camera {source_id} is silent",
            detail_vi=f"không có tín hiệu trực tuyến trong {minutes} phút"
            if minutes
            else "camera hoạt động trở lại",
            detail_en=f"no online heartbeat for {minutes} min" if minutes else "camera back online",
        )


@dataclass(slots=True)
class _Detection:
    last_seen: datetime
    confidence: float
    active: bool = True


_DETECTION_VI = {
    DetectionType.FIRE_SMOKE: "Phát hiện cháy/khói",
    DetectionType.CROWD: "Phát hiện tụ tập đông người",
    DetectionType.STOPPED_VEHICLE: "Phát hiện phương tiện dừng đỗ bất thường",
    DetectionType.WRONG_WAY: "Phát hiện phương tiện đi ngược chiều",
    DetectionType.FLOODING: "Phát hiện ngập nước",
}
_DETECTION_EN = {
    DetectionType.FIRE_SMOKE: "Fire/smoke detected",
    DetectionType.CROWD: "Crowd detected",
    DetectionType.STOPPED_VEHICLE: "Stopped vehicle detected",
    DetectionType.WRONG_WAY: "Wrong-way vehicle detected",
    DetectionType.FLOODING: "Flooding detected",
}


class CameraDetectionRule:
    """Per camera and detection type: a confident detection, kept alive while it recurs."""

    def __init__(self, cfg: CameraDetectionConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self._open: dict[tuple[str, DetectionType], _Detection] = {}

    def evaluate(self, event: Event) -> list[AlertUpdate]:
        if not isinstance(event, CameraEvent):
            return []
        # This camera's own clock closes its quiet detections; other cameras wait for ticks.
        out = self._clear_quiet(event.event_time, event.source_id)
        best: dict[DetectionType, float] = {}
        for d in event.detections:
            best[d.type] = max(best.get(d.type, 0.0), d.confidence)
        for dtype, conf in best.items():
            th = self.cfg.detections.get(dtype)
            if th is None:
                continue
            key = (event.source_id, dtype)
            state = self._open.get(key)
            if state is None:
                if conf >= th.raise_confidence:
                    self._open[key] = _Detection(event.event_time, conf)
                    out.append(self._update(UpdateKind.RAISE, event.source_id, dtype, event.event_time, conf))
            elif conf >= th.clear_confidence:
                state.last_seen = event.event_time
                if conf > state.confidence + 0.05:  # report a clearly stronger detection
                    state.confidence = conf
                    out.append(
                        self._update(UpdateKind.UPDATE, event.source_id, dtype, event.event_time, conf)
                    )
        return out

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        return self._clear_quiet(now)

    def _clear_quiet(self, now: datetime, source_id: str | None = None) -> list[AlertUpdate]:
        out = []
        for key, state in list(self._open.items()):
            if source_id is not None and key[0] != source_id:
                continue
            if now - state.last_seen >= self.cfg.quiet_after:
                del self._open[key]
                out.append(self._update(UpdateKind.CLEAR, key[0], key[1], now, state.confidence))
        return out

    def _update(
        self, kind: UpdateKind, source_id: str, dtype: DetectionType, at: datetime, conf: float
    ) -> AlertUpdate:
        th = self.cfg.detections[dtype]
        return AlertUpdate(
            kind=kind,
            key=_key(self.id, source_id, dtype.value),
            rule_id=self.id,
            alert_class=th.alert_class,
            severity=th.severity,
            at=at,
            source_id=source_id,
            value=round(conf, 3),
            title_vi=f"{_DETECTION_VI[dtype]} tại camera {source_id}",
            title_en=f"{_DETECTION_EN[dtype]} at camera {source_id}",
            detail_vi=f"độ tin cậy {conf:.0%} (ngưỡng {th.raise_confidence:.0%})",
            detail_en=f"confidence {conf:.0%} (threshold {th.raise_confidence:.0%})",
        )


def poisson_sf(n: int, lam: float) -> float:
    """P(N ≥ n) for N ~ Poisson(lam), summed in log space (exact for the small counts here)."""
    if n <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    # 1 - Σ_{k<n} e^{-λ} λ^k / k!; for large n sum the upper tail directly to keep precision.
    if n > lam:
        total, k = 0.0, n
        log_term = -lam + n * math.log(lam) - math.lgamma(n + 1)
        while True:
            term = math.exp(log_term)
            total += term
            if term < 1e-17 * total or k > n + 10_000:
                return min(total, 1.0)
            k += 1
            log_term += math.log(lam) - math.log(k)
    below = sum(math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1)) for k in range(n))
    return max(0.0, 1.0 - below)


@dataclass(slots=True)
class _Unit:
    reports: deque[tuple[datetime, float, float]] = field(default_factory=deque)
    tickets: set[str] = field(default_factory=set)
    active: bool = False
    severity: Severity | None = None
    last_count: int = 0


AdminUnitOf = Callable[[float, float], str | None]


class CitizenBurstRule:
    """Per admin unit: a burst of new citizen reports against the unit's usual rate.

    ``admin_unit_of(lon, lat)`` names the unit of a report (e.g. geodata's admin assigner); reports
    outside every unit are not counted. ``set_usual_rates`` replaces the configured rates (e.g. from
    the stored history). Only ``created`` reports count, once per ticket.
    """

    def __init__(
        self,
        cfg: CitizenBurstConfig,
        admin_unit_of: AdminUnitOf | None = None,
        unit_label: Callable[[str], str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self._unit_of = admin_unit_of
        self._label = unit_label or str  # unit code → the name people read (e.g. "Lê Chân")
        self._rates = dict(cfg.rates_per_hour)
        self._profile: tuple[float, ...] | None = None
        self._units: dict[str, _Unit] = {}

    def set_usual_rates(
        self, rates_per_hour: Mapping[str, float], hour_profile: Sequence[float] | None = None
    ) -> None:
        """Replace the usual rates; ``hour_profile`` (24 factors by local hour, mean 1) scales them
        with the time of day, since people report by day and sleep at night."""
        bad = {u: r for u, r in rates_per_hour.items() if not (r > 0 and math.isfinite(r))}
        if bad:
            raise ValueError(f"usual rates must be positive per hour, got {bad}")
        if hour_profile is not None:
            if len(hour_profile) != 24 or not all(f > 0 and math.isfinite(f) for f in hour_profile):
                raise ValueError(f"hour_profile needs 24 positive factors, got {list(hour_profile)}")
            self._profile = tuple(float(f) for f in hour_profile)
        self._rates = dict(rates_per_hour)

    def expected(self, unit: str, at: datetime | None = None) -> float:
        """Reports usually seen in ``unit`` within one window ending at ``at``."""
        rate = self._rates.get(unit, self.cfg.default_rate_per_hour)
        if self._profile is not None and at is not None:
            rate *= self._profile[at.astimezone(LOCAL_TZ).hour]
        return rate * (self.cfg.window / timedelta(hours=1))

    def evaluate(self, event: Event) -> list[AlertUpdate]:
        if not isinstance(event, FeedbackEvent) or event.action is not FeedbackAction.CREATED:
            return []
        if self._unit_of is None:
            raise RuntimeError(f"rule {self.id} needs admin_unit_of to place citizen reports")
        unit_name = self._unit_of(event.lon, event.lat)
        out = self.evaluate_tick(event.event_time)
        if unit_name is None:
            return out
        unit = self._units.setdefault(unit_name, _Unit())
        if event.ticket_id in unit.tickets:
            return out
        unit.tickets.add(event.ticket_id)
        unit.reports.append((event.event_time, event.lon, event.lat))
        self._prune(unit, event.event_time)
        out += self._judge(unit_name, unit, event.event_time)
        return out

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        out = []
        for name, unit in self._units.items():
            if unit.active:
                self._prune(unit, now)
                out += self._judge(name, unit, now)
        return out

    def _prune(self, unit: _Unit, now: datetime) -> None:
        while unit.reports and now - unit.reports[0][0] > self.cfg.window:
            unit.reports.popleft()
        if not unit.reports:
            unit.tickets.clear()  # tickets are only needed while they can still count

    def _judge(self, name: str, unit: _Unit, at: datetime) -> list[AlertUpdate]:
        n = len(unit.reports)
        lam = self.expected(name, at)
        p = poisson_sf(n, lam)
        severity = Severity.SEVERE if p < self.cfg.severe_alpha else Severity.MODERATE
        if not unit.active:
            if n >= self.cfg.min_reports and p < self.cfg.alpha:
                unit.active, unit.severity, unit.last_count = True, severity, n
                return [self._update(UpdateKind.RAISE, name, unit, at, n, lam, p, severity)]
            return []
        if p >= self.cfg.clear_alpha:
            unit.active, unit.severity = False, None
            return [self._update(UpdateKind.CLEAR, name, unit, at, n, lam, p, severity)]
        if n > unit.last_count or severity != unit.severity:
            unit.severity, unit.last_count = severity, max(n, unit.last_count)
            return [self._update(UpdateKind.UPDATE, name, unit, at, n, lam, p, severity)]
        return []

    def _update(
        self,
        kind: UpdateKind,
        name: str,
        unit: _Unit,
        at: datetime,
        n: int,
        lam: float,
        p: float,
        sev: Severity,
    ) -> AlertUpdate:
        lon = sum(r[1] for r in unit.reports) / n if n else None
        lat = sum(r[2] for r in unit.reports) / n if n else None
        minutes = int(self.cfg.window.total_seconds() // 60)
        return AlertUpdate(
            kind=kind,
            key=_key(self.id, name),
            rule_id=self.id,
            alert_class=AlertClass.CITIZEN,
            severity=sev,
            at=at,
            admin_unit=name,
            lon=lon,
            lat=lat,
            value=float(n),
            title_vi=f"Phản ánh của người dân tăng đột biến tại {self._label(name)}",
            title_en=f"Burst of citizen reports in {self._label(name)}",
            detail_vi=f"{n} phản ánh mới trong {minutes} phút, thông thường {lam:.1f} (p = {p:.1e})",
            detail_en=f"{n} new reports in {minutes} min, usually {lam:.1f} (p = {p:.1e})",
        )


# --- engine --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    lon: float
    lat: float
    admin_unit: str | None = None


Locator = Callable[[str], Location | None]


class RuleEngine:
    """All configured rules over one event stream; fills place and admin unit from a locator."""

    def __init__(self, rules: Sequence[Rule], locate: Locator | None = None) -> None:
        self.rules = tuple(rules)
        self._locate = locate

    @classmethod
    def from_config(
        cls,
        config: RuleConfig | None = None,
        admin_unit_of: AdminUnitOf | None = None,
        locate: Locator | None = None,
        unit_label: Callable[[str], str] | None = None,
    ) -> RuleEngine:
        return cls(build_rules(config or load_rule_config(), admin_unit_of, unit_label), locate)

    def evaluate(self, event: Event) -> list[AlertUpdate]:
        return self.place(u for rule in self.rules for u in rule.evaluate(event))

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        if now.tzinfo is None:
            raise ValueError(f"tick time must be timezone-aware, got {now!r}")
        return self.place(u for rule in self.rules for u in rule.evaluate_tick(now))

    def place(self, updates: Iterable[AlertUpdate]) -> list[AlertUpdate]:
        """Fill position and admin unit of updates that name a source but no place."""
        out = []
        for u in updates:
            if self._locate and u.source_id and u.lon is None:
                loc = self._locate(u.source_id)
                if loc is not None:
                    u = u.model_copy(
                        update={"lon": loc.lon, "lat": loc.lat, "admin_unit": u.admin_unit or loc.admin_unit}
                    )
            out.append(u)
        return out


def build_rules(
    config: RuleConfig,
    admin_unit_of: AdminUnitOf | None = None,
    unit_label: Callable[[str], str] | None = None,
) -> list[Rule]:
    """One evaluator per configured rule (anomaly models are built by the alert engine)."""
    rules: list[Rule] = []
    warnings = build_warning_rules(config, admin_unit_of)
    for spec in config.rules:
        if spec.id in warnings:
            rules.append(warnings[spec.id])
            continue
        match spec:
            case AqiSustainedConfig():
                rules.append(AqiSustainedRule(spec))
            case TrafficSlowConfig():
                rules.append(TrafficSlowRule(spec))
            case CameraSilentConfig():
                rules.append(CameraSilentRule(spec))
            case CameraDetectionConfig():
                rules.append(CameraDetectionRule(spec))
            case CitizenBurstConfig():
                rules.append(CitizenBurstRule(spec, admin_unit_of, unit_label))
            case AnomalyConfig():
                pass
    return rules


WARNING_CONFIGS = (
    BudgetYtdPlanConfig, BudgetYoyConfig, BudgetForecastConfig, PublicOrderCountConfig, PublicOrderClusterConfig,
    FloodLevelConfig, FloodRiseConfig, FloodRainTideConfig, FloodStreetClusterConfig, SocStormConfig,
)  # fmt: skip


def warning_rules(
    config: RuleConfig, admin_unit_of: AdminUnitOf | None = None, on: date | None = None
) -> list:  # type: ignore[type-arg]
    """The early-warning rules of ``config`` as :class:`alerts.warnings.WarningRule` (the scenario
    evaluation runs them directly; :func:`build_warning_rules` wraps them for the engine)."""
    from alerts.budget_rules import build_budget_rule
    from alerts.flood_rules import build_flood_rule
    from alerts.public_order_rules import build_public_order_rule
    from alerts.soc_rules import SocStormRule
    from alerts.unit_map import unit_map_for

    specs = [c for c in config.rules if isinstance(c, WARNING_CONFIGS)]
    out = []
    units = None
    for spec in specs:
        if isinstance(spec, BudgetYtdPlanConfig | BudgetYoyConfig | BudgetForecastConfig):
            out.append(build_budget_rule(spec))
        elif isinstance(spec, PublicOrderCountConfig | PublicOrderClusterConfig):
            units = units or unit_map_for(on or date.today())
            out.append(build_public_order_rule(spec, units, unit_at=admin_unit_of))
        elif isinstance(spec, FloodStreetClusterConfig):
            out.append(build_flood_rule(spec, {}, unit_at=admin_unit_of))
        elif isinstance(spec, FloodLevelConfig | FloodRiseConfig | FloodRainTideConfig):
            out.append(build_flood_rule(spec))
        elif isinstance(spec, SocStormConfig):
            out.append(SocStormRule(spec))
    return out


def build_warning_rules(config: RuleConfig, admin_unit_of: AdminUnitOf | None = None) -> dict[str, Rule]:
    """The early-warning rules the engine can run now: those whose alert class ``alerts.model`` declares
    (the budget class comes with the model change for the lead; until then the budget rules are left
    out of the live engine, logged once, and still scored by the scenario evaluation)."""
    from alerts.warnings import AlertRule, alert_class_available

    if not any(isinstance(c, WARNING_CONFIGS) for c in config.rules):
        return {}
    out: dict[str, Rule] = {}
    for rule in warning_rules(config, admin_unit_of):
        if alert_class_available(rule.alert_class):
            out[rule.id] = AlertRule(rule)
        else:
            log.warning(
                "rule %s left out: alert class %r is not declared in alerts.model", rule.id, rule.alert_class
            )
    return out


def rule_versions(config: RuleConfig | None = None) -> dict[str, str]:
    """Rule id → version (``<declared>+<digest of its thresholds>``) for every configured rule and model:
    what an alert's ``rule_version`` records."""
    from alerts.warnings import config_version

    config = config or load_rule_config()
    return {c.id: config_version(str(getattr(c, "version", "1")), c) for c in config.rules}


def rule_version(rule_id: str, config: RuleConfig | None = None) -> str | None:
    return rule_versions(config).get(rule_id)


__all__ = [
    "AnomalyConfig",
    "AqiSustainedRule",
    "CameraDetectionRule",
    "CameraSilentRule",
    "CitizenBurstRule",
    "Location",
    "Rule",
    "RuleConfig",
    "RuleEngine",
    "SeriesDetectorConfig",
    "TrafficSlowRule",
    "build_rules",
    "load_rule_config",
    "poisson_sf",
    "rule_version",
    "rule_versions",
    "warning_rules",
]
