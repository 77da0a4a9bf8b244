"""Simulator core: determinism, daily patterns, malformed messages, wire records, replay, live, CLI."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean

import pytest
import typer
from typer.testing import CliRunner

from geodata.sites import known_source_ids
from ioc.settings import Settings
from ioc.sources import EVENT_CLASSES, SourceKind
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.traffic import TrafficEvent
from ioc.tickets.categories import load_catalog
from ioc.topics import topic_for
from simulators.city import City
from simulators.cli import register
from simulators.live import day_anchor, run_live
from simulators.malformed import Reason, malformed
from simulators.publish import MemorySender, Pacer, publish, with_malformed
from simulators.replay import CsvSeries, merge, read_csv, read_jsonl, retime
from simulators.scenario import GroundTruth, load_scenario, parse_duration
from simulators.wire import Message

ONLY = {k: frozenset({k}) for k in SourceKind}
NAB_SPEED = Settings().shared_data_dir / "nab" / "data" / "realTraffic" / "speed_6005.csv"


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _run(scenario: str, seed: int, span: timedelta, start: datetime | None = None, kinds=None) -> list:
    city = City(load_scenario(scenario), seed, start=start, kinds=kinds)
    return list(city.events(city.start + span))


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_bytes_different_seed_different() -> None:
    a = [e.to_json() for e in _run("normal_day", 7, timedelta(minutes=25))]
    b = [e.to_json() for e in _run("normal_day", 7, timedelta(minutes=25))]
    c = [e.to_json() for e in _run("normal_day", 8, timedelta(minutes=25))]
    assert a == b
    assert len(a) > 3000
    assert {json.loads(x)["event_id"] for x in a}.isdisjoint({json.loads(x)["event_id"] for x in c})
    assert a != c
    times = [json.loads(x)["event_time"] for x in a]
    assert times == sorted(times), "events come out in time order"


def test_cli_records_identical_files_for_the_same_seed(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(
            _cli(),
            ["simulate", "--scenario", "lechan_flood", "--duration", "20m", "--seed", "3", "--speed", "0",
             "--dry-run", "--no-progress", "--malformed-share", "0.05", "--record", str(tmp_path / f"{name}.jsonl"),
             "--run-id", "drill-1"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.truth.json").read_bytes() == (tmp_path / "b.truth.json").read_bytes()
    # Another run of the same seed (a drill beside the live city) shares no event id with it.
    other = CliRunner().invoke(
        _cli(), ["simulate", "--scenario", "lechan_flood", "--duration", "20m", "--seed", "3", "--speed", "0",
                 "--dry-run", "--no-progress", "--record", str(tmp_path / "c.jsonl")])  # fmt: skip
    assert other.exit_code == 0, other.output

    def ids(name: str) -> set[str]:
        return {json.loads(line)["event"]["event_id"] for line in (tmp_path / name).read_text().splitlines()
                if '"event"' in line}

    assert ids("a.jsonl") and ids("a.jsonl").isdisjoint(ids("c.jsonl"))
    truth = GroundTruth.read(tmp_path / "a.truth.json")
    assert truth.scenario == "lechan_flood" and truth.seed == 3
    # The flood starts 1 h into the run: a 20-minute run plants nothing.
    assert truth.incidents == ()


def test_a_subset_of_kinds_yields_the_same_events() -> None:
    full = _run("caubinh_congestion", 11, timedelta(minutes=20))
    air_only = _run("caubinh_congestion", 11, timedelta(minutes=20), kinds=ONLY[SourceKind.AIR])
    assert [e.to_json() for e in full if e.kind is SourceKind.AIR] == [e.to_json() for e in air_only]


def test_incidents_do_not_disturb_unaffected_sources() -> None:
    sc = load_scenario("caubinh_congestion")
    window = timedelta(hours=2, minutes=30)
    planted = City(sc, 5, kinds=ONLY[SourceKind.TRAFFIC])
    clean = City(sc.model_copy(update={"incidents": ()}), 5, kinds=ONLY[SourceKind.TRAFFIC])
    affected = set(planted.incidents[0].sources)
    with_inc = list(planted.events(planted.start + window))
    without = list(clean.events(clean.start + window))
    assert len(with_inc) == len(without)
    changed = {a.source_id for a, b in zip(with_inc, without, strict=True) if a != b}
    assert changed and changed <= affected


# --- a city that moves like a real one ---------------------------------------------------------


def test_rush_hour_is_slow_night_is_free_weekend_is_lighter() -> None:
    def speed_ratio(start: str) -> float:
        evs = _run(
            "quiet_day", 1, timedelta(minutes=20), datetime.fromisoformat(start), ONLY[SourceKind.TRAFFIC]
        )
        return mean(e.speed_kmh / e.free_flow_kmh for e in evs)

    rush = speed_ratio("2026-03-10T07:50:00+07:00")  # Tuesday
    night = speed_ratio("2026-03-10T03:00:00+07:00")
    sunday_morning = speed_ratio("2026-03-15T07:50:00+07:00")
    assert night > 0.9
    assert rush < 0.75
    assert sunday_morning > rush + 0.1


def test_pm25_is_higher_in_the_dry_winter() -> None:
    def pm25(start: str) -> float:
        evs = _run("quiet_day", 2, timedelta(days=2), datetime.fromisoformat(start), ONLY[SourceKind.AIR])
        return mean(e.pm25 for e in evs)

    assert pm25("2026-01-10T00:00:00+07:00") > 1.6 * pm25("2026-07-10T00:00:00+07:00")


def test_reports_follow_waking_hours_and_stay_in_the_city() -> None:
    evs = _run("quiet_day", 3, timedelta(days=4), kinds=ONLY[SourceKind.FEEDBACK])
    created = [e for e in evs if e.action == "created"]
    hours = Counter(e.event_time.astimezone(UTC).hour for e in created)  # 08-11 ICT = 01-04 UTC
    day = sum(hours[h] for h in (1, 2, 3, 4))
    night = sum(hours[h] for h in (19, 20, 21, 22))  # 02-05 ICT
    assert 300 < len(created) < 900  # ~150 a working day
    assert day > 5 * night
    assert {e.category for e in created} == set(load_catalog().codes)  # the triage desk's categories
    assert all(106.2 < e.lon < 107.2 and 20.6 < e.lat < 21.2 for e in evs)
    assert any(e.action == "updated" for e in evs)
    assert {e.source_id for e in evs} <= known_source_ids()[SourceKind.FEEDBACK]
    assert all(e.reporter_phone is None or e.reporter_phone[0] == "0" for e in evs)
    assert "reporter_phone" not in repr(created[0]) and "reporter_name" not in repr(created[0])


def test_sources_report_at_their_cadence() -> None:
    evs = _run("quiet_day", 4, timedelta(hours=1), datetime.fromisoformat("2026-03-10T09:00:00+07:00"))
    per_source = Counter((e.kind, e.source_id) for e in evs)
    ids = known_source_ids()
    for sid in ids[SourceKind.TRAFFIC]:
        assert per_source[(SourceKind.TRAFFIC, sid)] == 60
    for sid in ids[SourceKind.CAMERA]:
        assert per_source[(SourceKind.CAMERA, sid)] == 60
    for sid in ids[SourceKind.AIR]:
        assert per_source[(SourceKind.AIR, sid)] == 12
    types = {type(e) for e in evs}
    assert {TrafficEvent, CameraEvent, AirEvent, FeedbackEvent} <= types <= set(EVENT_CLASSES.values())
    # The early-warning feeds run in the same city: the gauges report within the hour.
    assert {EVENT_CLASSES[SourceKind("water")], EVENT_CLASSES[SourceKind("rain")]} <= types


# --- malformed messages -------------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(Reason))
def test_malformed_generator_produces_each_kind(reason: Reason) -> None:
    import random

    rng = random.Random(9)
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    known = known_source_ids()
    for source_kind in SourceKind:
        for _ in range(15):
            bad = malformed(rng, reason, source_kind, now=now)
            assert bad.topic_kind is source_kind and bad.expected_reason_code == reason.value
            if reason is Reason.NOT_JSON:
                with pytest.raises(ValueError):
                    json.loads(bad.value.decode())
                continue
            body = json.loads(bad.value)
            cls = EVENT_CLASSES[source_kind]
            if reason in (Reason.UNKNOWN_SOURCE, Reason.FUTURE_TIMESTAMP):
                event = cls.model_validate(body)  # valid on its own: only the context rejects it
                if reason is Reason.UNKNOWN_SOURCE:
                    assert event.source_id not in known[source_kind] and bad.key == event.source_id.encode()
                else:
                    assert event.event_time > now + timedelta(days=3650)
            else:
                with pytest.raises(ValueError):
                    cls.model_validate(body)


def test_malformed_reasons_match_the_consumers_decoder() -> None:
    """The contract with streams/: the decoder gives exactly the reason code we expect."""
    decode_mod = pytest.importorskip("streams.decode")
    import random

    rng = random.Random(4)
    known = known_source_ids()
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    mismatches = []
    for reason in Reason:
        for _ in range(40):
            bad = malformed(rng, reason, now=now)
            result = decode_mod.decode(bad.topic_kind, bad.value, known_sources=known, now=now)
            code = getattr(getattr(result, "code", None), "value", "accepted")
            if code != bad.expected_reason_code:
                mismatches.append((bad.expected_reason_code, code, bad.value[:120]))
    assert not mismatches, mismatches[:5]


def test_malformed_share_mixes_in_without_changing_valid_messages() -> None:
    evs = _run("quiet_day", 6, timedelta(minutes=30), kinds=ONLY[SourceKind.TRAFFIC] | ONLY[SourceKind.AIR])
    plain = [Message.of(e) for e in evs]
    mixed = list(with_malformed(plain, 0.05, seed=6))
    bad = [m for m in mixed if m.reason]
    assert [m for m in mixed if not m.reason] == plain
    assert 0.03 * len(plain) < len(bad) < 0.07 * len(plain)
    assert {m.reason for m in bad} == {r.value for r in Reason}
    with pytest.raises(ValueError, match="malformed share"):
        list(with_malformed(plain, 1.5, seed=6))


# --- wire records and replay -------------------------------------------------------------------


def test_records_round_trip_to_the_exact_bytes(tmp_path: Path) -> None:
    evs = _run("opera_crowd", 2, timedelta(minutes=5))
    msgs = list(with_malformed([Message.of(e) for e in evs], 0.2, seed=2))
    path = tmp_path / "rec.jsonl"
    path.write_text("".join(m.to_record() + "\n" for m in msgs), encoding="utf-8")
    back = read_jsonl(path)
    assert [(m.kind, m.key, m.value, m.reason) for m in back] == [
        (m.kind, m.key, m.value, m.reason) for m in msgs
    ]
    # A bare event object (no wrapper) is accepted, its kind inferred.
    bare = Message.from_record(evs[0].to_json().decode())
    assert bare.value == evs[0].to_json() and bare.kind is evs[0].kind
    with pytest.raises(ValueError, match="rec.jsonl:1"):
        Message.from_record('{"kind": "traffic", "event": {"source_id": "x"}}', where=f"{path}:1")


def test_streams_merge_in_time_order_and_retime_deterministically() -> None:
    air = [Message.of(e) for e in _run("quiet_day", 1, timedelta(minutes=30), kinds=ONLY[SourceKind.AIR])]
    traffic = [
        Message.of(e) for e in _run("quiet_day", 1, timedelta(minutes=30), kinds=ONLY[SourceKind.TRAFFIC])
    ]
    merged = list(merge([air, traffic]))
    assert len(merged) == len(air) + len(traffic)
    assert [m.time for m in merged] == sorted(m.time for m in merged)
    shift = timedelta(days=30)
    moved = [retime(m, shift) for m in merged[:50]]
    again = [retime(m, shift) for m in merged[:50]]
    assert moved == again
    for old, new in zip(merged[:50], moved, strict=True):
        o, n = json.loads(old.value), json.loads(new.value)
        assert datetime.fromisoformat(n["event_time"]) - datetime.fromisoformat(o["event_time"]) == shift
        assert n["event_id"] != o["event_id"] and n["source_id"] == o["source_id"]


def test_nab_series_maps_onto_a_traffic_segment() -> None:
    if not NAB_SPEED.exists():
        pytest.skip(f"shared data absent: {NAB_SPEED}")
    msgs = read_csv(CsvSeries.parse(str(NAB_SPEED)))
    rows = NAB_SPEED.read_text().splitlines()[1:]
    assert len(msgs) == len(rows)
    first = json.loads(msgs[0].value)
    mph = float(rows[0].split(",")[1])
    assert first["source_id"] == "seg-caubinh-s"
    assert first["speed_kmh"] == pytest.approx(min(200, mph * 1.609344), abs=0.06)
    assert msgs[0].time == datetime.fromisoformat(rows[0].split(",")[0]).replace(tzinfo=UTC)
    explicit = read_csv(CsvSeries.parse(f"{NAB_SPEED}@air-dinhvu:pm10*2"))
    assert json.loads(explicit[0].value)["pm10"] == pytest.approx(2 * mph)
    with pytest.raises(ValueError, match="seg-khong-co"):
        read_csv(CsvSeries.parse(f"{NAB_SPEED}@seg-khong-co"))


def test_replay_at_60x_keeps_relative_timing() -> None:
    """~8 s of wall time: 8 simulated minutes at 60×, in-memory sender records monotonic send times."""
    evs = _run("quiet_day", 1, timedelta(minutes=8), kinds=ONLY[SourceKind.AIR] | ONLY[SourceKind.TRAFFIC])
    msgs = [Message.of(e) for e in evs]
    sender = MemorySender()
    stats = publish(msgs, sender, prefix="t.", speed=60, progress=False)
    assert stats.total == len(msgs) == len(sender.sent)
    w0, t0 = sender.sent[0][0], msgs[0].time
    sim_span = (msgs[-1].time - t0).total_seconds() / 60
    wall_span = sender.sent[-1][0] - w0
    assert wall_span == pytest.approx(sim_span, rel=0.05)
    lateness = [
        (w - w0) - (m.time - t0).total_seconds() / 60 for (w, *_), m in zip(sender.sent, msgs, strict=True)
    ]
    assert min(lateness) >= -0.001, "never sent ahead of schedule"
    assert sorted(lateness)[int(0.95 * len(lateness))] < 0.05 * sim_span
    assert {topic for _, topic, _, _ in sender.sent} == {
        topic_for(SourceKind.AIR, "t."),
        topic_for(SourceKind.TRAFFIC, "t."),
    }


def test_pacer_rejects_bad_speed_and_stops_promptly() -> None:
    with pytest.raises(ValueError, match="-3"):
        Pacer(-3)
    stop = threading.Event()
    pacer = Pacer(1.0, stop)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    pacer.wait(t)
    threading.Timer(0.2, stop.set).start()
    began = time.monotonic()
    pacer.wait(t + timedelta(hours=1))
    assert time.monotonic() - began < 5


# --- live ------------------------------------------------------------------------------------------


def test_run_live_stamps_events_on_the_wall_clock(tmp_path: Path) -> None:
    sender = MemorySender()
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    began = datetime.now(UTC)
    stats = run_live(Settings(data_dir=tmp_path), "normal_day", speed=600, stop=stop, send=sender,
                     truth_path=tmp_path / "truth.json")  # fmt: skip
    ended = datetime.now(UTC)
    assert sum(stats.sent.values()) == len(sender.sent) > 500
    stamps = [datetime.fromisoformat(json.loads(v)["event_time"]) for *_, v in sender.sent]
    assert min(stamps) >= began - timedelta(seconds=1)
    assert max(stamps) <= ended + timedelta(seconds=1), "no event from the future"
    truth = GroundTruth.read(tmp_path / "truth.json")
    planned = {i.id for i in load_scenario("normal_day").incidents}
    assert {i.id for i in truth.incidents} <= planned
    # Day 0 joins at the current time of day; what is left of it passes in < 2.4 min at 600×.
    for inc in truth.incidents:
        assert began - timedelta(seconds=1) < inc.end < began + timedelta(minutes=2, seconds=25)


def test_live_city_keeps_the_real_time_of_day() -> None:
    sc = load_scenario("normal_day")
    now = datetime.fromisoformat("2026-11-23T14:37:00+07:00").astimezone(UTC)
    anchor = day_anchor(sc.start, sc.duration, now)
    assert anchor == datetime.fromisoformat("2026-11-23T00:00:00+07:00")
    assert day_anchor(sc.start, sc.duration, anchor) == anchor
    short = load_scenario("caubinh_congestion")
    assert day_anchor(short.start, short.duration, now) == now
    # Joined at 14:37, the city's first traffic readings are from 14:37 local.
    city = City(sc, 7, start=anchor, kinds=ONLY[SourceKind.TRAFFIC])
    first = next(city.events(anchor + sc.duration, begin=now))
    assert now <= first.event_time < now + timedelta(minutes=1)


# --- command line -----------------------------------------------------------------------------------


def test_cli_scenarios_and_errors() -> None:
    runner = CliRunner()
    out = runner.invoke(_cli(), ["scenarios"]).output
    for name in ("quiet_day", "caubinh_congestion", "dinhvu_pm25", "camera_outage", "lechan_flood", "opera_crowd",
                 "bridge_stopped_vehicle", "normal_day"):  # fmt: skip
        assert name in out
    bad = runner.invoke(_cli(), ["simulate", "--scenario", "khong_co", "--dry-run"])
    assert bad.exit_code != 0 and "khong_co" in bad.output
    bad = runner.invoke(_cli(), ["simulate", "--duration", "2 gio", "--dry-run"])
    assert bad.exit_code != 0 and "2 gio" in bad.output
    assert parse_duration("1h30m") == timedelta(minutes=90)


def test_cli_replay_dry_run(tmp_path: Path) -> None:
    runner = CliRunner()
    rec = tmp_path / "r.jsonl"
    result = runner.invoke(_cli(), ["simulate", "--scenario", "quiet_day", "--duration", "3m", "--speed", "0",
                                    "--dry-run", "--no-progress", "--record", str(rec)])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = rec.read_text().count("\n")
    result = runner.invoke(
        _cli(), ["replay", str(rec), "--speed", "0", "--dry-run", "--no-progress", "--start", "now"]
    )
    assert result.exit_code == 0, result.output
    assert f"replayed {lines:,} messages" in result.output


def test_replay_never_sends_a_future_time_and_mints_ids_per_run(tmp_path: Path) -> None:
    """Issue 10: `ioc replay rec.jsonl --speed 300 --start now` sent 22 995 of 23 709 messages into the future."""
    from simulators.replay import never_future

    rec = tmp_path / "r.jsonl"
    done = CliRunner().invoke(_cli(), ["simulate", "--scenario", "quiet_day", "--duration", "30m", "--speed", "0",
                                       "--dry-run", "--no-progress", "--record", str(rec)])  # fmt: skip
    assert done.exit_code == 0, done.output
    msgs = read_jsonl(rec)
    now = datetime.now(UTC)
    shift = never_future(msgs[0].time, msgs[-1].time, now, now)
    runs = []
    for run in ("r1", "r2"):
        sent = MemorySender()
        publish((retime(m, shift, run) for m in msgs), sent, speed=None, progress=False)
        runs.append(sent.sent)
    times = [datetime.fromisoformat(json.loads(v)["event_time"]) for _t, _topic, _k, v in runs[0]]
    future = sum(t > now for t in times)
    assert len(times) == len(msgs) and future == 0
    assert max(times) == msgs[-1].time + shift == now  # the newest recorded event is now
    ids = [{json.loads(v)["event_id"] for *_x, v in r} for r in runs]
    assert len(ids[0]) == len(msgs) and ids[0].isdisjoint(ids[1])
    print(f"\nreplay --start now: {len(times)} messages, {future} in the future; two runs share no event id")


def test_cli_wall_clock_time_lapse(tmp_path: Path) -> None:
    """An hour of city at 3600× takes ~1 s and is stamped on the wall clock, incident included."""
    rec = tmp_path / "w.jsonl"
    began = datetime.now(UTC)
    result = CliRunner().invoke(
        _cli(),
        ["simulate", "--scenario", "bridge_stopped_vehicle", "--duration", "1h", "--speed", "3600", "--wall-clock",
         "--dry-run", "--no-progress", "--record", str(rec)],
    )  # fmt: skip
    ended = datetime.now(UTC)
    assert result.exit_code == 0, result.output
    stamps = [
        datetime.fromisoformat(json.loads(line)["event"]["event_time"])
        for line in rec.read_text().splitlines()
    ]
    assert len(stamps) > 7000
    assert began - timedelta(seconds=1) <= min(stamps) and max(stamps) <= ended + timedelta(seconds=1)
    (inc,) = GroundTruth.read(tmp_path / "w.truth.json").incidents
    # 45 simulated minutes after the start = 0.75 s after the run began.
    assert (inc.start - began).total_seconds() == pytest.approx(0.75, abs=0.6)
