"""The city running live from now on, for ``ioc up``, at 1× on the wall clock by default.

The city's clock shows the real time of day; each event is stamped with the time it describes and
sent when the wall clock reaches it, so the consumers never see future timestamps and the rules
behave as in production. On the first start the last hours of the city are backfilled first
(:mod:`simulators.backfill`). ``speed`` > 1 is a demo-only time-lapse: the city then runs S times
faster (rush hour comes round every 24/S hours) and each event is stamped with the wall-clock
instant it is sent at. The scenario repeats, each day with the next seed. The ground truth is
written with the same stamps.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ioc.events import Event
from ioc.settings import Settings
from ioc.sources import SourceKind
from simulators.backfill import Marker, history, marker_path, read_marker, write_marker
from simulators.base import new_run_id, run_event_id
from simulators.city import City, event_order
from simulators.profiles import to_local, to_utc
from simulators.publish import KafkaSender, PublishStats, Sender, publish
from simulators.scenario import GroundTruth, Incident, IncidentSpec, Scenario, load_scenario
from simulators.wire import Message

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "normal_day"
DEFAULT_SEED = 7
# Published first in a backfill: the city's own feeds, which have no longer history before the window.
FIRST_KINDS = frozenset({SourceKind.CAMERA, SourceKind.TRAFFIC, SourceKind.AIR, SourceKind.FEEDBACK})


def compress(t: datetime, model_origin: datetime, wall_origin: datetime, speed: float) -> datetime:
    """City time → wall-clock stamp: ``wall_origin + (t − model_origin) / speed``."""
    return wall_origin + (t - model_origin) / speed


def day_anchor(scenario_start: datetime, duration: timedelta, now: datetime) -> datetime:
    """Where the scenario's first cycle starts so the city's clock shows the real time of day now.

    A scenario of whole days is anchored at the latest instant <= now with its start's local time
    of day (normal_day: today's midnight in Hải Phòng), and joined at ``now``. Shorter scenarios
    simply start now.
    """
    if duration % timedelta(days=1):
        return now
    local_start = to_local(scenario_start)
    anchor = to_local(now).replace(
        hour=local_start.hour, minute=local_start.minute, second=local_start.second, microsecond=0
    )
    return to_utc(anchor if anchor <= now else anchor - timedelta(days=1))


def stamp_on_wall_clock(
    events: Iterable[Event], model_origin: datetime, wall_origin: datetime, speed: float,
    *, seed: int = 0, run_id: str | None = None,
) -> Iterator[Message]:
    """Messages whose event_time is the wall-clock instant they are due (time-lapse); with ``run_id``
    each event id is minted for the run (:func:`simulators.base.run_event_id`)."""
    for e in events:
        stamp = compress(e.event_time, model_origin, wall_origin, speed)
        update: dict[str, object] = {"event_time": stamp}
        if run_id is not None:
            update["event_id"] = run_event_id(seed, run_id, e.event_id)
        yield Message(stamp, e.kind, e.key(), e.model_copy(update=update).to_json())


def truth_on_wall_clock(
    truth: GroundTruth, model_origin: datetime, wall_origin: datetime, speed: float
) -> GroundTruth:
    """The ground truth with incident times mapped like the events."""

    def move(i: Incident) -> Incident:
        times = {
            k: compress(getattr(i, k), model_origin, wall_origin, speed) for k in ("start", "peak", "end")
        }
        return i.model_copy(update=times)

    return truth.model_copy(update={"incidents": tuple(move(i) for i in truth.incidents)})


def with_schedule(scenario: Scenario, schedule: Scenario, offset: timedelta) -> Scenario:
    """``scenario`` with ``schedule``'s incidents added, ``offset`` after its start (demo incidents
    planted after the first start's backfill; cut at the end of the scenario's day)."""
    def moved(spec: IncidentSpec) -> IncidentSpec:
        return spec.model_copy(update={k: getattr(spec, k) + offset for k in ("start", "peak", "end")})

    return scenario.model_copy(update={"incidents": (*scenario.incidents, *(moved(i) for i in schedule.incidents))})


def run_live(
    settings: Settings,
    scenario: str = DEFAULT_SCENARIO,
    speed: float = 1.0,
    stop: threading.Event | None = None,
    *,
    seed: int = DEFAULT_SEED,
    send: Sender | None = None,
    truth_path: Path | None = None,
    progress: bool = False,
    run_id: str | None = None,
    backfill_hours: float = 0.0,
    dossier_days: float = 0.0,
    warning_history: bool = False,
    demo_schedule: str | None = None,
) -> PublishStats:
    """Publish the city continuously from now until ``stop`` is set; returns what was sent.

    ``send`` defaults to a Kafka producer on ``settings.kafka_bootstrap``; topics get
    ``settings.topic_prefix``. The ground truth of each simulated day is (re)written to
    ``truth_path`` (default ``<data_dir>/simulator/live_truth.json``). Event ids are minted for
    this run (``run_id``, random by default), so a restarted simulator never repeats an id.

    ``backfill_hours`` > 0: on the first start (no completed backfill marker in
    ``<data_dir>/simulator``) first publish that many hours of the city before now with their
    true times, after the early-warning history (``warning_history``) and ``dossier_days`` of dossiers
    (:mod:`simulators.backfill`), as fast as possible, then go on live from where it ended; the
    incidents of the scenario ``demo_schedule`` (offsets from the backfill's end) are then added to
    the live day, so each class is raised within the first half hour.
    ``speed`` > 1 is a time-lapse for demos: live events are then stamped with the wall-clock
    instant they are sent at, not the time they describe.
    """
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    stop = stop or threading.Event()
    sc = load_scenario(scenario)
    sender: Sender
    closer = None
    if send is None:
        if not settings.kafka_bootstrap:
            raise RuntimeError("no Kafka bootstrap configured: set IOC_KAFKA_BOOTSTRAP or start `ioc up`")
        kafka = KafkaSender(settings.kafka_bootstrap)
        sender, closer = kafka, kafka.close
    else:
        sender = send
    truth_path = truth_path or settings.data_dir / "simulator" / "live_truth.json"
    origin = datetime.now(UTC).replace(microsecond=0)
    mpath = marker_path(settings)
    marker = read_marker(mpath) if backfill_hours > 0 else None
    if backfill_hours > 0 and marker is None:
        marker = Marker(run_id=run_id or new_run_id(), end=origin, hours=backfill_hours, dossier_days=dossier_days,
                        warnings=warning_history)
        write_marker(mpath, marker)
    backfilling = marker is not None and not marker.done
    if marker is not None and backfilling:
        # Redone after an interruption: the same run id and end, so the same ids and no gap.
        origin, run_id = marker.end, marker.run_id
    run_id = run_id or new_run_id()
    log.info("live city run id %s (event ids unique to this run)", run_id)
    anchor = day_anchor(sc.start, sc.duration, origin)
    total = PublishStats()
    day = 0
    first_cities: list[City] = []
    day0 = sc
    if backfilling and demo_schedule:
        day0 = with_schedule(sc, load_scenario(demo_schedule), origin - anchor)

    def add(stats: PublishStats) -> None:
        total.sent.update(stats.sent)
        total.wall_seconds += stats.wall_seconds

    try:
        if marker is not None and backfilling:
            began = time.monotonic()
            window = origin - timedelta(hours=marker.hours)
            log.info("first start: backfilling %.1f h of the city from %s (run %s)", marker.hours, window, run_id)
            # The kinds with no longer history go first, so every layer shows the last hours early
            # (measured: ~1 min of the ~4 for 24 h); each kind's events stay in time order.
            first_cities = []
            for kinds in (FIRST_KINDS, None, frozenset(SourceKind) - FIRST_KINDS):
                if kinds is None:
                    add(publish((Message.of(e) for e in history(marker, seed)), sender,
                                prefix=settings.topic_prefix, stop=stop, progress=progress))
                    continue
                # The city's days that overlap the window, each with the seed of its day like live.
                for d in range(math.floor((window - anchor) / sc.duration), 1):
                    start = anchor + sc.duration * d
                    city = City(day0 if d == 0 else sc, seed + d, start=start, kinds=kinds)
                    events = city.events(min(start + sc.duration, origin), begin=max(start, window))
                    add(publish(stamp_on_wall_clock(events, origin, origin, 1.0, seed=seed + d, run_id=run_id),
                                sender, prefix=settings.topic_prefix, stop=stop, progress=progress))
                    if d == 0:
                        first_cities.append(city)  # live goes on with the same sources (dossiers' later steps)
            flush = getattr(sender, "flush", None)
            if flush is not None:
                flush()
            if stop.is_set():
                return total
            write_marker(mpath, replace(marker, done=True))
            log.info("backfill done: %d messages in %.1f s", sum(total.sent.values()), time.monotonic() - began)
        while not stop.is_set():
            start = anchor + sc.duration * day
            cities = first_cities if day == 0 and first_cities else [City(day0 if day == 0 else sc, seed + day,
                                                                          start=start)]
            city = cities[0]
            end = start + sc.duration
            truth = city.truth(end)
            # Day 0 joins the scenario at the current time of day: incidents already over are not planted.
            truth = truth.model_copy(
                update={"incidents": tuple(i for i in truth.incidents if i.end > origin)}
            )
            truth_path.parent.mkdir(parents=True, exist_ok=True)
            truth_path.write_text(
                truth_on_wall_clock(truth, origin, origin, speed).to_json(), encoding="utf-8"
            )
            log.info("live city: scenario %s, day %d, seed %d, speed %.0fx", sc.name, day, seed + day, speed)
            # Each message goes when the wall clock reaches its stamp (a catch-up after a backfill goes at once).
            add(publish(
                stamp_on_wall_clock(heapq.merge(*(c.events(end, begin=origin) for c in cities), key=event_order),
                                    origin, origin, speed, seed=seed + day, run_id=run_id),
                sender,
                prefix=settings.topic_prefix,
                stop=stop,
                progress=progress,
                wall_clock=True,
            ))
            day += 1
    finally:
        if closer is not None:
            closer()
    log.info("live city stopped after %d messages", sum(total.sent.values()))
    return total
