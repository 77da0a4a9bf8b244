"""The demo city's first start (issue 17): the last hours backfilled with true times, once, then live at 1×."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ioc.services.proc import wait_until
from ioc.settings import Settings
from ioc.topics import TOPIC_SOURCES
from simulators.backfill import Marker, history, marker_path, read_marker, write_marker
from simulators.live import run_live
from simulators.publish import MemorySender


def _run(settings: Settings, hours: float, *, after_done: float = 2.0, dossier_days: float = 0.0
         ) -> tuple[datetime, list[dict]]:
    """run_live until its backfill is marked done (at once when there is none) plus ``after_done`` s."""
    sender, stop = MemorySender(), threading.Event()
    began = datetime.now(UTC)
    t = threading.Thread(target=run_live, args=(settings,), daemon=True, kwargs={
        "stop": stop, "send": sender, "backfill_hours": hours, "dossier_days": dossier_days,
        "truth_path": settings.data_dir / "truth.json"})
    t.start()
    wait_until(lambda: (m := read_marker(marker_path(settings))) is not None and m.done, 120, "backfill done")
    time.sleep(after_done)
    stop.set()
    t.join(30)
    assert not t.is_alive()
    return began, [{**json.loads(v), "kind": str(TOPIC_SOURCES[topic])} for _, topic, _, v in sender.sent]


def _times(events: list[dict]) -> list[datetime]:
    return [datetime.fromisoformat(e["event_time"]) for e in events]


def test_first_start_backfills_once_with_true_times_and_a_redo_repeats_the_same_ids(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    began, first = _run(settings, 1.0, dossier_days=0.05)
    marker = read_marker(marker_path(settings))
    assert marker is not None and marker.done and began - timedelta(seconds=2) <= marker.end <= began + timedelta(seconds=2)
    stamps = _times(first)
    window = marker.end - timedelta(hours=1)
    city = [s for s, e in zip(stamps, first, strict=True) if s >= window]
    assert min(city) < window + timedelta(minutes=1), "the city window starts an hour back"
    assert max(stamps) <= datetime.now(UTC) + timedelta(seconds=1), "no event from the future"
    assert {"camera", "traffic", "air"} <= {e["kind"] for e in first if datetime.fromisoformat(e["event_time"]) < began}
    # The dossier history lies before the window (the city window has its own dossiers).
    assert any(e["kind"] == "dossier" and datetime.fromisoformat(e["event_time"]) < window for e in first)
    assert len({e["event_id"] for e in first}) == len(first), "no id twice"
    # The city's own feeds first (their layers fill early), then the history, each kind in time order.
    first_history = next(i for i, e in enumerate(first) if e["kind"] == "dossier")
    assert {e["kind"] for e in first[:first_history]} <= {"camera", "traffic", "air", "feedback"}
    for kind in ("camera", "dossier"):
        mine = [s for s, e in zip(stamps, first, strict=True) if e["kind"] == kind]
        assert mine == sorted(mine), kind

    # A restarted simulator: no backfill, only live events stamped on the wall clock.
    again, second = _run(settings, 1.0, after_done=3.0)
    assert second and min(_times(second)) >= again - timedelta(seconds=2)
    assert max(_times(second)) <= datetime.now(UTC) + timedelta(seconds=1)

    # Interrupted before done: the redo sends the backfill again with exactly the same ids.
    write_marker(marker_path(settings), replace(marker, done=False))
    _, redo = _run(settings, 1.0, after_done=0.0, dossier_days=0.05)
    before = {e["event_id"] for e in first if datetime.fromisoformat(e["event_time"]) < marker.end}
    assert before == {e["event_id"] for e in redo if datetime.fromisoformat(e["event_time"]) < marker.end}


def test_warning_history_ends_where_the_city_window_begins() -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    m = Marker(run_id="abcd1234", end=end, hours=2.0, dossier_days=0.0)
    events = list(history(m, 7))
    kinds = {str(e.kind) for e in events}
    assert {"budget", "public_order", "water", "rain", "soc"} <= kinds
    assert max(e.event_time for e in events) < end - timedelta(hours=2)
    assert min(e.event_time for e in events if str(e.kind) == "public_order") <= end - timedelta(days=55)
    assert [e.event_id for e in events[:50]] == [e.event_id for e in list(history(m, 7))[:50]]


@pytest.mark.integration
def test_ioc_up_simulator_backfills_on_first_start_only_and_then_runs_live(stack) -> None:
    """The launcher's simulator child, real broker and consumers: a 2 h backfill stored with its true
    past times; the child restarted does not send it again; live events carry the wall-clock time."""
    from ioc.launcher import Stack

    st = Stack(stack.settings.model_copy(update={
        "demo_backfill_hours": 2.0, "demo_dossier_days": 0.0, "demo_warning_history": False}))
    st.start_services()
    st._prepared = True  # the fixture prepared this database
    dsn = st.settings.database_dsn()

    def span() -> tuple[int, datetime | None, datetime | None]:
        with psycopg.connect(dsn) as conn:
            return conn.execute("SELECT count(*), min(event_time), max(event_time) FROM event_ids"
                                " WHERE kind IN ('camera', 'traffic') AND event_time < %s", (began,)).fetchone()

    try:
        st.start_consumers()
        began = datetime.now(UTC)
        t0 = time.monotonic()
        st.start_simulator()
        mpath = marker_path(st.settings)
        wait_until(lambda: (m := read_marker(mpath)) is not None and m.done, 120, "backfill marked done")
        last = [-1]

        def settled() -> bool:
            n = span()[0]
            done, last[0] = n == last[0] and n > 0, n
            return done

        wait_until(settled, 180, "backfill stored", interval=3.0)
        stored_s = time.monotonic() - t0
        n, oldest, newest = span()
        assert oldest is not None and newest is not None
        assert oldest < began - timedelta(hours=2) + timedelta(minutes=2), oldest
        assert newest > began - timedelta(minutes=2), newest
        # Restart the simulator child: the backfill is not published again.
        st.stop_child("simulator")
        restarted = datetime.now(UTC)
        st.start_simulator()

        def live() -> list[datetime]:
            with psycopg.connect(dsn) as conn:
                return [r[0] for r in conn.execute(
                    "SELECT event_time FROM event_ids WHERE kind IN ('camera', 'traffic') AND event_time >= %s",
                    (restarted,))]

        wait_until(lambda: len(live()) >= 5, 60, "live events after the restart", interval=1.0)
        time.sleep(3.0)
        assert span()[0] == n, "the restarted simulator sent the backfill again"
        stamps = live()
        assert max(stamps) <= datetime.now(UTC) + timedelta(seconds=2), "no future stamp"
        assert max(stamps) >= datetime.now(UTC) - timedelta(seconds=30), "live at 1×: stamps follow the wall clock"
    finally:
        st.stop()
    print(f"\n2 h backfill (camera+traffic {n:,} events, {oldest:%H:%M}–{newest:%H:%M} UTC) stored in {stored_s:.0f} s")


def test_first_start_plants_each_incident_class_within_half_an_hour_with_ground_truth(tmp_path: Path) -> None:
    from simulators.scenario import GroundTruth, IncidentClass, load_scenario

    settings = Settings(data_dir=tmp_path)
    sender, stop = MemorySender(), threading.Event()
    t = threading.Thread(target=run_live, args=(settings,), daemon=True, kwargs={
        "stop": stop, "send": sender, "backfill_hours": 0.1, "demo_schedule": "demo_schedule",
        "truth_path": tmp_path / "truth.json"})
    t.start()
    wait_until(lambda: (m := read_marker(marker_path(settings))) is not None and m.done, 120, "backfill done")
    wait_until((tmp_path / "truth.json").exists, 30, "ground truth written")
    stop.set()
    t.join(30)
    end = read_marker(marker_path(settings)).end
    truth = GroundTruth.read(tmp_path / "truth.json")
    demo = {i.id: i for i in truth.incidents if i.id.startswith("demo-")}
    assert set(demo) == {i.id for i in load_scenario("demo_schedule").incidents}
    assert all(end < i.start <= end + timedelta(minutes=30) for i in demo.values())
    # Every class but the yearly budget ones (their history comes from the backfill).
    yearly = {IncidentClass.REVENUE_SHORTFALL, IncidentClass.REVENUE_DROP}
    assert {i.cls for i in demo.values()} == set(IncidentClass) - yearly
