"""Flood warnings: alarm levels, rate of rise, heavy rain with a high tide, flooded-street clusters.

- **flood-level**: a gauge at or above its alarm level BĐ1 / BĐ2 / BĐ3 (registry ``alarm_levels_m``)
  for ``sustain`` readings raises (moderate / severe / extreme); the level falling back below
  BĐ1 − ``hysteresis_m`` for ``clear_after`` clears it, so one spring-tide episode is one alert;
- **flood-rise**: water rising faster over ``window`` than the gauge's own usual rise at that
  point (learnt: the ``quantile`` of its past rises, so a tidal river's ordinary flood tide is not an
  alarm) by ``min_rise_m`` or more, while within ``watch_margin_m`` of BĐ1;
- **flood-rain-tide**: heavy rain (``rain_mm`` over ``rain_hours`` at a gauge, or its 24-hour
  "mưa to" class) while the sea or a tidal river is within ``tide_margin_m`` of its BĐ1: the drains
  cannot empty into a high river. One city-wide alert;
- **flood-street-cluster**: ``min_signals`` flooded-street signals within ``radius_m`` and ``window``
  (citizen reports about flooding — category or words such as "ngập" — and camera flooding
  detections), from at least ``min_sources`` distinct reporters or cameras.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.model import Severity, UpdateKind
from alerts.warnings import WarningUpdate, config_version, fmt_num
from ioc.events import Event
from ioc.sources.camera import CameraEvent, DetectionType
from ioc.sources.feedback import FeedbackAction, FeedbackEvent
from ioc.sources.rain import RainEvent
from ioc.sources.water import WaterLevelEvent

_CFG = ConfigDict(frozen=True, extra="forbid")
LEVELS = ("BD1", "BD2", "BD3")
LEVEL_SEVERITY = {"BD1": Severity.MODERATE, "BD2": Severity.SEVERE, "BD3": Severity.EXTREME}
LEVEL_VI = {"BD1": "báo động 1", "BD2": "báo động 2", "BD3": "báo động 3"}
LEVEL_EN = {"BD1": "alarm level 1", "BD2": "alarm level 2", "BD3": "alarm level 3"}


@dataclass(frozen=True, slots=True)
class Gauge:
    source_id: str
    name: str
    kind: str  # tide | tidal_river | river | rain
    lon: float
    lat: float
    admin_unit: str | None
    alarm_levels: Mapping[str, float]  # BD1..BD3 (water)
    rain_classes: Mapping[str, float]  # moderate, heavy, very_heavy mm/24 h (rain)


def registry_gauges() -> dict[str, Gauge]:
    from geodata.sites import load_sites
    from ioc.sources import SourceKind

    out = {}
    for kind in ("water", "rain"):
        for s in load_sites(SourceKind(kind)):
            p = s.properties
            out[s.source_id] = Gauge(
                s.source_id, s.name, str(p.get("kind", "rain" if kind == "rain" else "tidal_river")), s.lon, s.lat,
                p.get("admin_unit"), dict(p.get("alarm_levels_m") or {}), dict(p.get("classes_mm_24h") or {}),
            )  # fmt: skip
    return out


class _FloodConfig(BaseModel):
    model_config = _CFG
    id: str
    version: str = "1"
    alert_class: str = "environment"  # "flood" once alerts.model declares it


class FloodLevelConfig(_FloodConfig):
    type: Literal["flood_level"]
    sustain: int = Field(default=2, ge=1)  # readings at or above BĐ1
    hysteresis_m: float = Field(default=0.10, ge=0)
    clear_after: timedelta = timedelta(hours=12)


class FloodRiseConfig(_FloodConfig):
    type: Literal["flood_rise"]
    window: timedelta = timedelta(hours=1)
    min_rise_m: float = Field(default=0.20, gt=0)  # above the usual rise
    quantile: float = Field(default=0.99, gt=0.5, lt=1)
    learn_days: int = Field(default=14, ge=1)
    min_learned: int = Field(default=288, ge=10)  # readings of history (two days at 10 min)
    watch_margin_m: float = Field(default=0.6, ge=0)
    clear_after: timedelta = timedelta(hours=2)


class FloodRainTideConfig(_FloodConfig):
    type: Literal["flood_rain_tide"]
    rain_hours: int = Field(default=3, ge=1, le=24)
    rain_mm: float = Field(default=40.0, gt=0)  # over rain_hours at one gauge
    use_heavy_class: bool = True  # or the 24-hour "heavy" class of the gauge
    tide_margin_m: float = Field(default=0.30, ge=0)
    tide_window: timedelta = timedelta(hours=3)  # the high tide within this of the rain
    max_distance_km: float = Field(default=20.0, gt=0)  # rain this far from a tide gauge cannot back up against it
    clear_after: timedelta = timedelta(hours=3)


class FloodStreetClusterConfig(_FloodConfig):
    type: Literal["flood_street_cluster"]
    window: timedelta = timedelta(hours=1)
    radius_m: float = Field(default=600.0, gt=0)
    min_signals: int = Field(default=4, ge=2)
    min_sources: int = Field(default=2, ge=1)
    camera_confidence: float = Field(default=0.65, ge=0, le=1)
    report_categories: tuple[str, ...] = ("flooding", "ngap_ung")
    report_keywords: tuple[str, ...] = ("ngập", "ngap", "úng", "lụt", "flood")
    quiet_after: timedelta = timedelta(hours=1)


FloodConfig = FloodLevelConfig | FloodRiseConfig | FloodRainTideConfig | FloodStreetClusterConfig


def _dist_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, (lat2 - lat1) * 111_320)


class _FloodRule:
    warning_class = "flood"

    def __init__(self, cfg: FloodConfig, gauges: Mapping[str, Gauge] | None = None) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.version = config_version(cfg.version, cfg)
        self.alert_class = cfg.alert_class
        self.gauges = dict(gauges) if gauges is not None else registry_gauges()

    def evaluate_tick(self, now: datetime) -> list[WarningUpdate]:
        return []

    def _update(self, kind: UpdateKind, key: str, sev: Severity, at: datetime, title: tuple[str, str],
                detail: tuple[str, str], value: float | None, *, source_id: str | None = None,
                lon: float | None = None, lat: float | None = None, admin_unit: str | None = None) -> WarningUpdate:  # fmt: skip
        g = self.gauges.get(source_id or "")
        return WarningUpdate(
            kind=kind, key=key, rule_id=self.id, rule_version=self.version, warning_class="flood",
            alert_class=self.alert_class, severity=sev, at=at, title_vi=title[0], title_en=title[1],
            detail_vi=detail[0], detail_en=detail[1], source_id=source_id,
            admin_unit=admin_unit or (g.admin_unit if g else None),
            lon=lon if lon is not None else (g.lon if g else None), lat=lat if lat is not None else (g.lat if g else None),
            value=value,
        )  # fmt: skip


@dataclass(slots=True)
class _LevelState:
    above: int = 0
    active: bool = False
    level: str | None = None
    below_since: datetime | None = None
    peak: float = -math.inf


class FloodLevelRule(_FloodRule):
    cfg: FloodLevelConfig

    def __init__(self, cfg: FloodLevelConfig, gauges: Mapping[str, Gauge] | None = None) -> None:
        super().__init__(cfg, gauges)
        self._state: dict[str, _LevelState] = {}

    def evaluate(self, event: Event) -> list[WarningUpdate]:
        if not isinstance(event, WaterLevelEvent):
            return []
        g = self.gauges.get(event.source_id)
        if g is None or "BD1" not in g.alarm_levels:
            return []
        st = self._state.setdefault(event.source_id, _LevelState())
        x = event.level_m
        reached = [lv for lv in LEVELS if lv in g.alarm_levels and x >= g.alarm_levels[lv]]
        top = reached[-1] if reached else None
        if not st.active:
            st.above = st.above + 1 if top else 0
            if st.above >= self.cfg.sustain and top:
                st.active, st.level, st.below_since, st.peak = True, top, None, x
                return [self._say(UpdateKind.RAISE, g, event, top)]
            return []
        st.peak = max(st.peak, x)
        if x < g.alarm_levels["BD1"] - self.cfg.hysteresis_m:
            st.below_since = st.below_since or event.event_time
            if event.event_time - st.below_since >= self.cfg.clear_after:
                st.active, st.above = False, 0
                level = st.level or "BD1"
                st.level = None
                return [self._say(UpdateKind.CLEAR, g, event, level, cleared=True)]
            return []
        st.below_since = None
        if top and LEVELS.index(top) > LEVELS.index(st.level or "BD1"):
            st.level = top
            return [self._say(UpdateKind.UPDATE, g, event, top)]
        return []

    def _say(self, kind: UpdateKind, g: Gauge, e: WaterLevelEvent, level: str, cleared: bool = False) -> WarningUpdate:
        lv = g.alarm_levels
        marks_vi = ", ".join(f"BĐ{i + 1} {fmt_num(lv[k], 'vi', 2)}" for i, k in enumerate(LEVELS) if k in lv)
        marks_en = ", ".join(f"level {i + 1} {fmt_num(lv[k], 'en', 2)}" for i, k in enumerate(LEVELS) if k in lv)
        if cleared:
            detail = (f"mực nước {fmt_num(e.level_m, 'vi', 2)} m, đã xuống dưới BĐ1 ({marks_vi} m)",
                      f"level {fmt_num(e.level_m, 'en', 2)} m, back below level 1 ({marks_en} m)")
        else:
            detail = (f"mực nước {fmt_num(e.level_m, 'vi', 2)} m, trên mức {LEVEL_VI[level]} ({marks_vi} m)",
                      f"level {fmt_num(e.level_m, 'en', 2)} m, above {LEVEL_EN[level]} ({marks_en} m)")
        return self._update(kind, f"{self.id}:{g.source_id}", LEVEL_SEVERITY[level], e.event_time,
                            (f"{g.name}: mực nước vượt {LEVEL_VI[level]}", f"{g.name}: water above {LEVEL_EN[level]}"),
                            detail, e.level_m, source_id=g.source_id)  # fmt: skip


@dataclass(slots=True)
class _RiseState:
    readings: deque[tuple[datetime, float]] = field(default_factory=deque)
    rises: deque[float] = field(default_factory=deque)
    learned: int = 0
    active: bool = False
    quiet_since: datetime | None = None
    usual: float | None = None
    usual_at: int = 0


class FloodRiseRule(_FloodRule):
    cfg: FloodRiseConfig

    def __init__(self, cfg: FloodRiseConfig, gauges: Mapping[str, Gauge] | None = None) -> None:
        super().__init__(cfg, gauges)
        self._state: dict[str, _RiseState] = {}

    def usual_rise(self, st: _RiseState) -> float | None:
        if st.learned < self.cfg.min_learned or not st.rises:
            return None
        if st.usual is None or st.learned - st.usual_at >= 36:  # the quantile moves slowly: every 6 h
            xs = sorted(st.rises)
            st.usual = xs[min(len(xs) - 1, int(self.cfg.quantile * len(xs)))]
            st.usual_at = st.learned
        return st.usual

    def evaluate(self, event: Event) -> list[WarningUpdate]:
        if not isinstance(event, WaterLevelEvent):
            return []
        g = self.gauges.get(event.source_id)
        if g is None or "BD1" not in g.alarm_levels:
            return []
        st = self._state.setdefault(event.source_id, _RiseState())
        if st.readings and event.event_time <= st.readings[-1][0]:
            return []
        st.readings.append((event.event_time, event.level_m))
        while event.event_time - st.readings[0][0] > self.cfg.window:
            st.readings.popleft()
        if event.event_time - st.readings[0][0] < self.cfg.window * 0.8:
            return []
        rise = event.level_m - st.readings[0][1]
        usual = self.usual_rise(st)
        near = event.level_m >= g.alarm_levels["BD1"] - self.cfg.watch_margin_m
        hot = usual is not None and near and rise >= usual + self.cfg.min_rise_m
        if not st.active:  # learn only ordinary rises
            st.rises.append(rise)
            st.learned += 1
            while len(st.rises) > self.cfg.learn_days * 144:
                st.rises.popleft()
        out = []
        if hot and not st.active:
            st.active, st.quiet_since = True, None
            out.append(self._say(UpdateKind.RAISE, g, event, rise, usual or 0.0))
        elif st.active:
            if hot:
                st.quiet_since = None
            else:
                st.quiet_since = st.quiet_since or event.event_time
                if event.event_time - st.quiet_since >= self.cfg.clear_after:
                    st.active = False
                    out.append(self._say(UpdateKind.CLEAR, g, event, rise, usual or 0.0))
        return out

    def _say(self, kind: UpdateKind, g: Gauge, e: WaterLevelEvent, rise: float, usual: float) -> WarningUpdate:
        minutes = int(self.cfg.window.total_seconds() // 60)
        bd1 = g.alarm_levels["BD1"]
        sev = Severity.SEVERE if e.level_m >= bd1 else Severity.MODERATE
        return self._update(
            kind, f"{self.id}:{g.source_id}", sev, e.event_time,
            (f"{g.name}: nước lên nhanh", f"{g.name}: water rising fast"),
            (f"nước lên {fmt_num(100 * rise, 'vi')} cm trong {minutes} phút (thường tối đa {fmt_num(100 * usual, 'vi')} cm), "
             f"mực nước {fmt_num(e.level_m, 'vi', 2)} m, BĐ1 {fmt_num(bd1, 'vi', 2)} m",
             f"up {fmt_num(100 * rise, 'en')} cm in {minutes} min (usually at most {fmt_num(100 * usual, 'en')} cm), "
             f"level {fmt_num(e.level_m, 'en', 2)} m, alarm level 1 {fmt_num(bd1, 'en', 2)} m"),
            round(rise, 3), source_id=g.source_id,
        )  # fmt: skip


class _Sum:
    """A running sum of the values of the last ``span`` (added in time order)."""

    def __init__(self, span: timedelta) -> None:
        self.span = span
        self.items: deque[tuple[datetime, float]] = deque()
        self.sum = 0.0

    def add(self, at: datetime, value: float) -> None:
        self.items.append((at, value))
        self.sum += value
        self.total(at)

    def total(self, now: datetime) -> float:
        while self.items and now - self.items[0][0] >= self.span:
            self.sum -= self.items.popleft()[1]
        return max(0.0, self.sum)


class FloodRainTideRule(_FloodRule):
    cfg: FloodRainTideConfig

    def __init__(self, cfg: FloodRainTideConfig, gauges: Mapping[str, Gauge] | None = None) -> None:
        super().__init__(cfg, gauges)
        self._rain: dict[str, tuple[_Sum, _Sum]] = {}  # gauge -> (rain over rain_hours, over 24 h)
        self._high: dict[str, tuple[datetime, float]] = {}  # tide gauge -> last reading within margin
        self._active = False
        self._quiet_since: datetime | None = None
        self._severity = Severity.MODERATE

    def evaluate(self, event: Event) -> list[WarningUpdate]:
        if isinstance(event, WaterLevelEvent):
            g = self.gauges.get(event.source_id)
            if g and g.kind in ("tide", "tidal_river") and "BD1" in g.alarm_levels:
                if event.level_m >= g.alarm_levels["BD1"] - self.cfg.tide_margin_m:
                    self._high[g.source_id] = (event.event_time, event.level_m)
            return self._judge(event.event_time)
        if isinstance(event, RainEvent) and event.source_id in self.gauges:
            sums = self._rain.setdefault(event.source_id, (_Sum(timedelta(hours=self.cfg.rain_hours)),
                                                          _Sum(timedelta(hours=24))))  # fmt: skip
            for w in sums:
                w.add(event.event_time, event.rain_mm)
            return self._judge(event.event_time)
        return []

    def _judge(self, now: datetime) -> list[WarningUpdate]:
        heavy: list[tuple[str, float, float]] = []  # gauge, mm over rain_hours, mm over 24 h
        for sid, (w_short, w_day) in self._rain.items():
            short, day = w_short.total(now), w_day.total(now)
            g = self.gauges[sid]
            cls = g.rain_classes.get("heavy")
            if short >= self.cfg.rain_mm or (self.cfg.use_heavy_class and cls is not None and day >= cls):
                heavy.append((sid, short, day))
        high = [(sid, t, lv) for sid, (t, lv) in self._high.items() if abs(now - t) <= self.cfg.tide_window]
        reach = self.cfg.max_distance_km * 1000
        pairs = [(h, t) for h in heavy for t in high
                 if _dist_m(self.gauges[h[0]].lon, self.gauges[h[0]].lat, self.gauges[t[0]].lon, self.gauges[t[0]].lat)
                 <= reach]  # fmt: skip
        hot = bool(pairs)
        if hot:
            self._quiet_since = None
            sid, short, day = max((h for h, _ in pairs), key=lambda h: h[2])
            tsid, _, level = max((t for _, t in pairs), key=lambda t: t[2] - self.gauges[t[0]].alarm_levels["BD1"])
            heavy = list({h for h, _ in pairs})
            very = self.gauges[sid].rain_classes.get("very_heavy")
            over = level >= self.gauges[tsid].alarm_levels["BD1"]
            sev = Severity.SEVERE if (very is not None and day >= very) or over else Severity.MODERATE
            if not self._active or sev.rank > self._severity.rank:
                kind = UpdateKind.RAISE if not self._active else UpdateKind.UPDATE
                self._active, self._severity = True, sev
                return [self._say(kind, now, sev, sid, short, day, tsid, level, len(heavy))]
            return []
        if self._active:
            self._quiet_since = self._quiet_since or now
            if now - self._quiet_since >= self.cfg.clear_after:
                self._active = False
                return [self._update(UpdateKind.CLEAR, f"{self.id}:city", self._severity, now,
                                     ("Mưa lớn kết hợp triều cường đã qua", "Heavy rain with high tide has passed"),
                                     ("lượng mưa và mực nước đã giảm", "rain and water levels have eased"), None)]
        return []

    def _say(self, kind: UpdateKind, now: datetime, sev: Severity, sid: str, short: float, day: float, tsid: str,
             level: float, n_heavy: int) -> WarningUpdate:  # fmt: skip
        g, tg = self.gauges[sid], self.gauges[tsid]
        h = self.cfg.rain_hours
        return self._update(
            kind, f"{self.id}:city", sev, now,
            ("Mưa lớn kết hợp triều cường, nguy cơ ngập úng", "Heavy rain with a high tide: flooding likely"),
            (f"mưa {fmt_num(short, 'vi')} mm trong {h} giờ, {fmt_num(day, 'vi')} mm trong 24 giờ tại {g.name} "
             f"({n_heavy} trạm mưa to); {tg.name} {fmt_num(level, 'vi', 2)} m, BĐ1 {fmt_num(tg.alarm_levels['BD1'], 'vi', 2)} m",
             f"{fmt_num(short, 'en')} mm in {h} h, {fmt_num(day, 'en')} mm in 24 h at {g.name} ({n_heavy} gauges with "
             f"heavy rain); {tg.name} {fmt_num(level, 'en', 2)} m, alarm level 1 {fmt_num(tg.alarm_levels['BD1'], 'en', 2)} m"),
            round(day, 1), source_id=sid, lon=g.lon, lat=g.lat, admin_unit=g.admin_unit,
        )  # fmt: skip


@dataclass(slots=True)
class _Cluster:
    lon: float
    lat: float
    last: datetime
    signals: int


UnitAt = Callable[[float, float], str | None]


class FloodStreetClusterRule(_FloodRule):
    cfg: FloodStreetClusterConfig

    def __init__(self, cfg: FloodStreetClusterConfig, gauges: Mapping[str, Gauge] | None = None, *,
                 camera_places: Mapping[str, tuple[float, float]] | None = None, unit_at: UnitAt | None = None) -> None:  # fmt: skip
        super().__init__(cfg, gauges if gauges is not None else {})
        self._places = camera_places
        self.unit_at = unit_at
        self._signals: deque[tuple[datetime, float, float, str, str]] = deque()  # at, lon, lat, who, what
        self._active: dict[str, _Cluster] = {}

    def evaluate(self, event: Event) -> list[WarningUpdate]:
        if isinstance(event, FeedbackEvent):
            if event.action is not FeedbackAction.CREATED:
                return self.evaluate_tick(event.event_time)
            text = event.text.lower()
            if event.category in self.cfg.report_categories or any(k in text for k in self.cfg.report_keywords):
                return self._add(event.event_time, event.lon, event.lat, f"report:{event.ticket_id}", "report")
            return self.evaluate_tick(event.event_time)
        if isinstance(event, CameraEvent):
            hit = any(d.type is DetectionType.FLOODING and d.confidence >= self.cfg.camera_confidence
                      for d in event.detections)  # fmt: skip
            if hit:
                if self._places is None:
                    from alerts.public_order_rules import registry_camera_places

                    self._places = registry_camera_places()
                place = self._places.get(event.source_id)
                if place:
                    return self._add(event.event_time, place[0], place[1], f"camera:{event.source_id}", "camera")
        return []

    def _add(self, at: datetime, lon: float, lat: float, who: str, what: str) -> list[WarningUpdate]:
        self._signals.append((at, lon, lat, who, what))
        out = self.evaluate_tick(at)
        near = [s for s in self._signals if _dist_m(lon, lat, s[1], s[2]) <= self.cfg.radius_m]
        sources = {s[3] for s in near}
        for c in self._active.values():
            if _dist_m(lon, lat, c.lon, c.lat) <= 2 * self.cfg.radius_m:
                c.last, c.signals = at, max(c.signals, len(near))
                return out
        if len(near) >= self.cfg.min_signals and len(sources) >= self.cfg.min_sources:
            clon = sum(s[1] for s in near) / len(near)
            clat = sum(s[2] for s in near) / len(near)
            key = f"{self.id}:{round(clon, 2):.2f},{round(clat, 2):.2f}"
            self._active[key] = _Cluster(clon, clat, at, len(near))
            reports = sum(1 for s in near if s[4] == "report")
            cams = len({s[3] for s in near if s[4] == "camera"})
            minutes = int(self.cfg.window.total_seconds() // 60)
            unit = self.unit_at(clon, clat) if self.unit_at else None
            sev = Severity.SEVERE if cams and reports else Severity.MODERATE
            out.append(self._update(
                UpdateKind.RAISE, key, sev, at, ("Ngập úng trên nhiều tuyến phố", "Flooded streets reported"),
                (f"{reports} phản ánh ngập và {cams} camera phát hiện ngập trong bán kính {fmt_num(self.cfg.radius_m, 'vi')} m, "
                 f"{minutes} phút gần nhất", f"{reports} flooding reports and {cams} cameras detecting flooding within "
                 f"{fmt_num(self.cfg.radius_m, 'en')} m in the last {minutes} min"),
                float(len(near)), lon=round(clon, 5), lat=round(clat, 5), admin_unit=unit,
            ))  # fmt: skip
        return out

    def evaluate_tick(self, now: datetime) -> list[WarningUpdate]:
        while self._signals and now - self._signals[0][0] > self.cfg.window:
            self._signals.popleft()
        out = []
        for key, c in list(self._active.items()):
            if now - c.last >= self.cfg.quiet_after:
                del self._active[key]
                out.append(self._update(UpdateKind.CLEAR, key, Severity.MODERATE, now,
                                        ("Ngập úng đã giảm", "Street flooding has eased"),
                                        ("không còn phản ánh ngập mới", "no new flooding reports"), None,
                                        lon=c.lon, lat=c.lat))  # fmt: skip
        return out


def build_flood_rule(cfg: FloodConfig, gauges: Mapping[str, Gauge] | None = None, **kw: object) -> _FloodRule:
    match cfg:
        case FloodLevelConfig():
            return FloodLevelRule(cfg, gauges)
        case FloodRiseConfig():
            return FloodRiseRule(cfg, gauges)
        case FloodRainTideConfig():
            return FloodRainTideRule(cfg, gauges)
        case FloodStreetClusterConfig():
            return FloodStreetClusterRule(cfg, gauges, **kw)  # type: ignore[arg-type]
    raise TypeError(f"not a flood rule configuration: {cfg!r}")


__all__ = [
    "FloodConfig",
    "FloodLevelConfig",
    "FloodLevelRule",
    "FloodRainTideConfig",
    "FloodRainTideRule",
    "FloodRiseConfig",
    "FloodRiseRule",
    "FloodStreetClusterConfig",
    "FloodStreetClusterRule",
    "Gauge",
    "build_flood_rule",
    "registry_gauges",
]
