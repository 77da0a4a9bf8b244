"""Public order: an aggregate-only schema (a personal field is dead-lettered), the small-number count
test, the spatial cluster over neighbouring units, corroboration by cameras and citizen reports."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from alerts.model import Severity, UpdateKind
from alerts.public_order_rules import (
    PublicOrderClusterConfig,
    PublicOrderClusterRule,
    PublicOrderCountConfig,
    PublicOrderCountRule,
    RateModel,
)
from alerts.unit_map import UnitMap
from alerts.warnings import nb_tail, poisson_tail
from ioc.sources import SourceKind
from ioc.sources.camera import CameraEvent, Detection, DetectionType
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.public_order import PublicOrderEvent
from streams.decode import Reason, Rejected, decode

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
KNOWN = {SourceKind.PUBLIC_ORDER: frozenset({"ca-11455"})}

# A line of five units A–E (each touches the next), and an island F.
UNITS = UnitMap(
    "test",
    MappingProxyType({"A": frozenset("B"), "B": frozenset("AC"), "C": frozenset("BD"), "D": frozenset("CE"),
                      "E": frozenset("D"), "F": frozenset()}),  # fmt: skip
    MappingProxyType({u: (106.60 + 0.02 * i, 20.85) for i, u in enumerate("ABCDEF")}),
    MappingProxyType({u: f"Phường {u}" for u in "ABCDEF"}),
)
POLICE = {f"ca-{u}": u for u in "ABCDEF"}


def wire(**changes: object) -> bytes:
    start = datetime(2026, 1, 5, 1, tzinfo=UTC)
    msg = {"event_id": str(uuid.uuid4()), "source_id": "ca-11455", "event_time": (start + timedelta(hours=1)).isoformat(),
           "period_start": start.isoformat(), "traffic_accidents": 1, "traffic_injuries": 2} | changes  # fmt: skip
    return json.dumps(msg).encode()


def test_the_schema_holds_counts_only() -> None:
    fields = set(PublicOrderEvent.model_fields) - {"event_id", "source_id", "event_time", "schema_version"}
    assert fields == {"period_start", "period_minutes", "traffic_accidents", "traffic_deaths", "traffic_injuries",
                      "criminal_cases", "disorder_incidents", "fires", "rescues"}
    # No field can hold text: every one of them is a number or a time.
    assert all(PublicOrderEvent.model_fields[f].annotation in (int, datetime) or f == "period_start" for f in fields)
    e = decode(SourceKind.PUBLIC_ORDER, wire(), known_sources=KNOWN, now=datetime(2026, 1, 5, 3, tzinfo=UTC))
    assert isinstance(e, PublicOrderEvent) and e.traffic_injuries == 2 and e.criminal_cases == 0


@pytest.mark.parametrize("personal", [
    {"victim_name": "Nguyễn Văn A"}, {"suspect_id_number": "031099001234"}, {"plate": "15A-123.45"},
    {"address": "Số 12 Lạch Tray"}, {"note": "đối tượng Trần B, 35 tuổi"},
])  # fmt: skip
def test_a_personal_field_is_dead_lettered_as_unknown(personal: dict[str, str]) -> None:
    out = decode(SourceKind.PUBLIC_ORDER, wire(**personal), known_sources=KNOWN, now=datetime(2026, 1, 5, 3, tzinfo=UTC))
    assert isinstance(out, Rejected) and out.code is Reason.UNKNOWN_FIELD
    assert out.field == next(iter(personal))
    assert next(iter(personal.values())) not in out.reason  # the value itself is not repeated in the reason


def test_counts_are_bounded_and_a_period_is_reported_after_it_ends() -> None:
    now = datetime(2026, 1, 5, 3, tzinfo=UTC)
    neg = decode(SourceKind.PUBLIC_ORDER, wire(fires=-1), known_sources=KNOWN, now=now)
    assert isinstance(neg, Rejected) and neg.code is Reason.OUT_OF_RANGE and neg.field == "fires"
    early = decode(SourceKind.PUBLIC_ORDER, wire(event_time="2026-01-05T01:30:00+00:00"), known_sources=KNOWN, now=now)
    assert isinstance(early, Rejected) and "before it ends" in early.reason


def test_small_number_tails() -> None:
    # One incident where 0.01 are usual is unusual but common across a city; five is not.
    assert poisson_tail(1, 0.01) == pytest.approx(0.00995, rel=1e-3)
    assert poisson_tail(5, 0.01) < 1e-11
    # An uncertain rate (few incidents learnt) gives fatter tails than the Poisson of the same mean.
    assert nb_tail(4, 0.05, shape=0.5) > poisson_tail(4, 0.05) * 10
    assert nb_tail(4, 0.05, shape=1e9) == pytest.approx(poisson_tail(4, 0.05), rel=1e-3)
    assert nb_tail(0, 0.3, 2.0) == 1.0


def hourly(hours: int, counts=lambda unit, h: {}, start: datetime = START) -> list[PublicOrderEvent]:  # type: ignore[no-untyped-def]
    out = []
    for h in range(hours):
        t = start + timedelta(hours=h)
        for sid, unit in POLICE.items():
            out.append(PublicOrderEvent(event_id=uuid.uuid4(), source_id=sid, event_time=t + timedelta(hours=1, minutes=5),
                                        period_start=t, **counts(unit, h)))  # fmt: skip
    return out


def quiet(unit: str, h: int) -> dict[str, int]:
    """About one disorder incident per unit every 200 hours, spread evenly."""
    return {"disorder_incidents": 1} if (h * 7 + ord(unit)) % 200 == 0 else {}


def run(rule, events):  # type: ignore[no-untyped-def]
    return [u for e in events for u in rule.evaluate(e)]


def count_rule(**cfg: object) -> PublicOrderCountRule:
    return PublicOrderCountRule(PublicOrderCountConfig(type="public_order_count", id="public-order-count",
                                                       min_history_hours=168, **cfg), UNITS, police_units=POLICE)  # fmt: skip


def test_a_burst_in_one_unit_raises_one_alert_and_clears() -> None:
    rule = count_rule()
    history = hourly(24 * 21, quiet)
    assert run(rule, history) == []  # three ordinary weeks
    burst_start = START + timedelta(hours=24 * 21)

    def burst(unit: str, h: int) -> dict[str, int]:
        return {"disorder_incidents": 2} if unit == "C" and h in (0, 1) else {}

    ups = run(rule, hourly(8, burst, burst_start))
    assert [(u.kind, u.key) for u in ups] == [
        (UpdateKind.RAISE, "public-order-count:C:disorder_incidents"),
        (UpdateKind.CLEAR, "public-order-count:C:disorder_incidents"),
    ]
    r = ups[0]
    assert r.admin_unit == "C" and r.value == 4 and "4 vụ gây rối trật tự công cộng trong 2 giờ tại Phường C" in r.detail_vi
    assert "thông thường 0,0" in r.detail_vi and "p = " in r.detail_vi


def test_one_accident_in_a_quiet_commune_is_not_a_warning() -> None:
    rule = count_rule()
    run(rule, hourly(24 * 14, quiet))
    ups = run(rule, hourly(3, lambda u, h: {"traffic_accidents": 1} if u == "F" and h == 0 else {},
                           START + timedelta(days=14)))  # fmt: skip
    assert ups == []


def test_rates_follow_the_hour_of_the_week() -> None:
    model = RateModel(prior_hours=2000, profile_smoothing=5)
    for h in range(24 * 7 * 8):
        t = START + timedelta(hours=h)
        night = (t.hour + 7) % 24 >= 21  # local 21:00–24:00
        model.learn("A", t, 1.0, {"disorder_incidents": 1 if night else 0})
    night = model.expected(["A"], "disorder_incidents", [START + timedelta(hours=15)])[0]  # 22:00 local
    morning = model.expected(["A"], "disorder_incidents", [START + timedelta(hours=2)])[0]  # 09:00 local
    # Eight incidents per slot against five pseudo-incidents of smoothing: the night is well above the
    # morning, though shrunk (a few weeks of counts do not make a morning impossible).
    assert night > 2.5 * morning > 0


def cluster_rule() -> PublicOrderClusterRule:
    return PublicOrderClusterRule(PublicOrderClusterConfig(type="public_order_cluster", id="public-order-cluster",
                                                           min_history_hours=168), UNITS, police_units=POLICE)  # fmt: skip


def test_a_cluster_across_neighbours_is_one_alert_where_no_unit_alone_is_unusual() -> None:
    rule = cluster_rule()
    count = count_rule()
    history = hourly(24 * 21, quiet)
    run(rule, history)
    run(count, history)
    start = START + timedelta(days=21)

    def spread(unit: str, h: int) -> dict[str, int]:  # two incidents per unit over B, C, D: two per unit
        return {"disorder_incidents": 1} if unit in "BCD" and h in (0, 1) else {}

    events = hourly(6, spread, start)
    ups = run(rule, events)
    assert run(count, events) == []  # two in a unit is below the count test's floor of three
    raised = [u for u in ups if u.kind is UpdateKind.RAISE]
    assert len(raised) == 1, [u.key for u in ups]
    assert raised[0].admin_unit in "BCD" and "xã, phường liền kề" in raised[0].detail_vi
    assert [u.kind for u in ups if u.key == raised[0].key][-1] is UpdateKind.CLEAR
    # The same six incidents in units that do not touch (A, C, E ... and the island F) are not a cluster.
    rule2 = cluster_rule()
    run(rule2, history)
    apart = hourly(6, lambda u, h: {"disorder_incidents": 1} if u in "AF" and h in (0, 1) else {}, start)
    assert [u for u in run(rule2, apart) if u.kind is UpdateKind.RAISE] == []


def test_cameras_and_reports_in_the_same_place_and_hour_raise_the_severity() -> None:
    at_c = UNITS.points["C"]
    rule = PublicOrderCountRule(
        PublicOrderCountConfig(type="public_order_count", id="public-order-count", min_history_hours=168), UNITS,
        police_units=POLICE, camera_places={"cam-c": at_c},
        unit_at=lambda lon, lat: min(UNITS.points, key=lambda u: abs(UNITS.points[u][0] - lon)),
    )  # fmt: skip
    plain = count_rule()
    history = hourly(24 * 21, quiet)
    run(rule, history)
    run(plain, history)
    start = START + timedelta(days=21)
    crowd = CameraEvent(event_id=uuid.uuid4(), source_id="cam-c", event_time=start + timedelta(minutes=20), online=True,
                        detections=(Detection(type=DetectionType.CROWD, confidence=0.9),))  # fmt: skip
    report = FeedbackEvent(event_id=uuid.uuid4(), source_id="hps-app", event_time=start + timedelta(minutes=30),
                           ticket_id="HP-1", text="Nhóm thanh niên đánh nhau, gây rối ở ngã tư", lon=at_c[0], lat=at_c[1],
                           reporter_name="Lê C", reporter_phone="0912 000 111")  # fmt: skip
    burst = hourly(2, lambda u, h: {"disorder_incidents": 2} if u == "C" else {}, start)
    ups = run(rule, [crowd, report, *burst])
    base = run(plain, burst)
    assert base[0].severity is Severity.SEVERE or base[0].severity is Severity.MODERATE
    assert ups[0].severity.rank == base[0].severity.rank + 1
    assert "xác nhận bởi 1 camera" in ups[0].detail_vi and "1 phản ánh" in ups[0].detail_vi
    assert "Lê C" not in ups[0].detail_vi and "0912" not in ups[0].detail_vi


def test_adjacency_comes_from_the_real_unit_polygons() -> None:
    from datetime import date

    from alerts.unit_map import unit_map_for

    m = unit_map_for(date(2026, 1, 1))
    assert len(m.neighbours) >= 100
    # Symmetric, and An Hải (11617) touches its neighbours both ways.
    assert all(a in m.neighbours[b] for a, ns in m.neighbours.items() for b in ns)
    assert m.neighbours["11617"] and "11617" in m.around("11617")
