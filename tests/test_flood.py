"""Floods: the gauges' schemas, alarm levels BĐ1–3 with hysteresis, rate of rise against the gauge's own
tide, heavy rain with a high tide, flooded-street clusters; the simulator's normal water stays below BĐ1."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from alerts.flood_rules import (
    FloodLevelConfig,
    FloodLevelRule,
    FloodRainTideConfig,
    FloodRainTideRule,
    FloodRiseConfig,
    FloodRiseRule,
    FloodStreetClusterConfig,
    FloodStreetClusterRule,
    Gauge,
)
from alerts.model import Severity, UpdateKind
from ioc.sources import SourceKind
from ioc.sources.camera import CameraEvent, Detection, DetectionType
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.rain import RainEvent
from ioc.sources.water import WaterLevelEvent
from streams.decode import Reason, Rejected, decode

T0 = datetime(2026, 9, 10, tzinfo=UTC)
ALARMS = {"BD1": 2.0, "BD2": 2.3, "BD3": 2.6}
GAUGES = {
    "wl-cam": Gauge("wl-cam", "Trạm Cấm", "tidal_river", 106.689, 20.870, "11560", ALARMS, {}),
    "wl-hondau": Gauge("wl-hondau", "Trạm Hòn Dấu", "tide", 106.816, 20.667, "11455", {"BD1": 1.9, "BD2": 2.1, "BD3": 2.3}, {}),
    "rain-phulien": Gauge("rain-phulien", "Trạm Phù Liễn", "rain", 106.635, 20.800, "11446", {},
                          {"moderate": 16.0, "heavy": 51.0, "very_heavy": 101.0}),
    "rain-camgiang": Gauge("rain-camgiang", "Trạm Cẩm Giang", "rain", 106.20, 20.95, "10888", {},
                           {"moderate": 16.0, "heavy": 51.0, "very_heavy": 101.0}),
}  # fmt: skip


def level(sid: str, minutes: float, value: float) -> WaterLevelEvent:
    return WaterLevelEvent(event_id=uuid.uuid4(), source_id=sid, event_time=T0 + timedelta(minutes=minutes), level_m=value)


def rain(sid: str, minutes: float, mm: float) -> RainEvent:
    return RainEvent(event_id=uuid.uuid4(), source_id=sid, event_time=T0 + timedelta(minutes=minutes), rain_mm=mm)


def run(rule, events):  # type: ignore[no-untyped-def]
    return [u for e in events for u in rule.evaluate(e)]


def test_schemas_refuse_impossible_readings() -> None:
    now = T0 + timedelta(hours=1)
    msg = {"event_id": str(uuid.uuid4()), "source_id": "wl-cam", "event_time": T0.isoformat(), "level_m": 1.2}
    known = {SourceKind.WATER: frozenset({"wl-cam"}), SourceKind.RAIN: frozenset({"rain-phulien"})}
    assert isinstance(decode(SourceKind.WATER, json.dumps(msg).encode(), known_sources=known, now=now), WaterLevelEvent)
    bad = decode(SourceKind.WATER, json.dumps(msg | {"level_m": 45.0}).encode(), known_sources=known, now=now)
    assert isinstance(bad, Rejected) and bad.code is Reason.OUT_OF_RANGE
    r = {"event_id": str(uuid.uuid4()), "source_id": "rain-phulien", "event_time": T0.isoformat(), "rain_mm": -2}
    bad = decode(SourceKind.RAIN, json.dumps(r).encode(), known_sources=known, now=now)
    assert isinstance(bad, Rejected) and bad.code is Reason.OUT_OF_RANGE and bad.field == "rain_mm"


def test_levels_raise_at_bd1_update_at_bd2_bd3_and_clear_once() -> None:
    rule = FloodLevelRule(FloodLevelConfig(type="flood_level", id="flood-level"), GAUGES)
    # Two spring tides above BĐ1 twelve hours apart, then the river falls back for good.
    values = [1.8, 2.05, 2.1, 1.7, 1.5, 2.2, 2.35, 2.65, 2.4, 1.8] + [1.5] * 80
    ups = run(rule, [level("wl-cam", 10 * i if i < 4 else 10 * i + 400, v) for i, v in enumerate(values)])
    kinds = [(u.kind, u.severity) for u in ups]
    assert kinds == [(UpdateKind.RAISE, Severity.MODERATE), (UpdateKind.UPDATE, Severity.SEVERE),
                     (UpdateKind.UPDATE, Severity.EXTREME), (UpdateKind.CLEAR, Severity.EXTREME)]
    assert "mực nước 2,1 m" in ups[0].detail_vi or "mực nước 2,10 m" in ups[0].detail_vi
    assert "BĐ1 2,00" in ups[0].detail_vi and ups[0].source_id == "wl-cam" and ups[0].lon == pytest.approx(106.689)
    # A single reading above BĐ1 (a wave, a glitch) is not enough.
    once = FloodLevelRule(FloodLevelConfig(type="flood_level", id="flood-level"), GAUGES)
    assert run(once, [level("wl-cam", 0, 2.1), level("wl-cam", 10, 1.6)]) == []


def tide(minutes: float, amplitude: float = 1.2) -> float:
    return 0.6 + amplitude * math.cos(2 * math.pi * minutes / (24.84 * 60))


def test_rising_faster_than_the_usual_tide_raises_near_bd1() -> None:
    rule = FloodRiseRule(FloodRiseConfig(type="flood_rise", id="flood-rise"), GAUGES)
    steps = 6 * 24 * 4  # four days of ordinary tides, every 10 min
    normal = [level("wl-cam", 10 * i, tide(10 * i)) for i in range(steps)]
    assert run(rule, normal) == []  # the flood tide itself rises ~0.3 m/h: learnt as usual
    start = 10 * steps
    surge = [level("wl-cam", start + 10 * i, tide(start + 10 * i) + 0.12 * i) for i in range(1, 12)]
    ups = run(rule, surge)
    assert ups and ups[0].kind is UpdateKind.RAISE and "nước lên" in ups[0].detail_vi
    assert "thường tối đa" in ups[0].detail_vi


def test_heavy_rain_with_a_high_tide_raises_once_but_rain_far_from_the_sea_does_not() -> None:
    rule = FloodRainTideRule(FloodRainTideConfig(type="flood_rain_tide", id="flood-rain-tide"), GAUGES)
    high = [level("wl-cam", 10 * i, 1.75) for i in range(12)]  # the tidal Cấm within 0.3 m of BĐ1
    far = [rain("rain-camgiang", 10 * i, 8.0) for i in range(12)]  # 48 mm/h inland, 60 km away
    assert run(rule, sorted(high + far, key=lambda e: e.event_time)) == []
    near = [rain("rain-phulien", 10 * i, 8.0) for i in range(12)]
    ups = run(rule, sorted(high + near, key=lambda e: e.event_time))
    assert [u.kind for u in ups] == [UpdateKind.RAISE]
    assert ups[0].key == "flood-rain-tide:city" and ups[0].source_id == "rain-phulien"
    assert "Trạm Cấm 1,75 m" in ups[0].detail_vi and "mm trong 3 giờ" in ups[0].detail_vi
    # Rain alone (the tide low) is not this warning.
    low = FloodRainTideRule(FloodRainTideConfig(type="flood_rain_tide", id="flood-rain-tide"), GAUGES)
    assert run(low, sorted([level("wl-cam", 10 * i, 0.4) for i in range(12)] + near, key=lambda e: e.event_time)) == []


def report(minutes: float, lon: float, lat: float, text: str, n: int) -> FeedbackEvent:
    return FeedbackEvent(event_id=uuid.uuid4(), source_id="hps-app", event_time=T0 + timedelta(minutes=minutes),
                         ticket_id=f"HP-{n}", text=text, lon=lon, lat=lat, category="road_infra")  # fmt: skip


def test_flooded_street_reports_and_a_camera_make_one_cluster() -> None:
    rule = FloodStreetClusterRule(FloodStreetClusterConfig(type="flood_street_cluster", id="flood-street-cluster"),
                                  {}, camera_places={"cam-tohieu": (106.6790, 20.8460)})  # fmt: skip
    events = [report(i * 5, 106.6785 + 0.0005 * i, 20.8455, "Đường Tô Hiệu ngập sâu sau mưa", i) for i in range(3)]
    events.append(CameraEvent(event_id=uuid.uuid4(), source_id="cam-tohieu", event_time=T0 + timedelta(minutes=16),
                              online=True, detections=(Detection(type=DetectionType.FLOODING, confidence=0.8),)))
    events += [report(20 + i, 106.6788, 20.8458, "Nước ngập quá bánh xe", 10 + i) for i in range(3)]
    ups = run(rule, events)
    assert [u.kind for u in ups] == [UpdateKind.RAISE]  # one cluster, not six alerts
    assert ups[0].severity is Severity.SEVERE and "3 phản ánh ngập và 1 camera" in ups[0].detail_vi
    assert [u.kind for u in rule.evaluate_tick(T0 + timedelta(hours=2))] == [UpdateKind.CLEAR]
    # Reports about something else, or far apart, do not cluster.
    other = FloodStreetClusterRule(FloodStreetClusterConfig(type="flood_street_cluster", id="flood-street-cluster"), {},
                                   camera_places={})  # fmt: skip
    scattered = [report(i, 106.60 + 0.02 * i, 20.85, "Đường ngập", i) for i in range(5)]
    potholes = [report(i, 106.6785, 20.8455, "Ổ gà lớn giữa đường", 20 + i) for i in range(5)]
    assert run(other, scattered + potholes) == []


def test_the_simulated_normal_water_stays_below_bd1() -> None:
    from geodata.sites import load_sites
    from simulators.floods import FloodSource

    water = load_sites(SourceKind.WATER)
    src = FloodSource(water, load_sites(SourceKind.RAIN), seed=4)
    events = src.events(T0, T0 + timedelta(days=3))
    bd1 = {s.source_id: s.properties["alarm_levels_m"]["BD1"] for s in water}
    tops = {}
    for e in events:
        if isinstance(e, WaterLevelEvent):
            tops[e.source_id] = max(tops.get(e.source_id, -9.0), e.level_m)
    assert set(tops) == set(bd1) and all(tops[s] < bd1[s] for s in bd1)
    hondau = [e.level_m for e in events if e.source_id == "wl-hondau"]
    assert max(hondau) - min(hondau) > 1.0  # a real tide
