"""The early-warning simulators as the city runs them: every new kind, the same bytes for the same
seed, planted incidents only where the scenario says, and the first-start history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from geodata.sites import load_sites
from ioc.sources import SourceKind
from simulators.base import IncidentIndex
from simulators.scenario import load_scenario
from simulators.warning_feeds import WARNING_KINDS, backfill, warning_sources

A = datetime(2026, 9, 12, 22, tzinfo=UTC)


def run(seed: int, index: IncidentIndex, hours: int = 6, start: datetime = A) -> list[bytes]:
    by_kind = {k: load_sites(k) for k in SourceKind}
    out = []
    for source in warning_sources(by_kind, seed, index):
        for h in range(hours):
            out += [e.to_json() for e in source.events(start + timedelta(hours=h), start + timedelta(hours=h + 1))]
    return out


def test_every_kind_and_the_same_bytes_for_the_same_seed() -> None:
    tuesday = datetime(2026, 9, 15, 6, tzinfo=UTC)  # the treasury reports at 09:30 UTC on working days
    first, again, other = (run(s, IncidentIndex(()), start=tuesday) for s in (3, 3, 4))
    assert first == again and first != other
    import json

    from geodata.sites import sites_by_id

    sites = sites_by_id()
    kinds = {sites[json.loads(b)["source_id"]].kind.value for b in first}
    assert kinds == set(WARNING_KINDS)


def test_a_planted_storm_changes_only_the_sources_it_names() -> None:
    sc = load_scenario("flood_tide_rain")
    incidents = sc.resolve(sc.start, load_sites(None))
    planted = run(3, IncidentIndex(incidents), hours=12)
    clean = run(3, IncidentIndex(()), hours=12)
    changed = {p[p.index(b'"source_id":"') + 13:].split(b'"')[0].decode() for p, c in zip(planted, clean, strict=True)
               if p != c}  # fmt: skip
    assert changed and changed <= set(incidents[0].sources)


def test_backfill_gives_three_previous_fiscal_years_and_weeks_of_counts() -> None:
    now = datetime(2026, 3, 2, 3, tzinfo=UTC)
    events = list(backfill(now, seed=2))
    budget_years = {e.fiscal_year for e in events if e.kind is SourceKind("budget")}
    assert budget_years == {2023, 2024, 2025, 2026}
    assert all(e.event_time < now for e in events)
    po = [e for e in events if e.kind is SourceKind("public_order")]
    assert len({e.period_start for e in po}) >= 24 * 55 and {e.kind.value for e in events} == set(WARNING_KINDS)
