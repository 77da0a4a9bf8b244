"""The IO-free alert engine on planted incidents: one incident → one alert, updated, then cleared."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from alerts.engine import AlertEngine, usual_report_rates
from alerts.model import AlertUpdate, UpdateKind
from alerts.rules import AnomalyConfig, RuleConfig, load_rule_config
from ioc.sources.camera import CameraEvent, Detection, DetectionType
from ioc.sources.traffic import TrafficEvent

T0 = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # Tuesday 00:00 in Hải Phòng
SEG = "seg-test-01"


def _traffic(t: datetime, speed: float, volume: float = 1200.0, occupancy: float = 12.0) -> TrafficEvent:
    return TrafficEvent(event_id=uuid.uuid4(), source_id=SEG, event_time=t, speed_kmh=speed,
                        volume_vph=volume, occupancy_pct=occupancy, free_flow_kmh=50.0)  # fmt: skip


def _kinds(updates: list[AlertUpdate], key: str) -> list[UpdateKind]:
    return [u.kind for u in updates if u.key == key]


def _rules_only(*ids: str) -> RuleConfig:
    return RuleConfig(rules=tuple(r for r in load_rule_config().rules if r.id in ids))


def test_congestion_raises_one_alert_updates_it_and_clears_it() -> None:
    engine = AlertEngine(_rules_only("traffic-slow"), seed=1)
    speeds = [40.0] * 30 + [12.0] * 12 + [5.0] * 15 + [12.0] * 5 + [40.0] * 20  # ratio .24 → .1 → .24 → .8
    out = [u for k, v in enumerate(speeds) for u in engine.process(_traffic(T0 + timedelta(minutes=k), v))]
    key = f"traffic-slow:{SEG}"
    assert _kinds(out, key) == [UpdateKind.RAISE, UpdateKind.UPDATE, UpdateKind.UPDATE, UpdateKind.CLEAR]
    raise_, worse, easing, clear = [u for u in out if u.key == key]
    assert raise_.at == T0 + timedelta(minutes=40)  # 10 minutes below 30 % of free flow
    assert worse.severity.rank > raise_.severity.rank and easing.severity == raise_.severity
    assert clear.at == T0 + timedelta(minutes=67)  # 5 minutes back above 50 %
    assert "12 km/h" in raise_.detail_en and "tốc độ" in raise_.detail_vi


def test_camera_outage_and_detection_are_one_alert_each() -> None:
    engine = AlertEngine(_rules_only("camera-silent", "camera-detection"), seed=1)
    out: list[AlertUpdate] = []
    for k in range(60):
        t = T0 + timedelta(minutes=k)
        online = not 10 <= k < 30
        dets = (Detection(type=DetectionType.CROWD, confidence=0.9),) if 40 <= k < 50 else ()
        out += engine.process(CameraEvent(event_id=uuid.uuid4(), source_id="cam-x", event_time=t, online=online,
                                          detections=dets))  # fmt: skip
        out += engine.tick(t + timedelta(seconds=30))
    assert _kinds(out, "camera-silent:cam-x") == [UpdateKind.RAISE, UpdateKind.CLEAR]
    assert _kinds(out, "camera-detection:cam-x:crowd") == [UpdateKind.RAISE, UpdateKind.CLEAR]


def _anomaly_config(**over: object) -> RuleConfig:
    base = next(r for r in load_rule_config().rules if r.id == "anomaly-traffic")
    assert isinstance(base, AnomalyConfig)
    seasonal = base.detectors[0].model_copy(
        update={
            "detector": "seasonal",
            "params": {"min_count": 5, "day_size": 64, "z_scale": 6.0},
            "raise_score": 0.6,
            "clear_score": 0.4,
        }
    )
    cfg = base.model_copy(
        update={"detectors": (seasonal,), "min_learned": 200, "aggregate": 1, "usual": None, **over}
    )
    return RuleConfig(rules=(cfg,))


def _week_of_readings(seed: int) -> list[TrafficEvent]:
    """Three quiet days every 10 minutes (~40 km/h), then a slowdown to 12 km/h for an hour."""
    rng = random.Random(seed)
    events = [_traffic(T0 + timedelta(minutes=10 * k), 40 + rng.gauss(0, 2)) for k in range(3 * 144)]
    t = events[-1].event_time
    events += [_traffic(t + timedelta(minutes=10 * k), 12.0) for k in range(1, 7)]
    events += [_traffic(t + timedelta(minutes=60 + 10 * k), 40 + rng.gauss(0, 2)) for k in range(1, 13)]
    return events


def test_anomaly_alert_explains_itself_in_both_languages() -> None:
    engine = AlertEngine(_anomaly_config(raise_after=3, clear_after=3), seed=3)
    events = _week_of_readings(5)
    out = engine.process_many(events)
    key = f"anomaly-traffic:{SEG}"
    assert _kinds(out, key) == [UpdateKind.RAISE, UpdateKind.CLEAR]
    raised = out[0]
    assert raised.at == events[3 * 144 + 2].event_time  # third slow reading in a row
    assert raised.value is not None and raised.value >= 0.6
    assert "speed 12 km/h, usual at " in raised.detail_en and "± " in raised.detail_en
    assert "anomaly score" in raised.detail_en
    assert (
        raised.detail_vi.startswith("tốc độ 12 km/h, mức thường lệ lúc ")
        and "điểm bất thường" in raised.detail_vi
    )
    assert raised.title_vi.startswith("Bất thường giao thông")


def test_faster_than_usual_is_not_an_incident() -> None:
    engine = AlertEngine(_anomaly_config(raise_after=3), seed=3)
    events = _week_of_readings(5)
    fast = [e.model_copy(update={"speed_kmh": 95.0 if e.speed_kmh == 12.0 else e.speed_kmh}) for e in events]
    assert engine.process_many(fast) == []


def test_same_seed_same_updates_and_state_resumes_identically() -> None:
    events = _week_of_readings(9)
    full = AlertEngine(_anomaly_config(raise_after=3, clear_after=3), seed=4).process_many(events)
    first = AlertEngine(_anomaly_config(raise_after=3, clear_after=3), seed=4)
    head = first.process_many(events[:400])
    resumed = AlertEngine(_anomaly_config(raise_after=3, clear_after=3), seed=4)
    assert resumed.restore_detector_states(first.detector_states()) == 1
    tail = resumed.process_many(events[400:])
    assert [u.model_dump() for u in head + tail] == [u.model_dump() for u in full]
    assert full  # the slowdown was seen at all


def test_replayed_events_are_not_learnt_twice() -> None:
    engine = AlertEngine(_anomaly_config(raise_after=3, clear_after=3), seed=4)
    events = _week_of_readings(9)
    once = engine.process_many(events)
    again = engine.process_many(events[-30:])  # e.g. the warm start and Kafka overlap
    assert once and again == []


def test_usual_report_rates_shape_and_floor() -> None:
    local_noon = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 12:00 in Hải Phòng
    reports = [(local_noon + timedelta(minutes=k), "u1") for k in range(48)] + [(local_noon, None)]
    rates, profile = usual_report_rates(reports, hours=24)
    assert rates == {"u1": pytest.approx(2.0)}
    assert len(profile) == 24 and profile[12] == max(profile) and sum(profile) == pytest.approx(24)
    with pytest.raises(ValueError, match="positive number of hours"):
        usual_report_rates(reports, hours=0)


def test_bad_anomaly_feature_is_named() -> None:
    base = next(r for r in load_rule_config().rules if r.id == "anomaly-air")
    bad = base.model_copy(
        update={"detectors": (base.detectors[0].model_copy(update={"features": ("pm99",)}),)}
    )
    with pytest.raises(ValueError, match="pm99"):
        AlertEngine(RuleConfig(rules=(bad,)))
