"""The early-warning feeds as the city simulator runs them (``simulators/city.py``, ``live.py``).

:func:`warning_sources` builds the four simulated sources for a scenario's incidents (water and rain
come from one flood source); :func:`backfill` is the history a fresh system needs before its rules
and panels can say what is usual (the previous three fiscal years, eight weeks of police counts, two
weeks of gauges, four weeks of SOC summaries), to publish once at first start.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from geodata.sites import Site, load_sites
from ioc.events import Event
from ioc.sources import SourceKind
from simulators.base import IncidentIndex, Source
from simulators.budget import BudgetSource
from simulators.floods import FloodSource
from simulators.public_order import PublicOrderSource
from simulators.soc import SocSource

WARNING_KINDS = ("budget", "public_order", "water", "rain", "soc")
HISTORY = {"public_order": timedelta(days=56), "flood": timedelta(days=14), "soc": timedelta(days=28)}


def warning_sources(by_kind: Mapping[SourceKind, Sequence[Site]], seed: int, index: IncidentIndex) -> list[Source]:
    """Budget, public-order, flood (water and rain) and SOC sources over the registered sites."""
    def sites(kind: str) -> list[Site]:
        return list(by_kind.get(SourceKind(kind), ()))

    return [
        BudgetSource(sites("budget"), seed, index),
        PublicOrderSource(sites("public_order"), seed, index),
        FloodSource(sites("water"), sites("rain"), seed, index),
        SocSource(sites("soc"), seed, index),
    ]


def backfill(now: datetime, seed: int = 7) -> Iterator[Event]:
    """The history before ``now`` (no incident), oldest first per source, in one-day windows."""
    now = now.astimezone(UTC)
    budget = BudgetSource(load_sites(SourceKind("budget")), seed)
    for year in range(now.year - 3, now.year + 1):
        yield from (e for e in budget.year_events(year) if e.event_time < now)
    feeds = ((PublicOrderSource(load_sites(SourceKind("public_order")), seed), HISTORY["public_order"]),
             (FloodSource(load_sites(SourceKind("water")), load_sites(SourceKind("rain")), seed), HISTORY["flood"]),
             (SocSource(load_sites(SourceKind("soc")), seed), HISTORY["soc"]))  # fmt: skip
    for source, back in feeds:
        t = now - back
        while t < now:
            b = min(t + timedelta(days=1), now)
            yield from source.events(t, b)
            t = b


__all__ = ["WARNING_KINDS", "backfill", "warning_sources"]
