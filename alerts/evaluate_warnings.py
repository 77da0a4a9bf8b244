"""Run an early-warning scenario (budget, public order, floods, SOC) and score it like the city's.

The scenario's own simulator first plays ``history`` of the normal feed before the scenario's start
(the years, weeks or days the rules learn the usual from), then the scenario itself with its planted
incidents. The early-warning rules of ``alerts/rules.yaml`` (all of them, the budget rules included,
whatever the live engine runs yet) see every event in time order. Raises during the history do not
count; alerts still open at the start count as raised at the start.

Matching an alert to a planted incident, per class:

- budget: the alert's series (a revenue line, or total/domestic revenue) contains a line the incident
  names, raised between the incident's start and its end plus 30 days;
- public order: the alert's unit (a cluster's centre) is one of the incident's units or a neighbour,
  within an hour before the start to three hours after the end;
- floods: the alert's gauge is one the incident names, or a city-wide alert lies within 25 km of it;
  until 12 hours after the end;
- SOC: the alert's SOC is the incident's; until 6 hours after the end.

Sensors, for false alarms per 100 sensors per day: the watched budget series, the police units, the
water-level and rain gauges, the SOC's origins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alerts.model import UpdateKind
from alerts.rules import RuleConfig, load_rule_config, warning_rules
from alerts.warnings import WarningUpdate
from geodata.sites import load_sites
from ioc.events import Event
from ioc.sources import SourceKind
from simulators.base import IncidentIndex
from simulators.scenario import Incident, Scenario, distance_m

GRACE = {"budget": timedelta(days=30), "public_order": timedelta(hours=3), "flood": timedelta(hours=12),
         "soc": timedelta(hours=6)}  # fmt: skip
EARLY = {"budget": timedelta(0), "public_order": timedelta(hours=1), "flood": timedelta(hours=1),
         "soc": timedelta(minutes=30)}  # fmt: skip
FLOOD_REACH_M = 25_000.0
STEP = {"budget": timedelta(days=30), "public_order": timedelta(days=1), "flood": timedelta(hours=6),
        "soc": timedelta(days=1)}  # fmt: skip
DEFAULT_HISTORY = {"budget": timedelta(days=1096), "public_order": timedelta(days=56),
                   "flood": timedelta(days=14), "soc": timedelta(days=28)}  # fmt: skip


@dataclass
class WarningAlarm:
    """One raised warning (a raise), as the evaluation keeps it."""

    key: str
    rule_id: str
    rule_version: str
    warning_class: str
    alert_class: str
    raised_at: datetime
    source_id: str | None
    admin_unit: str | None
    lon: float | None
    lat: float | None
    title_en: str
    detail_en: str
    detail_vi: str
    cleared_at: datetime | None = None
    incident: str | None = None

    @property
    def series(self) -> str:
        """Budget alerts: the watched series (key ``rule:series:year``)."""
        parts = self.key.split(":")
        return parts[1] if len(parts) >= 3 else ""


def _sources(sc: Scenario, seed: int, incidents: tuple[Incident, ...]) -> Any:
    index = IncidentIndex(incidents)
    if sc.warning == "budget":
        from simulators.budget import BudgetSource

        return BudgetSource(load_sites(SourceKind("budget")), seed, index)
    if sc.warning == "public_order":
        from simulators.public_order import PublicOrderSource

        return PublicOrderSource(load_sites(SourceKind("public_order")), seed, index)
    if sc.warning == "flood":
        from simulators.floods import FloodSource

        return FloodSource(load_sites(SourceKind("water")), load_sites(SourceKind("rain")), seed, index)
    if sc.warning == "soc":
        from simulators.soc import SocSource

        return SocSource(load_sites(SourceKind("soc")), seed, index)
    raise ValueError(f"scenario {sc.name!r} is not an early-warning scenario")


def sensors(kind: str, config: RuleConfig | None = None) -> int:
    """What can raise warnings of ``kind``: watched budget series, police units, gauges, SOC origins."""
    if kind == "budget":
        config = config or load_rule_config()
        watched = {s for r in config.rules if r.type.startswith("budget_") for s in getattr(r, "series", ())}
        return len(watched) or len(load_sites(SourceKind("budget"))) + 2
    if kind == "public_order":
        return len(load_sites(SourceKind("public_order")))
    if kind == "flood":
        return len(load_sites(SourceKind("water"))) + len(load_sites(SourceKind("rain")))
    from ioc.sources.soc import ORIGINS

    return len(load_sites(SourceKind("soc"))) * len(ORIGINS)


def _members() -> dict[str, tuple[str, ...]]:
    from alerts.budget_rules import BudgetBook, registry_lines

    return BudgetBook(registry_lines()).members


def _matches(a: WarningAlarm, inc: Incident, kind: str, neighbours: Any) -> bool:
    if not (inc.start - EARLY[kind] <= a.raised_at <= inc.end + GRACE[kind]):
        return False
    if kind == "budget":
        return bool(set(neighbours.get(a.series, ())) & set(inc.sources))
    if kind == "public_order":
        units = {s.removeprefix("ca-") for s in inc.sources}
        near = set(units)
        for u in units:
            near |= neighbours.around(u)
        return a.admin_unit in near
    if kind == "flood":
        if a.source_id is not None and a.source_id in inc.sources:
            return True
        return a.lon is not None and a.lat is not None and (
            distance_m(a.lon, a.lat, inc.place.lon, inc.place.lat) <= FLOOD_REACH_M)
    return a.source_id is not None and a.source_id in inc.sources


def run_warning_scenario(
    sc: Scenario, seed: int, *, duration: timedelta | None = None, history: timedelta | None = None,
    config: RuleConfig | None = None,
) -> tuple[list[WarningAlarm], list[Incident], int, datetime, datetime, dict[str, int]]:
    """(alarms, planted incidents, events, start, end, alarms per rule) of one run."""
    assert sc.warning is not None
    kind = sc.warning
    config = config or load_rule_config()
    start = sc.start.astimezone(UTC)
    end = start + (duration or sc.duration)
    back = history if history is not None else (sc.history or DEFAULT_HISTORY[kind])
    incidents = tuple(i for i in sc.resolve(start, load_sites(None)) if i.start < end)
    from alerts.unit_map import unit_map_for
    from geodata.admin import AdminAssigner
    from geodata.boundaries import boundary_set_for

    on = start.date()
    assigner = AdminAssigner(boundary_set_for(on))
    rules = [r for r in warning_rules(config, assigner.assign, on=on) if r.warning_class == kind]
    source = _sources(sc, seed, incidents)
    alarms: list[WarningAlarm] = []
    open_: dict[str, WarningAlarm] = {}
    t = start - back
    n = 0

    def collect(u: WarningUpdate, now: datetime) -> None:
        current = open_.get(u.key)
        if u.kind is UpdateKind.CLEAR:
            if current is not None:
                current.cleared_at = u.at
                del open_[u.key]
            return
        if current is None:
            a = WarningAlarm(u.key, u.rule_id, u.rule_version, u.warning_class, u.alert_class, max(u.at, start),
                             u.source_id, u.admin_unit, u.lon, u.lat, u.title_en, u.detail_en, u.detail_vi)  # fmt: skip
            open_[u.key] = a
            alarms.append(a)

    while t < end:
        b = min(t + STEP[kind], end)
        for e in source.events(t, b):
            n += 1
            for r in rules:
                for u in r.evaluate(e):
                    collect(u, e.event_time)
        t = b
    # Raises during the history do not count, unless still open when the scenario starts.
    alarms = [a for a in alarms if not (a.cleared_at is not None and a.cleared_at <= start)]
    neighbours = unit_map_for(on) if kind == "public_order" else (_members() if kind == "budget" else None)
    for a in alarms:
        for inc in incidents:
            if _matches(a, inc, kind, neighbours):
                a.incident = inc.id
                break
    per_rule: dict[str, int] = {}
    for a in alarms:
        per_rule[a.rule_id] = per_rule.get(a.rule_id, 0) + 1
    return alarms, list(incidents), n, start, end, per_rule


def local_day(t: datetime) -> date:
    from zoneinfo import ZoneInfo

    return t.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def events_of(sc: Scenario, seed: int, a: datetime, b: datetime) -> list[Event]:
    """The scenario's events in ``[a, b)`` (for recordings and the e2e tests)."""
    incidents = sc.resolve(sc.start.astimezone(UTC), load_sites(None))
    return _sources(sc, seed, incidents).events(a, b)


__all__ = ["WarningAlarm", "events_of", "run_warning_scenario", "sensors"]
