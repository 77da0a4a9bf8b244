"""The dossier simulator: calibrated to the city's documents, weekday pattern, scenario incidents."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from geodata.sites import load_sites
from ioc.kpi.index766 import compute
from ioc.kpi.intake import LOCAL, DossierState, apply_step
from ioc.sources import SourceKind
from ioc.sources.budget import treasury_open
from ioc.sources.dossier import DossierChannel, DossierStep
from simulators.base import IncidentIndex
from simulators.city import City
from simulators.dossiers import DossierSource, backfill, standing
from simulators.scenario import load_scenario

END = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)  # a Saturday night in Hải Phòng


def fold(events):  # type: ignore[no-untyped-def]
    states: dict[str, DossierState] = {}
    for e in sorted(events, key=lambda e: e.event_time):
        row = e.model_dump()
        row["step"] = e.step.value
        row["channel"] = None if e.channel is None else e.channel.value
        row["rating"] = None if e.rating is None else e.rating.value
        s = states.setdefault(e.dossier_id, DossierState(e.dossier_id, e.unit))
        apply_step(s, row)
    return [r for s in states.values() if (r := s.record()) is not None]


def test_units_that_led_in_june_2022_lead_and_laggards_lag() -> None:
    sites = load_sites(SourceKind.DOSSIER)
    assert len(sites) == 125 and sum(s.properties["level"] == "commune" for s in sites) == 114
    events = list(backfill(END, 10, seed=11))
    records = fold(events)
    as_of = END
    result = compute(records, as_of)
    by_unit = {u.unit: u.card for u in result.units}
    stand = {str(s.properties["unit"]): standing(s) for s in sites}
    assert {c for c, v in stand.items() if v == 1} >= {"SNV", "SKHCN", "SCT", "STC", "11413"}  # 11413: Phường Hải An
    assert {c for c, v in stand.items() if v == -1} >= {"SNNMT", "SXD", "11443"}  # 11443: Phường Kiến An
    online = {u: c.indicator("3.3").ratio for u, c in by_unit.items()}
    lead = [online[u] for u, v in stand.items() if v == 1 and u in online]
    lag = [online[u] for u, v in stand.items() if v == -1 and u in online]
    assert min(lead) > max(lag)
    city = result.city
    assert 0.72 <= city.indicator("3.3").ratio <= 0.84  # ~78 % (QĐ 1167/2026), 70.12 % in early 2024
    assert 0.94 <= city.indicator("2.1").ratio <= 0.99  # 96.85 % on time (June 2022)
    assert 0.55 <= city.indicator("3.6").ratio <= 0.72  # 63.49 % paid online (Jan–Apr 2024)


def test_counters_close_at_weekends_and_nights() -> None:
    events = list(backfill(END, 7, seed=2))
    by_day: dict[str, int] = defaultdict(int)
    for e in events:
        if e.step is DossierStep.RECEIVED and e.channel is not DossierChannel.ONLINE:
            local = e.event_time.astimezone(LOCAL)
            assert treasury_open(local.date()) and 7 <= local.hour < 17, local
            by_day[local.strftime("%a")] += 1
    per_day: dict[object, int] = defaultdict(int)
    for e in events:
        if e.step is DossierStep.RECEIVED:
            per_day[e.event_time.astimezone(LOCAL).date()] += 1
    weekend = [n for d, n in per_day.items() if not treasury_open(d)]  # weekends and holidays (24/11: Ngày Văn hóa)
    weekday = [n for d, n in per_day.items() if treasury_open(d)]
    assert len(weekend) == 3 and min(weekend) > 0  # online filing never stops
    assert min(weekday) > 3 * max(weekend)
    assert by_day["Mon"] > 0 and "Sun" not in by_day


def test_scenario_collapses_one_unit_and_stops_the_system() -> None:
    scenario = load_scenario("dossier_incidents")
    city = City(scenario, seed=4, kinds=frozenset({SourceKind.DOSSIER}))
    end = city.start + scenario.duration
    events = list(city.events(end + timedelta(days=8)))
    outage = next(i for i in city.incidents if i.id == "one-stop-outage")
    assert not [e for e in events if e.step is DossierStep.RECEIVED and outage.start <= e.event_time < outage.end]
    assert [e for e in events if e.step is DossierStep.RECEIVED and outage.end <= e.event_time < outage.end + timedelta(hours=3)]
    records = [r for r in fold(events) if r.received_at < end]
    cards = {u.unit: u.card for u in compute(records, end + timedelta(days=8)).units}
    assert cards["11443"].indicator("2.1").ratio < Decimal("0.7") < Decimal("0.9") < cards["11413"].indicator("2.1").ratio
    # The same seed without the incidents: Kiến An's dossiers are on time again.
    calm = DossierSource(load_sites(SourceKind.DOSSIER), 4, IncidentIndex(()))
    t, quiet = city.start, []
    while t < end:
        quiet += calm.events(t, t + timedelta(hours=1))
        t += timedelta(hours=1)
    assert all(e.event_time < end for e in quiet)
