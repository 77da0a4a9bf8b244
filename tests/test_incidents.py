"""One incident, many alerts: grouping by family, place and time, in memory and in PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.incidents import attach_alert, family, group_alarms, place_key, recent_incidents
from alerts.model import AlertClass, AlertUpdate, Severity, UpdateKind, load_agencies
from alerts.store import apply_rule_update

T0 = datetime(2026, 9, 13, 15, tzinfo=UTC)


@dataclass
class Alarm:
    key: str
    rule_id: str
    alert_class: str
    raised_at: datetime
    source_id: str | None = None
    admin_unit: str | None = None
    lon: float | None = None
    lat: float | None = None


def test_families_and_places() -> None:
    assert family("flood-level", "environment") == "flood"
    assert family("aqi-vn-bad", "environment") == "environment"  # air quality is not a flood
    assert family("camera-detection", "environment", "camera-detection:cam-1:flooding") == "flood"
    assert family("camera-detection", "public_order", "camera-detection:cam-1:crowd") == "public_order"
    assert family("public-order-count", "public_order") == "public_order"
    assert place_key("budget-yoy", "budget-yoy:rev-xnk:2025", "rev-xnk", None) == "rev-xnk:2025"


def test_a_storm_over_the_city_is_one_flood_incident_and_air_quality_stays_apart() -> None:
    alarms = [Alarm(f"flood-level:{g}", "flood-level", "environment", T0 + timedelta(minutes=10 * i), g, None, lon, lat)
              for i, (g, lon, lat) in enumerate([("wl-hondau", 106.816, 20.667), ("wl-cam", 106.689, 20.870),
                                                 ("wl-lachtray", 106.627, 20.819), ("wl-vanuc", 106.546, 20.776)])]  # fmt: skip
    alarms.append(Alarm("flood-rain-tide:city", "flood-rain-tide", "environment", T0 + timedelta(hours=1),
                        "rain-phulien", None, 106.635, 20.80))  # fmt: skip
    alarms.append(Alarm("camera-detection:cam-lc:flooding", "camera-detection", "environment", T0 + timedelta(hours=2),
                        "cam-lc", None, 106.68, 20.845))  # fmt: skip
    alarms.append(Alarm("aqi-vn-bad:air-dinhvu", "aqi-vn-bad", "environment", T0 + timedelta(hours=1), "air-dinhvu",
                        None, 106.74, 20.84))  # fmt: skip
    groups = group_alarms(alarms)
    assert sorted((g.family, len(g.members)) for g in groups) == [("environment", 1), ("flood", 6)]
    # The next storm, two days later, is another incident.
    later = group_alarms([*alarms, Alarm("flood-level:wl-cam", "flood-level", "environment", T0 + timedelta(days=2),
                                         "wl-cam", None, 106.689, 20.870)])  # fmt: skip
    assert sum(g.family == "flood" for g in later) == 2


def test_budget_alerts_group_by_series_and_year() -> None:
    mk = lambda rule, series, year, d: Alarm(f"{rule}:{series}:{year}", rule, "budget", T0 + timedelta(days=d))  # noqa: E731
    groups = group_alarms([mk("budget-yoy", "rev-xnk", 2025, 0), mk("budget-forecast", "rev-xnk", 2025, 70),
                           mk("budget-ytd-plan", "rev-xnk", 2025, 120), mk("budget-yoy", "rev-fdi", 2025, 5),
                           mk("budget-yoy", "rev-xnk", 2026, 300)])  # fmt: skip
    assert sorted(len(g.members) for g in groups) == [1, 1, 3]


def _update(key: str, rule: str, cls: AlertClass, at: datetime, unit: str | None, lon: float, lat: float,
            sev: Severity = Severity.MODERATE) -> AlertUpdate:  # fmt: skip
    return AlertUpdate(kind=UpdateKind.RAISE, key=key, rule_id=rule, rule_version="1+abc", alert_class=cls, severity=sev,
                       at=at, admin_unit=unit, lon=lon, lat=lat, title_vi=f"Cảnh báo {key}", title_en=f"Alert {key}")  # fmt: skip


@pytest.mark.integration
def test_alerts_join_their_incident_in_the_database(pg_dsn: str) -> None:
    agencies = load_agencies()
    with psycopg.connect(pg_dsn) as conn:
        now = datetime.now(UTC)
        a1 = apply_rule_update(conn, _update("public-order-count:11617:disorder_incidents", "public-order-count",
                                             AlertClass.PUBLIC_ORDER, now, "11617", 106.627, 20.819), agencies)  # fmt: skip
        a2 = apply_rule_update(conn, _update("public-order-cluster:11617", "public-order-cluster", AlertClass.PUBLIC_ORDER,
                                             now + timedelta(minutes=40), "11617", 106.63, 20.82, Severity.SEVERE),
                               agencies)  # fmt: skip
        a3 = apply_rule_update(conn, _update("camera-detection:cam-x:crowd", "camera-detection", AlertClass.PUBLIC_ORDER,
                                             now + timedelta(hours=1), "11581", 106.64, 20.83), agencies)  # fmt: skip
        far = apply_rule_update(conn, _update("public-order-count:10525:criminal_cases", "public-order-count",
                                              AlertClass.PUBLIC_ORDER, now, "10525", 106.33, 20.94), agencies)  # fmt: skip
        assert a1 and a2 and a3 and far
        # The store attached each alert as it saved it; attaching again finds the same incident.
        ids = [attach_alert(conn, a, "1+abc") for a in (a1, a2, a3, far)]
        again = attach_alert(conn, a2)  # the store saves an alert many times: one membership
        conn.commit()
        assert ids[0] == ids[1] == ids[2] == again and ids[3] != ids[0]
        rows = {r.incident_id: r for r in recent_incidents(conn, now - timedelta(hours=1))}
        inc = rows[ids[0]]
        assert inc.members == 3 and inc.severity is Severity.SEVERE and inc.family == "public_order"
        assert inc.rules == ("camera-detection", "public-order-cluster", "public-order-count")
        assert rows[ids[3]].members == 1
        versions = conn.execute("SELECT rule_version FROM incident_members WHERE alert_id = %s", (a1.alert_id,)).fetchone()
        assert versions == ("1+abc",)
        # The alert classes of the early warnings are allowed by the schema (migration 070).
        conn.execute("INSERT INTO alerts (alert_id, alert_key, rule_id, alert_class, severity, title_vi, title_en,"
                     " agency_code, agency_vi, agency_en, created_at, updated_at, last_seen, rule_version) VALUES"
                     " (%s, 'budget-yoy:rev-xnk:2026', 'budget-yoy', 'budget', 'moderate', 't', 't', 'STC',"
                     " 'Sở Tài chính', 'Department of Finance', now(), now(), now(), '1+14cd743a')", (uuid.uuid4(),))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO alerts (alert_id, alert_key, rule_id, alert_class, severity, title_vi, title_en,"
                         " agency_code, agency_vi, agency_en, created_at, updated_at, last_seen) VALUES"
                         " (%s, 'k', 'r', 'lottery', 'minor', 't', 't', 'x', 'x', 'x', now(), now(), now())",
                         (uuid.uuid4(),))  # fmt: skip
