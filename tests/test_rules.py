"""Rules: raise once when a condition has lasted, update while it lasts, clear at the easier threshold."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from scipy.stats import poisson

from alerts.model import AlertClass, Severity, UpdateKind
from alerts.rules import (
    AqiSustainedConfig,
    AqiSustainedRule,
    CameraDetectionRule,
    CameraSilentConfig,
    CameraSilentRule,
    CitizenBurstConfig,
    CitizenBurstRule,
    Location,
    RuleEngine,
    TrafficSlowConfig,
    TrafficSlowRule,
    load_rule_config,
    poisson_sf,
)
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent, Detection, DetectionType
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.traffic import TrafficEvent

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def kinds(updates):
    return [u.kind for u in updates]


# --- configuration -----------------------------------------------------------------------------


def test_default_rules_file_loads_every_rule_type():
    cfg = load_rule_config()
    assert {r.type for r in cfg.rules} == {
        "aqi_sustained",
        "traffic_slow",
        "camera_silent",
        "camera_detection",
        "citizen_burst",
        "anomaly",
        # the early warnings (alerts/budget_rules.py, public_order_rules.py, flood_rules.py, soc_rules.py)
        "budget_ytd_plan",
        "budget_yoy",
        "budget_forecast",
        "public_order_count",
        "public_order_cluster",
        "flood_level",
        "flood_rise",
        "flood_rain_tide",
        "flood_street_cluster",
        "soc_storm",
    }
    traffic = next(r for r in cfg.rules if r.type == "traffic_slow")
    assert traffic.raise_after == timedelta(minutes=10)


def test_bad_rules_file_names_the_bad_field(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "rules:\n  - {id: t, type: traffic_slow, raise_ratio: 0.7, clear_ratio: 0.5}\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError, match="raise_ratio"):
        load_rule_config(bad)
    bad.write_text(
        "rules:\n  - {id: t, type: traffic_slow}\n  - {id: t, type: camera_silent}\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError, match="duplicate rule ids"):
        load_rule_config(bad)
    bad.write_text("rules:\n  - {id: t, type: volcano}\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="volcano"):
        load_rule_config(bad)


# --- AQI ---------------------------------------------------------------------------------------


def air(hour: int, pm25: float, minute: int = 30, station: str = "air-01") -> AirEvent:
    return AirEvent(
        event_id=uuid.uuid4(),
        source_id=station,
        event_time=T0 + timedelta(hours=hour, minutes=minute),
        pm25=pm25,
    )


def feed_hours(rule, values, station="air-01"):
    out = []
    for h, v in enumerate(values):
        out += rule.evaluate(air(h, v, station=station))
    return out


def test_aqi_rule_needs_sustained_hours_then_raises_once_updates_and_clears():
    rule = AqiSustainedRule(
        AqiSustainedConfig(type="aqi_sustained", id="aqi", sustain_hours=2, clear_hours=2)
    )
    # PM2.5 hourly means: clean, then 160 µg/m³ (VN AQI ≥ 201), then clean again. Each hour is judged
    # when the next hour's first reading arrives; NowCast weighs history, so the fall is gradual.
    values = [10, 10, 10, 160, 160, 160, 160, 10, 10, 10, 10, 10, 10, 10, 10]
    ups = feed_hours(rule, values)
    assert kinds(ups)[0] is UpdateKind.RAISE and kinds(ups).count(UpdateKind.RAISE) == 1
    assert kinds(ups).count(UpdateKind.CLEAR) == 1 and kinds(ups)[-1] is UpdateKind.CLEAR
    raise_ = ups[0]
    assert raise_.key == "aqi:air-01" and raise_.alert_class is AlertClass.ENVIRONMENT
    assert raise_.at == T0 + timedelta(hours=5)  # the 2nd bad hour (04:00–05:00) has ended
    assert raise_.value >= 151 and "(Xấu, do PM2.5)" in raise_.detail_vi
    assert all(u.key == raise_.key for u in ups)


def test_aqi_rule_ignores_a_single_bad_hour_and_hysteresis_holds_between_thresholds():
    rule = AqiSustainedRule(AqiSustainedConfig(type="aqi_sustained", id="aqi", sustain_hours=2))
    assert feed_hours(rule, [10, 10, 160, 10, 10, 10]) == []
    # Raised at AQI 157 (90 µg/m³), then hovering at AQI 120 (62 µg/m³), between clear_below 101 and
    # raise_at 151: stays open.
    rule = AqiSustainedRule(AqiSustainedConfig(type="aqi_sustained", id="aqi", sustain_hours=2))
    ups = feed_hours(rule, [90, 90, 90, 90, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62])
    assert UpdateKind.RAISE in kinds(ups) and UpdateKind.CLEAR not in kinds(ups)


def test_aqi_rule_keeps_stations_apart_and_ignores_closed_hours():
    rule = AqiSustainedRule(AqiSustainedConfig(type="aqi_sustained", id="aqi"))
    ups = feed_hours(rule, [160, 160, 160, 160], station="a") + feed_hours(
        rule, [10, 10, 10, 10], station="b"
    )
    assert {u.source_id for u in ups} == {"a"}
    assert rule.evaluate(air(0, 500, station="a")) == []  # hour 0 is closed for station a


# --- traffic -----------------------------------------------------------------------------------


def traffic(minute: int, speed: float, seg: str = "seg-1") -> TrafficEvent:
    return TrafficEvent(
        event_id=uuid.uuid4(),
        source_id=seg,
        event_time=T0 + timedelta(minutes=minute),
        speed_kmh=speed,
        volume_vph=900,
        occupancy_pct=30,
        free_flow_kmh=50,
    )


def test_traffic_rule_raises_after_minutes_below_share_of_free_flow_and_clears_with_hysteresis():
    rule = TrafficSlowRule(TrafficSlowConfig(type="traffic_slow", id="tr"))  # 0.4 / 10 min; 0.6 / 5 min
    speeds = [45] * 3 + [15] * 12 + [25] * 5 + [8] * 2 + [25] * 5 + [35] * 7
    ups = [u for m, s in enumerate(speeds) for u in rule.evaluate(traffic(m, s))]
    assert kinds(ups) == [UpdateKind.RAISE, UpdateKind.UPDATE, UpdateKind.UPDATE, UpdateKind.CLEAR]
    assert ups[0].at == T0 + timedelta(minutes=13)  # slow since minute 3, 10 minutes later
    assert ups[0].severity is Severity.MODERATE and "30%" in ups[0].detail_en
    assert ups[1].severity is Severity.SEVERE  # 8 km/h = 16 % < 20 %
    assert ups[2].severity is Severity.MODERATE  # eased to 50 %: still congested, less severe
    assert ups[3].at == T0 + timedelta(minutes=27 + 5)  # 35 km/h (70 %) from minute 27, held 5 min


def test_traffic_rule_short_dip_is_not_an_incident():
    rule = TrafficSlowRule(TrafficSlowConfig(type="traffic_slow", id="tr"))
    speeds = [15] * 9 + [45] + [15] * 9
    assert [u for m, s in enumerate(speeds) for u in rule.evaluate(traffic(m, s))] == []


# --- cameras -----------------------------------------------------------------------------------


def cam(second: int, online: bool = True, source: str = "cam-1", detections=()) -> CameraEvent:
    return CameraEvent(
        event_id=uuid.uuid4(),
        source_id=source,
        event_time=T0 + timedelta(seconds=second),
        online=online,
        detections=tuple(detections),
    )


def test_camera_silent_raises_on_tick_escalates_severity_and_clears_on_heartbeat():
    rule = CameraSilentRule(CameraSilentConfig(type="camera_silent", id="cs"))
    assert rule.evaluate(cam(0)) == [] and rule.evaluate(cam(60, online=False)) == []
    assert rule.evaluate_tick(T0 + timedelta(minutes=4)) == []
    first = rule.evaluate_tick(T0 + timedelta(minutes=6))
    assert kinds(first) == [UpdateKind.RAISE] and first[0].value == 6.0
    assert rule.evaluate_tick(T0 + timedelta(minutes=7)) == []  # one incident, one raise
    later = rule.evaluate_tick(T0 + timedelta(minutes=61))
    assert kinds(later) == [UpdateKind.UPDATE] and later[0].severity is Severity.SEVERE
    back = rule.evaluate(cam(3700))
    assert kinds(back) == [UpdateKind.CLEAR] and back[0].key == "cs:cam-1"


def test_camera_detection_threshold_hysteresis_and_quiet_clear():
    cfg = load_rule_config()
    rule = CameraDetectionRule(next(r for r in cfg.rules if r.type == "camera_detection"))
    fire = lambda s, c: cam(s, detections=[Detection(type=DetectionType.FIRE_SMOKE, confidence=c)])  # noqa: E731
    assert rule.evaluate(fire(0, 0.55)) == []  # below 0.60
    ups = rule.evaluate(fire(10, 0.7))
    assert kinds(ups) == [UpdateKind.RAISE] and ups[0].alert_class is AlertClass.PUBLIC_ORDER
    assert ups[0].key == "camera-detection:cam-1:fire_smoke" and ups[0].severity is Severity.SEVERE
    assert rule.evaluate(fire(100, 0.45)) == []  # 0.45 ≥ clear 0.40 keeps it alive
    assert kinds(rule.evaluate(fire(200, 0.9))) == [UpdateKind.UPDATE]
    assert rule.evaluate_tick(T0 + timedelta(seconds=200 + 170)) == []
    assert kinds(rule.evaluate_tick(T0 + timedelta(seconds=200 + 180))) == [UpdateKind.CLEAR]
    crowd = cam(400, detections=[Detection(type=DetectionType.CROWD, confidence=0.8)])
    assert rule.evaluate(crowd)[0].key.endswith("crowd")
    # another camera's (possibly skewed) clock does not close this camera's detection
    assert rule.evaluate(cam(2000, source="cam-2")) == []
    assert kinds(rule.evaluate(cam(590))) == [UpdateKind.CLEAR]


# --- citizen reports ---------------------------------------------------------------------------


def test_poisson_tail_matches_scipy():
    for n, lam in [(1, 0.5), (5, 0.5), (12, 3.0), (40, 10.0), (3, 10.0), (0, 2.0)]:
        assert poisson_sf(n, lam) == pytest.approx(poisson.sf(n - 1, lam), rel=1e-9, abs=1e-300)


def report(minute: int, ticket: str, lon: float = 106.68) -> FeedbackEvent:
    return FeedbackEvent(
        event_id=uuid.uuid4(),
        source_id="app",
        event_time=T0 + timedelta(minutes=minute),
        ticket_id=ticket,
        text="ngập nước",
        lon=lon,
        lat=20.86,
    )


def unit_of(lon: float, lat: float) -> str | None:
    return "phường Lê Chân" if lon < 106.7 else ("phường Hồng Bàng" if lon < 106.8 else None)


def test_citizen_burst_against_the_units_usual_rate():
    cfg = CitizenBurstConfig(type="citizen_burst", id="cb", rates_per_hour={"phường Hồng Bàng": 6.0})
    rule = CitizenBurstRule(cfg, unit_of)
    ups = [u for i in range(6) for u in rule.evaluate(report(i * 5, f"t{i}"))]
    # 5 reports where 0.5/h is usual: P(N ≥ 5) = 1.7e-4 < 1e-3 → raised at the 5th
    assert kinds(ups) == [UpdateKind.RAISE, UpdateKind.UPDATE]
    assert ups[0].admin_unit == "phường Lê Chân" and ups[0].value == 5 and ups[0].key == "cb:phường Lê Chân"
    assert ups[0].lon == pytest.approx(106.68)
    # the same 6 reports where 6/h is usual are no burst
    busy = [u for i in range(6) for u in rule.evaluate(report(i * 5, f"h{i}", lon=106.75))]
    assert busy == []
    # a re-sent ticket does not count twice; reports outside every unit are not counted
    assert rule.evaluate(report(31, "t5")) == [] and rule.evaluate(report(31, "x", lon=107.0)) == []
    # an hour after the last report, the count has dropped and the alert clears
    clear = rule.evaluate_tick(T0 + timedelta(minutes=25 + 61))
    assert kinds(clear) == [UpdateKind.CLEAR]


def test_citizen_burst_needs_a_unit_assigner():
    rule = CitizenBurstRule(CitizenBurstConfig(type="citizen_burst", id="cb"))
    with pytest.raises(RuntimeError, match="admin_unit_of"):
        rule.evaluate(report(0, "t"))
    with pytest.raises(ValueError, match="-1"):
        rule.set_usual_rates({"x": -1.0})


# --- engine ------------------------------------------------------------------------------------


def test_engine_runs_all_rules_and_places_source_alerts():
    engine = RuleEngine.from_config(
        admin_unit_of=unit_of, locate=lambda sid: Location(106.69, 20.85, "phường Ngô Quyền")
    )
    engine.evaluate(cam(0))
    ups = engine.evaluate_tick(T0 + timedelta(minutes=10))
    assert len(ups) == 1 and ups[0].rule_id == "camera-silent"
    assert (ups[0].lon, ups[0].lat, ups[0].admin_unit) == (106.69, 20.85, "phường Ngô Quyền")
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.evaluate_tick(datetime(2026, 1, 1))
