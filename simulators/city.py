"""The simulated city: all sources of a scenario, merged into one time-ordered event stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from geodata.sites import load_sites
from ioc.events import Event
from ioc.sources import SourceKind
from simulators.air import AirSource
from simulators.base import IncidentIndex, Source
from simulators.cameras import CameraSource
from simulators.dossiers import DossierSource
from simulators.reports import ReportSource
from simulators.scenario import GroundTruth, Incident, Scenario
from simulators.traffic import TrafficSource
from simulators.warning_feeds import WARNING_KINDS, warning_sources

STEP = timedelta(minutes=1)
_KIND_ORDER = {kind: i for i, kind in enumerate(SourceKind)}


def event_order(e: Event) -> tuple[datetime, int, str]:
    """The city's order of events: time, then kind, then source."""
    return (e.event_time, _KIND_ORDER[e.kind], e.source_id)


class _Only:
    """A source's events of some kinds only (a flood source emits water and rain readings)."""

    def __init__(self, source: Source, kinds: frozenset[str]) -> None:
        self.source, self.kinds = source, kinds

    def events(self, a: datetime, b: datetime) -> list[Event]:
        return [e for e in self.source.events(a, b) if str(e.kind) in self.kinds]


class City:
    """A seeded Hải Phòng running a scenario from ``start`` (default: the scenario's own start).

    ``kinds`` restricts the run to some sources (e.g. only air stations), with identical events.

    >>> from simulators.scenario import load_scenario
    >>> city = City(load_scenario("quiet_day"), seed=7)
    >>> first = next(city.events(city.start + timedelta(minutes=1)))
    >>> first.event_time >= city.start
    True
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        start: datetime | None = None,
        sites_dir: Path | None = None,
        kinds: frozenset[SourceKind] | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.start = (start or scenario.start).astimezone(UTC)
        sites = load_sites(None, sites_dir)
        self.incidents: tuple[Incident, ...] = scenario.resolve(self.start, sites)
        index = IncidentIndex(self.incidents)
        by_kind = {kind: [s for s in sites if s.kind is kind] for kind in SourceKind}
        builders: dict[SourceKind, Callable[[], Source]] = {
            SourceKind.CAMERA: lambda: CameraSource(
                by_kind[SourceKind.CAMERA], seed, index, scenario.camera_blips_per_day
            ),
            SourceKind.TRAFFIC: lambda: TrafficSource(by_kind[SourceKind.TRAFFIC], seed, index),
            SourceKind.AIR: lambda: AirSource(by_kind[SourceKind.AIR], seed, index),
            SourceKind.FEEDBACK: lambda: ReportSource(by_kind[SourceKind.FEEDBACK], seed, index),
            SourceKind.DOSSIER: lambda: DossierSource(by_kind[SourceKind.DOSSIER], seed, index),
        }
        # Each source has its own seeded stream: a subset of kinds yields exactly the same events for them.
        self.sources: list[Source] = [
            build() for kind, build in builders.items() if kinds is None or kind in kinds
        ]
        # The early-warning feeds (budget, public order, water and rain, SOC) run beside them.
        wanted = set(WARNING_KINDS) if kinds is None else {str(k) for k in kinds} & set(WARNING_KINDS)
        if wanted:
            feeds = warning_sources(by_kind, seed, index)
            self.sources += feeds if kinds is None else [_Only(f, frozenset(wanted)) for f in feeds]

    def truth(self, end: datetime | None) -> GroundTruth:
        """The incidents planted in ``[start, end)`` (all of them for an open-ended run)."""
        planted = tuple(i for i in self.incidents if end is None or i.start < end)
        return GroundTruth(
            scenario=self.scenario.name, seed=self.seed, start=self.start, end=end, incidents=planted
        )

    def events(self, end: datetime | None = None, begin: datetime | None = None) -> Iterator[Event]:
        """Events in time order from ``start`` (or a later ``begin``) to ``end`` (forever when None).

        Incidents stay anchored to ``start``; ``begin`` skips the hours before it (a fast-forward).
        Call once per City: the sources keep state from one window to the next.
        """
        a = max(self.start, begin.astimezone(UTC)) if begin else self.start
        while end is None or a < end:
            b = a + STEP if end is None else min(a + STEP, end)
            batch: list[Event] = [e for source in self.sources for e in source.events(a, b)]
            batch.sort(key=event_order)
            yield from batch
            a = b
