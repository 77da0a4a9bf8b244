"""Duplicate suggestions: same category, within 50 m and 72 h of the group's first report."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ioc.sources.feedback import FeedbackEvent
from ioc.tickets.duplicates import ReportPoint, candidates_for, find_duplicates, haversine_m

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
LAT, LON = 20.8449, 106.6881  # near Nhà hát lớn Hải Phòng
M_PER_DEG_LAT = 111_195.0


def at(report_id: str, north_m: float = 0.0, hours: float = 0.0, category: str = "road_infra") -> ReportPoint:
    return ReportPoint(report_id, category, LAT + north_m / M_PER_DEG_LAT, LON, T0 + timedelta(hours=hours))


def test_close_reports_of_one_category_are_grouped() -> None:
    groups = find_duplicates([at("a"), at("b", north_m=30, hours=10), at("far", north_m=500)])
    assert len(groups) == 1
    g = groups[0]
    assert (g.primary, g.members) == ("a", ("a", "b"))
    assert g.max_distance_m == pytest.approx(30, abs=0.5)
    assert g.span == timedelta(hours=10)


@pytest.mark.parametrize(
    "other",
    [
        at("b", north_m=60, hours=1),  # too far
        at("b", north_m=10, hours=73),  # too late
        at("b", north_m=10, hours=1, category="environment"),  # another category
    ],
)
def test_not_duplicates(other: ReportPoint) -> None:
    assert find_duplicates([at("a"), other]) == []


def test_groups_are_anchored_not_chained() -> None:
    # b is 40 m from a; c is 40 m from b but 80 m from a: c starts nothing with a.
    reports = [at("a"), at("b", north_m=40, hours=1), at("c", north_m=80, hours=2)]
    assert [g.members for g in find_duplicates(reports)] == [("a", "b")]


def test_primary_is_the_earliest_whatever_the_input_order() -> None:
    reports = [at("late", north_m=5, hours=20), at("first"), at("mid", north_m=-5, hours=3)]
    (group,) = find_duplicates(reports)
    assert group.primary == "first"
    assert group.members == ("first", "mid", "late")


def test_groups_obey_the_rules_on_random_reports() -> None:
    rng = random.Random(7)
    reports = [
        ReportPoint(
            f"r{i}",
            rng.choice(["road_infra", "environment"]),
            LAT + rng.uniform(-0.002, 0.002),
            LON + rng.uniform(-0.002, 0.002),
            T0 + timedelta(hours=rng.uniform(0, 240)),
        )
        for i in range(400)
    ]
    by_id = {r.report_id: r for r in reports}
    groups = find_duplicates(reports)
    assert groups, "400 reports in a 400 m square over 10 days must contain duplicates"

    def near(a: ReportPoint, b: ReportPoint) -> bool:
        return haversine_m(a.lat, a.lon, b.lat, b.lon) <= 50 and abs(a.time - b.time) <= timedelta(hours=72)

    grouped: set[str] = set()
    for g in groups:
        primary = by_id[g.primary]
        for m in g.members:
            assert by_id[m].category == primary.category
            assert by_id[m].time >= primary.time
            assert near(primary, by_id[m])
        grouped.update(g.members)
    # Every report left alone or leading a group had no earlier primary close enough to join.
    primaries = {g.primary for g in groups} | {r.report_id for r in reports if r.report_id not in grouped}
    for rid in primaries:
        r = by_id[rid]
        assert not any(
            by_id[p].category == r.category and by_id[p].time < r.time and near(by_id[p], r)
            for p in primaries
            if p != rid
        )


def test_candidates_for_a_new_report() -> None:
    existing = [
        at("a", north_m=20),
        at("b", north_m=-45),
        at("c", north_m=5, hours=-100),
        at("d", north_m=200),
    ]
    found = candidates_for(at("new", hours=2), existing)
    assert [c.report_id for c in found] == ["a", "b"]  # nearest first; c too old, d too far
    assert found[0].distance_m == pytest.approx(20, abs=0.5)
    assert found[0].time_apart == timedelta(hours=2)


def test_from_feedback_event() -> None:
    event = FeedbackEvent(
        event_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
        source_id="app",
        ticket_id="HP-1",
        event_time=T0,
        text="Ổ gà to trên đường Lạch Tray",
        lon=LON,
        lat=LAT,
        reporter_phone="0912 345 678",
    )
    with pytest.raises(ValueError, match="HP-1"):
        ReportPoint.from_event(event)
    point = ReportPoint.from_event(event, category="road_infra")
    assert (point.report_id, point.lat, point.lon, point.time) == ("HP-1", LAT, LON, T0)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="2027-03-01T08:00:00"):
        ReportPoint("x", "road_infra", LAT, LON, datetime(2027, 3, 1, 8, 0))
    with pytest.raises(ValueError, match="lat=120"):
        ReportPoint("x", "road_infra", 120, LON, T0)
    with pytest.raises(ValueError, match="'a'"):
        find_duplicates([at("a"), at("a", hours=1)])
    with pytest.raises(ValueError, match="-5"):
        find_duplicates([at("a")], radius_m=-5)
