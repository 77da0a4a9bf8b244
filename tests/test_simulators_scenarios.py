"""Every scenario's ground truth matches the events it produces.

Each planted incident must be visible in the affected series at the stated times, and absent
before its start; the counterfactual run (same seed, incidents removed) shows it is the incident,
not the time of day, that moves the series.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from statistics import mean

import pytest

from ioc.events import Event
from ioc.sources import SourceKind
from ioc.sources.camera import DetectionType
from simulators.city import City
from simulators.scenario import (
    GroundTruth,
    Incident,
    IncidentClass,
    distance_m,
    load_scenario,
    scenario_names,
)

SEED = 21
# The demo schedule overlaps copies of the incidents below on purpose (all within half an hour of the
# first start), so the one-incident counterfactuals here do not apply to it (tests/test_demo_backfill.py).
PLANTED = [n for n in scenario_names() if load_scenario(n).incidents and n != "demo_schedule"]


@cache
def _truth(name: str) -> GroundTruth:
    city = City(load_scenario(name), SEED, kinds=frozenset())
    return city.truth(city.start + load_scenario(name).duration)


@cache
def _events(name: str, kind: SourceKind, incident_id: str, clean: bool = False) -> tuple[Event, ...]:
    """One run per (scenario, kind, incident), from 30 min before its start to 15 min after its end.

    ``clean`` runs the counterfactual: same seed, same window, incidents removed.
    """
    sc = load_scenario(name)
    inc = next(i for i in _truth(name).incidents if i.id == incident_id)
    city = City(sc.model_copy(update={"incidents": ()}) if clean else sc, SEED, kinds=frozenset({kind}))
    return tuple(city.events(inc.end + timedelta(minutes=15), begin=inc.start - timedelta(minutes=30)))


def _between(events: Iterable[Event], ids: set[str], a: datetime, b: datetime) -> list[Event]:
    return [e for e in events if e.source_id in ids and a <= e.event_time < b]


def _incidents(cls: IncidentClass) -> list[tuple[str, Incident]]:
    out = []
    for name in PLANTED:
        out += [(name, i) for i in _truth(name).incidents if i.cls is cls]
    return out


def _ids(incident: Incident, prefix: str) -> set[str]:
    return {s for s in incident.sources if s.startswith(prefix)}


def test_at_least_six_planted_scenarios_and_a_quiet_day() -> None:
    classes = {spec.cls for n in PLANTED for spec in load_scenario(n).incidents}
    assert len(PLANTED) >= 6 and set(IncidentClass) <= classes
    assert "quiet_day" in scenario_names() and not load_scenario("quiet_day").incidents


@pytest.mark.parametrize("name", PLANTED)
def test_truth_gives_absolute_times_and_resolved_sources(name: str) -> None:
    sc = load_scenario(name)
    truth = _truth(name)
    assert truth.scenario == name and truth.seed == SEED
    for spec, inc in zip(sc.incidents, truth.incidents, strict=True):
        assert inc.id == spec.id and inc.cls is spec.cls
        assert (inc.start, inc.peak, inc.end) == (
            truth.start + spec.start,
            truth.start + spec.peak,
            truth.start + spec.end,
        )
        assert set(spec.sources) <= set(inc.sources) and inc.sources
        assert inc.place.name and 106 < inc.place.lon < 108
    dumped = GroundTruth.model_validate_json(truth.to_json())
    assert dumped == truth and '"class"' in truth.to_json()


@pytest.mark.parametrize(
    "cls", [IncidentClass.CONGESTION, IncidentClass.FLOODING, IncidentClass.STOPPED_VEHICLE], ids=str
)
def test_speed_drops_on_affected_segments(cls: IncidentClass) -> None:
    cases = _incidents(cls)
    assert cases
    for name, inc in cases:
        segs = _ids(inc, "seg-")
        assert segs, f"{inc.id} affects no segment"
        planted = _events(name, SourceKind.TRAFFIC, inc.id)
        clean = _events(name, SourceKind.TRAFFIC, inc.id, clean=True)
        before = inc.start - timedelta(minutes=20)
        # Before the start the series is exactly the counterfactual one.
        assert _between(planted, segs, before, inc.start) == _between(clean, segs, before, inc.start)
        at_peak = (inc.peak - timedelta(minutes=5), inc.peak + timedelta(minutes=5))
        if inc.shape == "plateau":
            at_peak = (inc.peak, inc.end)
        speed = mean(e.speed_kmh for e in _between(planted, segs, *at_peak))
        normal = mean(e.speed_kmh for e in _between(clean, segs, *at_peak))
        speed_before = mean(e.speed_kmh for e in _between(planted, segs, before, inc.start))
        assert speed < 0.55 * normal, f"{inc.id}: {speed:.1f} vs {normal:.1f} km/h"
        assert speed < 0.7 * speed_before
        occupancy = mean(e.occupancy_pct for e in _between(planted, segs, *at_peak))
        assert occupancy > mean(e.occupancy_pct for e in _between(clean, segs, *at_peak))
        # After the end the segment is back to normal.
        after = (inc.end, inc.end + timedelta(minutes=15))
        assert _between(planted, segs, *after) == _between(clean, segs, *after)


def test_camera_outage_takes_exactly_the_listed_cameras_offline() -> None:
    for name, inc in _incidents(IncidentClass.CAMERA_OUTAGE):
        cams = _ids(inc, "cam-")
        events = _events(name, SourceKind.CAMERA, inc.id)
        during = _between(events, cams, inc.start, inc.end)
        assert during and all(not e.online and e.counts is None for e in during)
        assert len(during) >= len(cams) * ((inc.end - inc.start) // timedelta(minutes=1)) - len(cams)
        others = [e for e in events if e.source_id not in cams]
        assert all(e.online for e in others if inc.start <= e.event_time < inc.end)
        assert all(e.online for e in _between(events, cams, inc.start - timedelta(minutes=20), inc.start))
        assert all(e.online for e in _between(events, cams, inc.end, inc.end + timedelta(minutes=15)))


@pytest.mark.parametrize(
    ("cls", "detection"),
    [
        (IncidentClass.FLOODING, DetectionType.FLOODING),
        (IncidentClass.CROWD, DetectionType.CROWD),
        (IncidentClass.STOPPED_VEHICLE, DetectionType.STOPPED_VEHICLE),
    ],
    ids=str,
)
def test_cameras_detect_the_incident_near_its_peak(cls: IncidentClass, detection: DetectionType) -> None:
    for name, inc in _incidents(cls):
        cams = _ids(inc, "cam-")
        assert cams, f"{inc.id} is seen by no camera"
        events = _events(name, SourceKind.CAMERA, inc.id)

        def confident(evs: list[Event]) -> list[float]:
            return [
                d.confidence for e in evs for d in e.detections if d.type is detection and d.confidence >= 0.5
            ]

        if inc.shape == "plateau":
            near_peak = _between(events, cams, inc.peak, inc.peak + timedelta(minutes=10))
        else:
            near_peak = _between(
                events, cams, inc.peak - timedelta(minutes=5), inc.peak + timedelta(minutes=5)
            )
        hits = confident(near_peak)
        assert len(hits) >= 0.9 * len(near_peak) and min(hits) > 0.85
        assert not confident(_between(events, cams, inc.start - timedelta(minutes=30), inc.start))
        assert not confident([e for e in events if e.source_id not in cams])


def test_pm25_episode_raises_the_affected_stations() -> None:
    for name, inc in _incidents(IncidentClass.PM25_EPISODE):
        stations = _ids(inc, "air-")
        assert "air-dinhvu" in stations
        planted = _events(name, SourceKind.AIR, inc.id)
        clean = _events(name, SourceKind.AIR, inc.id, clean=True)
        window = (inc.peak - timedelta(minutes=30), inc.peak + timedelta(minutes=30))
        for sid in stations:
            up = mean(e.pm25 for e in _between(planted, {sid}, *window))
            base = mean(e.pm25 for e in _between(clean, {sid}, *window))
            assert up - base > 0.35 * inc.magnitude, f"{sid}: {up:.0f} vs {base:.0f}"
        before = (inc.start - timedelta(hours=1), inc.start)
        assert _between(planted, stations, *before) == _between(clean, stations, *before)
        others = {e.source_id for e in planted} - stations
        assert _between(planted, others, *window) == _between(clean, others, *window)


def test_incidents_bring_a_spike_of_citizen_reports_near_the_place() -> None:
    checked = 0
    for name in PLANTED:
        truth = _truth(name)
        for inc in truth.incidents:
            if inc.reports is None:
                continue
            planted = _events(name, SourceKind.FEEDBACK, inc.id)
            clean = _events(name, SourceKind.FEEDBACK, inc.id, clean=True)

            def near(evs: tuple[Event, ...], inc: Incident = inc) -> list[Event]:
                return [
                    e for e in evs
                    if inc.start <= e.event_time < inc.end and e.action == "created"
                    and e.category == inc.reports.category
                    and distance_m(inc.place.lon, inc.place.lat, e.lon, e.lat) <= inc.reports.radius_m
                ]  # fmt: skip

            expected = inc.reports.per_hour * (inc.end - inc.start) / timedelta(hours=1) / 2  # triangle area
            assert len(near(planted)) >= 0.4 * expected + len(near(clean)), inc.id
            # Incident reports come from their own stream: before the start nothing differs.
            assert [e for e in planted if e.event_time < inc.start] == [
                e for e in clean if e.event_time < inc.start
            ]
            checked += 1
    assert checked >= 4
    flood = next(i for i in _truth("lechan_flood").incidents)
    assert any("ngập" in e.text for e in _events("lechan_flood", SourceKind.FEEDBACK, flood.id))


def test_quiet_day_has_no_incident_signals() -> None:
    sc = load_scenario("quiet_day")
    rush = datetime.fromisoformat("2026-03-10T07:00:00+07:00")
    city = City(sc, SEED, start=rush, kinds=frozenset({SourceKind.CAMERA}))
    events = list(city.events(rush + timedelta(hours=2)))
    assert city.truth(rush + timedelta(hours=2)).incidents == ()
    assert all(e.online for e in events)
    assert not [d for e in events for d in e.detections if d.confidence >= 0.5]


def test_bad_scenario_files_name_the_bad_value(tmp_path) -> None:
    good = load_scenario("bridge_stopped_vehicle").model_dump(mode="json", by_alias=True)
    import yaml

    def write(data: dict) -> str:
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
        return str(path)

    assert load_scenario(write(good)) == load_scenario("bridge_stopped_vehicle"), (
        "a dumped scenario loads back"
    )
    bad_source = {**good, "incidents": [{**good["incidents"][0], "sources": ["seg-khong-ton-tai"]}]}
    sc = load_scenario(write(bad_source))
    with pytest.raises(ValueError, match="seg-khong-ton-tai"):
        City(sc, 1)
    bad_class = {**good, "incidents": [{**good["incidents"][0], "class": "earthquake"}]}
    with pytest.raises(ValueError, match="earthquake"):
        load_scenario(write(bad_class))
    backwards = {**good, "incidents": [{**good["incidents"][0], "start": "2h", "end": "1h"}]}
    with pytest.raises(ValueError, match="start <= peak <= end"):
        load_scenario(write(backwards))
    with pytest.raises(ValueError, match="khong_co"):
        load_scenario("khong_co")
