"""Public-order warnings over the police's hourly counts per unit: a count test that handles small
numbers, a spatial cluster across neighbouring units, and corroboration that raises the severity.

**The usual rate** of each incident type in each unit and hour of the week is learnt from the stream
(:class:`RateModel`): the unit's own rate shrunk towards the city's mean per unit (a Gamma prior worth
``prior_hours`` hours of the city mean), times the city's hour-of-week profile of that type (smoothed).
Incidents are rare — a ward sees a few disorder incidents a year — so the test is the exact tail of
the negative binomial that a Poisson count with an uncertain (Gamma) rate follows, with a floor on
the count itself: one accident in a quiet commune is not a warning.

- **public-order-count**: a unit's count of one type over the last ``window_hours`` (hours ending at
  the latest report) with P(N ≥ n) below ``alpha`` and n ≥ ``min_count``;
- **public-order-cluster**: the same test over a unit and its neighbours (the real polygons' shared
  borders, :mod:`alerts.unit_map`) for the cluster types, with incidents in at least ``min_units``
  of them; overlapping neighbourhoods are one cluster (the most significant centre keeps it).

**Corroboration**: camera crowd (or fire/smoke) detections at ``camera_confidence`` or more and
citizen reports about public order placed in one of the alert's units within the window raise its
severity one step and are named in its text.

While a unit is in alarm its counts are not learnt, so an incident does not teach that incidents
are usual.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.model import Severity, UpdateKind
from alerts.unit_map import UnitMap
from alerts.warnings import WarningUpdate, bump, config_version, fmt_num, nb_tail
from ioc.events import Event
from ioc.sources.camera import CameraEvent, DetectionType
from ioc.sources.feedback import FeedbackAction, FeedbackEvent
from ioc.sources.public_order import CASUALTIES, INCIDENT_TYPES, PublicOrderEvent

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_CFG = ConfigDict(frozen=True, extra="forbid")
COUNTED = (*INCIDENT_TYPES, *CASUALTIES)
CountType = Literal[
    "traffic_accidents", "criminal_cases", "disorder_incidents", "fires", "rescues", "traffic_deaths",
    "traffic_injuries",
]
TYPE_VI = {
    "traffic_accidents": "tai nạn giao thông", "criminal_cases": "vụ phạm pháp hình sự",
    "disorder_incidents": "vụ gây rối trật tự công cộng", "fires": "vụ cháy, nổ", "rescues": "vụ cứu nạn, cứu hộ",
    "traffic_deaths": "người chết do tai nạn giao thông", "traffic_injuries": "người bị thương do tai nạn giao thông",
}  # fmt: skip
TYPE_EN = {
    "traffic_accidents": "traffic accidents", "criminal_cases": "criminal cases",
    "disorder_incidents": "public-disorder incidents", "fires": "fires", "rescues": "rescues",
    "traffic_deaths": "traffic deaths", "traffic_injuries": "traffic injuries",
}  # fmt: skip
HOUR = timedelta(hours=1)


class _PublicOrderConfig(BaseModel):
    model_config = _CFG
    id: str
    version: str = "1"
    alert_class: str = "public_order"
    window_hours: int = Field(default=2, ge=1, le=24)
    alpha: float = Field(default=1e-5, gt=0, lt=1)
    severe_alpha: float = Field(default=1e-8, gt=0, lt=1)
    clear_alpha: float = Field(default=0.05, gt=0, lt=1)
    clear_hours: int = Field(default=2, ge=1)
    prior_hours: float = Field(default=2_000.0, gt=0)  # weight of the city mean in a unit's rate
    profile_smoothing: float = Field(default=5.0, ge=0)  # pseudo-incidents per hour-of-week slot
    min_history_hours: int = Field(default=336, ge=0)  # two weeks of the city before judging
    camera_confidence: float = Field(default=0.75, ge=0, le=1)
    camera_types: tuple[DetectionType, ...] = (DetectionType.CROWD, DetectionType.FIRE_SMOKE)
    report_categories: tuple[str, ...] = ("public_order",)
    report_keywords: tuple[str, ...] = ("gây rối", "đánh nhau", "ẩu đả", "tụ tập", "hỗn chiến", "cướp")

    @model_validator(mode="after")
    def _hysteresis(self) -> _PublicOrderConfig:
        if not self.severe_alpha <= self.alpha <= self.clear_alpha:
            raise ValueError("need severe_alpha ≤ alpha ≤ clear_alpha")
        return self


class PublicOrderCountConfig(_PublicOrderConfig):
    type: Literal["public_order_count"]
    types: tuple[CountType, ...] = ("traffic_accidents", "traffic_deaths", "criminal_cases", "disorder_incidents",
                                    "fires")  # fmt: skip
    min_count: int = Field(default=3, ge=1)


class PublicOrderClusterConfig(_PublicOrderConfig):
    type: Literal["public_order_cluster"]
    types: tuple[CountType, ...] = ("criminal_cases", "disorder_incidents")
    window_hours: int = Field(default=3, ge=1, le=24)
    min_count: int = Field(default=4, ge=1)
    min_units: int = Field(default=2, ge=2)


PublicOrderConfig = PublicOrderCountConfig | PublicOrderClusterConfig


# --- the usual rates -----------------------------------------------------------------------------


def hour_of_week(t: datetime) -> int:
    lt = t.astimezone(LOCAL_TZ)
    return lt.weekday() * 24 + lt.hour


class RateModel:
    """Counts per unit and type, and the city's per hour-of-week, learnt from hourly reports."""

    def __init__(self, prior_hours: float, profile_smoothing: float) -> None:
        self.prior_hours = prior_hours
        self.smoothing = profile_smoothing
        self.unit_n: dict[tuple[str, str], float] = {}
        self.unit_t: dict[str, float] = {}  # unit-hours reported
        self.city_n: dict[str, float] = {}
        self.city_t = 0.0
        self.slot_n: dict[tuple[str, int], float] = {}
        self.slot_t: dict[int, float] = {}
        self._seen: set[tuple[str, datetime]] = set()

    def learn(self, unit: str, start: datetime, hours: float, counts: Mapping[str, int]) -> None:
        if (unit, start) in self._seen:  # a replayed report must not count twice
            return
        self._seen.add((unit, start))
        if len(self._seen) > 500_000:
            self._seen.clear()
        slot = hour_of_week(start)
        self.unit_t[unit] = self.unit_t.get(unit, 0.0) + hours
        self.city_t += hours
        self.slot_t[slot] = self.slot_t.get(slot, 0.0) + hours
        for k, n in counts.items():
            if n:
                self.unit_n[(unit, k)] = self.unit_n.get((unit, k), 0.0) + n
                self.city_n[k] = self.city_n.get(k, 0.0) + n
                self.slot_n[(k, slot)] = self.slot_n.get((k, slot), 0.0) + n

    def city_mean(self, k: str) -> float:
        """Incidents per unit-hour, city-wide (a small floor so a type never seen is not impossible)."""
        return max(self.city_n.get(k, 0.0), 0.5) / max(self.city_t, 1.0)

    def profile(self, k: str, slot: int) -> float:
        rho = self.city_mean(k)
        expected = rho * self.slot_t.get(slot, 0.0)
        return (self.slot_n.get((k, slot), 0.0) + self.smoothing) / (expected + self.smoothing)

    def unit_rate(self, unit: str, k: str) -> tuple[float, float]:
        """(incidents per hour, Gamma shape) of the unit's rate of ``k``."""
        rho = self.city_mean(k)
        shape = self.unit_n.get((unit, k), 0.0) + self.prior_hours * rho
        return shape / (self.unit_t.get(unit, 0.0) + self.prior_hours), max(shape, 0.05)

    def expected(self, units: Iterable[str], k: str, hours: Iterable[datetime]) -> tuple[float, float]:
        """(expected count over ``units`` and the hours starting at ``hours``, NB shape of the sum)."""
        hs = list(hours)
        mean = shape = 0.0
        for u in units:
            rate, a = self.unit_rate(u, k)
            m = sum(rate * self.profile(k, hour_of_week(h)) for h in hs)
            mean += m
            shape += a
        return mean, shape


# --- corroboration -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Signals:
    """Camera detections and citizen reports per unit, by the hour they happened."""

    cameras: dict[str, deque[tuple[datetime, str]]] = field(default_factory=dict)
    reports: dict[str, deque[tuple[datetime, str]]] = field(default_factory=dict)

    def add(self, book: dict[str, deque[tuple[datetime, str]]], unit: str, at: datetime, what: str) -> None:
        q = book.setdefault(unit, deque())
        q.append((at, what))
        while q and at - q[0][0] > timedelta(hours=24):
            q.popleft()

    def count(self, units: Iterable[str], start: datetime, end: datetime) -> tuple[int, int]:
        cams = {w for u in units for t, w in self.cameras.get(u, ()) if start <= t < end}
        reps = {w for u in units for t, w in self.reports.get(u, ()) if start <= t < end}
        return len(cams), len(reps)


SiteUnit = Callable[[str], str | None]  # police unit source id -> admin unit code
UnitAt = Callable[[float, float], str | None]
CameraPlace = Callable[[str], tuple[float, float] | None]


def registry_police_units() -> dict[str, str]:
    from geodata.sites import load_sites
    from ioc.sources import SourceKind

    return {s.source_id: str(s.properties["admin_unit"]) for s in load_sites(SourceKind("public_order"))}


def registry_camera_places() -> dict[str, tuple[float, float]]:
    from geodata.sites import load_sites
    from ioc.sources import SourceKind

    return {s.source_id: (s.lon, s.lat) for s in load_sites(SourceKind.CAMERA) if s.properties.get("analytics", True)}


@dataclass(slots=True)
class _Active:
    units: frozenset[str]
    severity: Severity
    calm: int = 0
    last_p: float = 1.0


class _PublicOrderRule:
    """Shared: the rate model, the hourly windows, corroboration and the raise/update/clear cycle."""

    warning_class = "public_order"

    def __init__(
        self,
        cfg: PublicOrderConfig,
        units: UnitMap,
        *,
        police_units: Mapping[str, str] | None = None,
        unit_at: UnitAt | None = None,
        camera_places: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.version = config_version(cfg.version, cfg)
        self.alert_class = cfg.alert_class
        self.units = units
        self.police = dict(police_units) if police_units is not None else registry_police_units()
        self.unit_at = unit_at
        self._camera_places = camera_places
        self.model = RateModel(cfg.prior_hours, cfg.profile_smoothing)
        self.recent: dict[str, dict[datetime, dict[str, int]]] = {}  # unit -> period start -> counts
        self.signals = _Signals()
        self.active: dict[str, _Active] = {}
        self._camera_unit: dict[str, str | None] = {}

    # -- input --------------------------------------------------------------------------------------
    def evaluate(self, event: Event) -> list[WarningUpdate]:
        if isinstance(event, PublicOrderEvent):
            return self._report(event)
        if isinstance(event, CameraEvent):
            self._camera(event)
        elif isinstance(event, FeedbackEvent):
            self._feedback(event)
        return []

    def evaluate_tick(self, now: datetime) -> list[WarningUpdate]:
        return []

    def _camera(self, e: CameraEvent) -> None:
        hits = [d for d in e.detections if d.type in self.cfg.camera_types and d.confidence >= self.cfg.camera_confidence]
        if not hits:
            return
        if e.source_id not in self._camera_unit:
            places = self._camera_places if self._camera_places is not None else registry_camera_places()
            self._camera_places = places
            place = places.get(e.source_id)
            self._camera_unit[e.source_id] = self.unit_at(*place) if place and self.unit_at else None
        unit = self._camera_unit[e.source_id]
        if unit:
            self.signals.add(self.signals.cameras, unit, e.event_time, e.source_id)

    def _feedback(self, e: FeedbackEvent) -> None:
        if e.action is not FeedbackAction.CREATED or self.unit_at is None:
            return
        text = e.text.lower()
        if e.category not in self.cfg.report_categories and not any(k in text for k in self.cfg.report_keywords):
            return
        unit = self.unit_at(e.lon, e.lat)
        if unit:
            self.signals.add(self.signals.reports, unit, e.event_time, e.ticket_id)

    def _report(self, e: PublicOrderEvent) -> list[WarningUpdate]:
        unit = self.police.get(e.source_id)
        if unit is None:
            return []
        counts = {k: int(getattr(e, k)) for k in COUNTED}
        hours = self.recent.setdefault(unit, {})
        hours[e.period_start] = counts
        for old in [h for h in hours if e.period_start - h >= timedelta(hours=self.cfg.window_hours)]:
            del hours[old]
        out = self.judge(unit, e)
        if not self._alarmed(unit):  # an incident must not teach that incidents are usual
            self.model.learn(unit, e.period_start, e.period_minutes / 60, counts)
        return out

    def _alarmed(self, unit: str) -> bool:
        return any(unit in a.units for a in self.active.values())

    # -- the test -------------------------------------------------------------------------------------
    def window(self, end_start: datetime) -> list[datetime]:
        return [end_start - i * HOUR for i in range(self.cfg.window_hours)]

    def observed(self, units: Iterable[str], k: str, hours: list[datetime]) -> tuple[int, int]:
        """(count over the units and hours, units with at least one)."""
        total = with_any = 0
        for u in units:
            n = sum(self.recent.get(u, {}).get(h, {}).get(k, 0) for h in hours)
            total += n
            with_any += n > 0
        return total, with_any

    def ready(self) -> bool:
        return self.model.city_t >= self.cfg.min_history_hours * max(1, len(self.police))

    def judge(self, unit: str, e: PublicOrderEvent) -> list[WarningUpdate]:
        raise NotImplementedError

    def _corroborate(self, units: Iterable[str], hours: list[datetime]) -> tuple[int, int]:
        start, end = min(hours), max(hours) + HOUR
        return self.signals.count(units, start - HOUR, end)

    def _severity(self, p: float, corroborated: bool) -> Severity:
        sev = Severity.SEVERE if p < self.cfg.severe_alpha else Severity.MODERATE
        return bump(sev) if corroborated else sev

    def _texts(self, label_vi: str, label_en: str, k: str, n: int, lam: float, p: float, cams: int,
               reps: int) -> tuple[str, str]:  # fmt: skip
        h = self.cfg.window_hours
        vi = (f"{n} {TYPE_VI[k]} trong {h} giờ tại {label_vi}, thông thường {fmt_num(lam, 'vi', 2)} "
              f"(p = {p:.1e})")
        en = f"{n} {TYPE_EN[k]} in {h} h in {label_en}, usually {fmt_num(lam, 'en', 2)} (p = {p:.1e})"
        if cams or reps:
            vi += f"; xác nhận bởi {cams} camera phát hiện tụ tập đông người và {reps} phản ánh của người dân"
            en += f"; corroborated by {cams} camera crowd detection(s) and {reps} citizen report(s)"
        return vi, en

    def _update(self, kind: UpdateKind, key: str, sev: Severity, at: datetime, units: frozenset[str], title: tuple[str, str],
                detail: tuple[str, str], value: float, source_id: str | None) -> WarningUpdate:  # fmt: skip
        pts = [self.units.points[u] for u in units if u in self.units.points]
        lon = sum(p[0] for p in pts) / len(pts) if pts else None
        lat = sum(p[1] for p in pts) / len(pts) if pts else None
        center = min(units) if len(units) == 1 else None
        return WarningUpdate(
            kind=kind, key=key, rule_id=self.id, rule_version=self.version, warning_class="public_order",
            alert_class=self.alert_class, severity=sev, at=at, title_vi=title[0], title_en=title[1],
            detail_vi=detail[0], detail_en=detail[1], source_id=source_id, admin_unit=center or key.split(":")[1],
            lon=lon, lat=lat, value=value,
        )  # fmt: skip


class PublicOrderCountRule(_PublicOrderRule):
    """Per unit and type: the count over the last hours against the unit's usual rate."""

    cfg: PublicOrderCountConfig

    def judge(self, unit: str, e: PublicOrderEvent) -> list[WarningUpdate]:
        if not self.ready():
            return []
        hours = self.window(e.period_start)
        out = []
        for k in self.cfg.types:
            n, _ = self.observed([unit], k, hours)
            key = f"{self.id}:{unit}:{k}"
            act = self.active.get(key)
            if act is None and n < self.cfg.min_count:
                continue  # nothing to test (most hours: no incident at all)
            lam, shape = self.model.expected([unit], k, hours)
            p = nb_tail(n, lam, shape)
            name = self.units.name(unit)
            if act is None:
                if n >= self.cfg.min_count and p < self.cfg.alpha:
                    cams, reps = self._corroborate([unit], hours)
                    sev = self._severity(p, bool(cams or reps))
                    self.active[key] = _Active(frozenset({unit}), sev, last_p=p)
                    out.append(self._update(UpdateKind.RAISE, key, sev, e.event_time, frozenset({unit}),
                                            (f"Số {TYPE_VI[k]} tăng bất thường tại {name}",
                                             f"Unusual number of {TYPE_EN[k]} in {name}"),
                                            self._texts(name, name, k, n, lam, p, cams, reps), float(n), e.source_id))
                continue
            if p >= self.cfg.clear_alpha:
                act.calm += 1
                if act.calm >= self.cfg.clear_hours:
                    del self.active[key]
                    out.append(self._update(UpdateKind.CLEAR, key, act.severity, e.event_time, act.units,
                                            (f"Số {TYPE_VI[k]} tại {name} đã trở lại bình thường",
                                             f"{TYPE_EN[k].capitalize()} in {name} back to usual"),
                                            self._texts(name, name, k, n, lam, p, 0, 0), float(n), e.source_id))
                continue
            act.calm = 0
            cams, reps = self._corroborate([unit], hours)
            sev = self._severity(min(p, act.last_p), bool(cams or reps))
            if sev.rank > act.severity.rank:
                act.severity, act.last_p = sev, min(p, act.last_p)
                out.append(self._update(UpdateKind.UPDATE, key, sev, e.event_time, act.units,
                                        (f"Số {TYPE_VI[k]} tăng bất thường tại {name}",
                                         f"Unusual number of {TYPE_EN[k]} in {name}"),
                                        self._texts(name, name, k, n, lam, p, cams, reps), float(n), e.source_id))
        return out


class PublicOrderClusterRule(_PublicOrderRule):
    """Over a unit and its neighbours: the cluster types together, once every unit has reported the hour."""

    cfg: PublicOrderClusterConfig

    def __init__(self, cfg: PublicOrderClusterConfig, units: UnitMap, **kw: object) -> None:
        super().__init__(cfg, units, **kw)  # type: ignore[arg-type]
        self._reported: dict[datetime, set[str]] = {}
        self._scanned: datetime | None = None

    def judge(self, unit: str, e: PublicOrderEvent) -> list[WarningUpdate]:
        out: list[WarningUpdate] = []
        # An hour some unit never reported is scanned when the next hour's reports start.
        late = [h for h in self._reported if h < e.period_start and (self._scanned is None or h > self._scanned)]
        if late and self.ready():
            self._scanned = max(late)
            out += self.scan(self._scanned, e.event_time)
        seen = self._reported.setdefault(e.period_start, set())
        seen.add(unit)
        for old in [h for h in self._reported if e.period_start - h > timedelta(hours=6)]:
            del self._reported[old]
        if len(seen) < len(set(self.police.values())) or not self.ready():
            return out
        if self._scanned is not None and e.period_start <= self._scanned:
            return out
        self._scanned = e.period_start
        return out + self.scan(e.period_start, e.event_time)

    def scan(self, last_start: datetime, at: datetime) -> list[WarningUpdate]:
        """Test every neighbourhood for the hours ending with ``last_start``; one alert per cluster."""
        hours = self.window(last_start)
        found: list[tuple[float, str, frozenset[str], int, float]] = []
        units = sorted(set(self.police.values()))
        # Counts per unit once; expectations only for the neighbourhoods that have enough incidents.
        counts = {u: sum(self.recent.get(u, {}).get(h, {}).get(k, 0) for h in hours for k in self.cfg.types)
                  for u in units}  # fmt: skip
        expect: dict[str, tuple[float, float]] = {}

        def expected(u: str) -> tuple[float, float]:
            if u not in expect:
                pairs = [self.model.expected([u], k, hours) for k in self.cfg.types]
                expect[u] = (sum(x[0] for x in pairs), sum(x[1] for x in pairs))
            return expect[u]

        for center in units:
            hood = self.units.around(center)
            members = [u for u in hood if u in counts]
            n = sum(counts[u] for u in members)
            units_with = sum(1 for u in members if counts[u] > 0)
            if n < self.cfg.min_count or units_with < self.cfg.min_units:
                continue
            lam = sum(expected(u)[0] for u in members)
            shape = sum(expected(u)[1] for u in members)
            p = nb_tail(n, lam, shape)
            if p < self.cfg.clear_alpha:
                found.append((p, center, hood, n, lam))
        found.sort()
        out: list[WarningUpdate] = []
        taken: set[str] = set()
        continued: set[str] = set()
        for p, center, hood, n, lam in found:
            if hood & taken:
                continue
            key = next((k for k, a in self.active.items() if a.units & hood and k not in continued), None)
            if key is None and p >= self.cfg.alpha:
                continue
            taken |= hood
            cams, reps = self._corroborate(hood, hours)
            sev = self._severity(p, bool(cams or reps))
            names_vi = ", ".join(self.units.name(u) for u in sorted(hood))
            title = (f"Điểm nóng an ninh trật tự quanh {self.units.name(center)}",
                     f"Public-order hotspot around {self.units.name(center)}")
            ktext = " và ".join(TYPE_VI[k] for k in self.cfg.types)
            detail_vi = (f"{n} {ktext} trong {self.cfg.window_hours} giờ ở {len(hood)} xã, phường liền kề ({names_vi}), "
                         f"thông thường {fmt_num(lam, 'vi', 2)} (p = {p:.1e})")
            detail_en = (f"{n} {' and '.join(TYPE_EN[k] for k in self.cfg.types)} in {self.cfg.window_hours} h across "
                         f"{len(hood)} neighbouring units around {self.units.name(center)}, usually "
                         f"{fmt_num(lam, 'en', 2)} (p = {p:.1e})")
            if cams or reps:
                detail_vi += f"; xác nhận bởi {cams} camera phát hiện tụ tập và {reps} phản ánh của người dân"
                detail_en += f"; corroborated by {cams} camera crowd detection(s) and {reps} citizen report(s)"
            if key is None:
                key = f"{self.id}:{center}"
                self.active[key] = _Active(hood, sev, last_p=p)
                out.append(self._update(UpdateKind.RAISE, key, sev, at, hood, title, (detail_vi, detail_en), float(n),
                                        None))  # fmt: skip
            else:
                act = self.active[key]
                act.units, act.calm = act.units | hood, 0
                if sev.rank > act.severity.rank:
                    act.severity = sev
                    out.append(self._update(UpdateKind.UPDATE, key, sev, at, act.units, title, (detail_vi, detail_en),
                                            float(n), None))  # fmt: skip
            continued.add(key)
        for key, act in list(self.active.items()):
            if key in continued:
                continue
            act.calm += 1
            if act.calm >= self.cfg.clear_hours:
                del self.active[key]
                center = key.split(":")[1]
                out.append(self._update(UpdateKind.CLEAR, key, act.severity, at, act.units,
                                        (f"Điểm nóng quanh {self.units.name(center)} đã lắng dịu",
                                         f"Hotspot around {self.units.name(center)} has calmed"),
                                        ("số vụ đã trở lại mức thường lệ", "counts are back to usual"), 0.0, None))
        return out


def build_public_order_rule(cfg: PublicOrderConfig, units: UnitMap, **kw: object) -> _PublicOrderRule:
    if isinstance(cfg, PublicOrderCountConfig):
        return PublicOrderCountRule(cfg, units, **kw)  # type: ignore[arg-type]
    return PublicOrderClusterRule(cfg, units, **kw)


def expected_rate(model: RateModel, unit: str, k: str, at: datetime) -> float:
    """Incidents of ``k`` usually seen in ``unit`` in the hour starting at ``at`` (for panels and tests)."""
    return model.expected([unit], k, [at])[0]


__all__ = [
    "COUNTED",
    "PublicOrderClusterConfig",
    "PublicOrderClusterRule",
    "PublicOrderConfig",
    "PublicOrderCountConfig",
    "PublicOrderCountRule",
    "RateModel",
    "build_public_order_rule",
    "hour_of_week",
    "registry_police_units",
]
