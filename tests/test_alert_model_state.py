"""Per-series model state is saved as data (compressed JSON) and restored only from data.

A restored engine scores the rest of a stream exactly like one that never stopped; a pickle, garbage,
or a state built with other parameters is refused with a clear log line and the series starts cold.
"""

from __future__ import annotations

import json
import logging
import math
import random
import uuid
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from alerts.engine import STATE_MAGIC, AlertEngine, AnomalyMonitor, decode_state
from alerts.rules import AnomalyConfig, RuleConfig, load_rule_config
from ioc.sources.air import AirEvent
from ioc.sources.traffic import TrafficEvent

T0 = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # Tuesday 00:00 in Hải Phòng
SEG = "seg-state-01"
STATION = "air-state-01"


def _anomaly_rules() -> RuleConfig:
    return RuleConfig(rules=tuple(r for r in load_rule_config().rules if isinstance(r, AnomalyConfig)))


def _events(minutes: int, seed: int = 3) -> list[TrafficEvent | AirEvent]:
    """One-minute traffic and five-minute air readings from a Tuesday; on the third day a plume from
    02:00 and a jam from 08:00."""
    rng = random.Random(seed)
    out: list[TrafficEvent | AirEvent] = []
    for k in range(minutes):
        t = T0 + timedelta(minutes=k)
        rush = math.exp(-(((k % 1440) - 60 * 8) ** 2) / (2 * 60.0**2))
        jam = 2 * 1440 + 480 <= k < 2 * 1440 + 560
        speed = (12.0 if jam else 45 - 15 * rush) + rng.gauss(0, 1.5)
        out.append(TrafficEvent(event_id=uuid.uuid4(), source_id=SEG, event_time=t, speed_kmh=max(1.0, speed),
                                volume_vph=900 + 600 * rush + rng.gauss(0, 40), occupancy_pct=10 + 20 * rush,
                                free_flow_kmh=50.0))  # fmt: skip
        if k % 5 == 0:
            plume = 2 * 1440 + 120 <= k < 2 * 1440 + 300
            pm = (160.0 if plume else 25 + 10 * rush) + rng.gauss(0, 2)
            out.append(
                AirEvent(event_id=uuid.uuid4(), source_id=STATION, event_time=t, pm25=pm, pm10=pm * 1.6)
            )
    return out


def _scores(engine: AlertEngine, events: list[TrafficEvent | AirEvent]) -> list[tuple[object, ...]]:
    """Every update and every reading's scores, in order."""
    trace: list[tuple[object, ...]] = []
    for e in events:
        before = [m.last_reading for m in engine.monitors]
        for u in engine.process(e):
            trace.append(("update", u.model_dump_json()))
        for m, b in zip(engine.monitors, before, strict=True):
            if m.last_reading is not b and m.last_reading is not None:
                trace.append((m.id, m.last_reading.source_id, m.last_reading.scores))
    return trace


def test_restored_state_scores_the_rest_of_the_stream_identically() -> None:
    events = _events(2 * 1440 + 660)
    cut = 2 * 1440 + 60  # saved and restored in the night before the plume and the jam
    full = _scores(AlertEngine(_anomaly_rules(), seed=5), events)
    first = AlertEngine(_anomaly_rules(), seed=5)
    head = _scores(first, events[:cut])
    states = first.detector_states()
    assert set(states) == {("anomaly-traffic", SEG), ("anomaly-air", STATION)}
    for blob in states.values():
        assert blob.startswith(STATE_MAGIC) and b"pickle" not in blob
        json.dumps(decode_state(blob), allow_nan=False)  # plain data all the way down
    resumed = AlertEngine(_anomaly_rules(), seed=5)
    assert resumed.restore_detector_states(states) == 2
    tail = _scores(resumed, events[cut:])
    assert head + tail == full
    raised = [json.loads(t[1]) for t in full if t[0] == "update"]
    assert {u["rule_id"] for u in raised if u["kind"] == "raise"} == {"anomaly-traffic", "anomaly-air"}
    plume = next(u for u in raised if u["rule_id"] == "anomaly-air")
    assert "lần mức thường lệ" in plume["detail_vi"] and "times its usual level" in plume["detail_en"]
    jam = next(u for u in raised if u["rule_id"] == "anomaly-traffic")
    assert "% mức thường lệ" in jam["detail_vi"] and "điểm" not in jam["detail_vi"]  # words, not a p-value
    assert 0 < jam["value"] <= 1  # the score itself is kept for the hover


def _tampered(blob: bytes) -> dict[str, bytes]:
    doc = decode_state(blob)
    wrong_params = json.loads(json.dumps(doc))
    wrong_params["detectors"][0]["params"]["window"] = 7
    bad_data = json.loads(json.dumps(doc))
    bad_data["detectors"][0]["data"] = {"nonsense": [1, 2, 3]}
    bad_counters = json.loads(json.dumps(doc))
    bad_counters["counters"]["last_time"] = "yesterday"

    def pack(d: object) -> bytes:
        return STATE_MAGIC + zlib.compress(json.dumps(d).encode())

    return {
        "pickle": b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.",
        "garbage": b"\x00\x01not a state at all",
        "truncated": blob[: len(blob) // 2],
        "not json": STATE_MAGIC + zlib.compress(b"{'a': 1}"),
        "zip bomb": STATE_MAGIC + zlib.compress(b" " * (65 * 1024 * 1024)),
        "other parameters": pack(wrong_params),
        "malformed detector": pack(bad_data),
        "malformed counters": pack(bad_counters),
        "other monitor": pack({**doc, "monitor": "anomaly-air"}),
    }


@pytest.mark.parametrize(
    "case",
    ["pickle", "garbage", "truncated", "not json", "zip bomb", "other parameters", "malformed detector",
     "malformed counters", "other monitor"],
)  # fmt: skip
def test_a_tampered_or_foreign_state_is_refused_and_the_series_starts_cold(
    case: str, caplog: pytest.LogCaptureFixture
) -> None:
    events = [e for e in _events(1500) if isinstance(e, TrafficEvent)]
    first = AlertEngine(_anomaly_rules(), seed=5)
    first.process_many(events)
    blob = first.detector_states()[("anomaly-traffic", SEG)]
    fresh = AlertEngine(_anomaly_rules(), seed=5)
    with caplog.at_level(logging.WARNING, logger="alerts.engine"):
        assert fresh.restore_detector_states({("anomaly-traffic", SEG): _tampered(blob)[case]}) == 0
    assert "anomaly-traffic:seg-state-01 refused" in caplog.text and "starts cold" in caplog.text
    if case == "pickle":
        assert "never unpickled" in caplog.text
    monitor = next(m for m in fresh.monitors if m.id == "anomaly-traffic")
    assert isinstance(monitor, AnomalyMonitor) and monitor.series_ids() == []
    fresh.process_many(events[:50])  # a cold series: learning from its first reading again
    assert monitor.learned_until(SEG) == events[49].event_time
    assert monitor._series[SEG].learned == 10  # 50 one-minute readings, 5 per observation


def test_the_live_models_are_the_resonance_detector_with_one_parameter_set() -> None:
    anomaly = [r for r in load_rule_config().rules if isinstance(r, AnomalyConfig)]
    assert {r.source for r in anomaly} >= {"traffic", "air"}
    dets = [d for r in anomaly for d in r.detectors]
    assert {d.detector for d in dets} == {"resonance"}
    assert len({json.dumps(d.params, sort_keys=True) for d in dets}) == 1
