"""alerts.store against the real PostgreSQL of the test stack (schema from ioc/schema/020_alerts.sql)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts import store
from alerts.model import (
    Alert,
    AlertClass,
    AlertState,
    AlertUpdate,
    EscalationPolicy,
    InvalidTransition,
    Severity,
    UpdateKind,
    load_agencies,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AGENCIES = load_agencies()


def upd(
    kind: UpdateKind, minutes: int, key: str = "traffic-slow:seg-1", severity=Severity.MODERATE
) -> AlertUpdate:
    return AlertUpdate(
        kind=kind, key=key, rule_id="traffic-slow", alert_class=AlertClass.TRAFFIC, severity=severity,
        at=T0 + timedelta(minutes=minutes), source_id=key.split(":")[1], value=0.3, lon=106.68, lat=20.86,
        admin_unit="phường Lê Chân", title_vi="Ùn tắc giao thông", title_en="Congestion",
    )  # fmt: skip


def test_rule_updates_operator_transitions_and_timeline_round_trip(pg_dsn: str):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        a = store.apply_rule_update(conn, upd(UpdateKind.RAISE, 0), AGENCIES)
        assert a is not None
        same = store.apply_rule_update(conn, upd(UpdateKind.UPDATE, 5, severity=Severity.SEVERE), AGENCIES)
        assert same is not None and same.alert_id == a.alert_id
        other = store.apply_rule_update(conn, upd(UpdateKind.RAISE, 6, key="traffic-slow:seg-2"), AGENCIES)
        assert other is not None and other.alert_id != a.alert_id

        acked = store.transition(
            conn, a.alert_id, lambda x: x.acknowledge("lan.nt", T0 + timedelta(minutes=7), "Đã nhận")
        )
        with pytest.raises(InvalidTransition):
            store.transition(
                conn, a.alert_id, lambda x: x.acknowledge("b", T0 + timedelta(minutes=8), "again")
            )
        store.transition(
            conn, a.alert_id, lambda x: x.assign("lan.nt", T0 + timedelta(minutes=9), "csgt.doi3")
        )
        store.transition(
            conn,
            other.alert_id,
            lambda x: x.silence("op", T0 + timedelta(minutes=9), T0 + timedelta(hours=1)),
        )

        loaded = store.get_alert(conn, a.alert_id)
        assert loaded is not None and loaded.state is AlertState.ASSIGNED and loaded.assignee == "csgt.doi3"
        assert [e.action.value for e in loaded.timeline] == ["raised", "updated", "acknowledged", "assigned"]
        assert loaded.timeline[2].actor == "lan.nt" and loaded.timeline[2].comment == "Đã nhận"
        assert loaded.agency.name_vi == "Sở Xây dựng" and loaded.severity is Severity.SEVERE
        assert acked.timeline == loaded.timeline[:3]

        assert {x.alert_id for x in store.list_open_alerts(conn)} == {a.alert_id, other.alert_id}
        assert [x.alert_id for x in store.list_open_alerts(conn, now=T0 + timedelta(minutes=30))] == [
            a.alert_id
        ]

        store.transition(
            conn, a.alert_id, lambda x: x.resolve("lan.nt", T0 + timedelta(hours=2), "Đã thông xe")
        )
        # the incident is over: the next raise on the same key opens a new alert
        again = store.apply_rule_update(conn, upd(UpdateKind.RAISE, 200), AGENCIES)
        assert again is not None and again.alert_id != a.alert_id
        n = conn.execute("SELECT count(*) FROM alert_events WHERE alert_id = %s", (a.alert_id,)).fetchone()
        assert n == (5,)
        store.save_alert(conn, again)  # idempotent: no duplicate timeline rows
        n = conn.execute(
            "SELECT count(*) FROM alert_events WHERE alert_id = %s", (again.alert_id,)
        ).fetchone()
        assert n == (1,)
        with pytest.raises(LookupError, match="no alert"):
            store.transition(conn, uuid.uuid4(), lambda x: x)


def test_one_open_alert_per_key_is_enforced_by_the_database(pg_dsn: str):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        first = store.apply_rule_update(conn, upd(UpdateKind.RAISE, 0), AGENCIES)
        assert first is not None
        duplicate = Alert.raise_from(upd(UpdateKind.RAISE, 1), AGENCIES)
        with pytest.raises(psycopg.errors.UniqueViolation):
            store.save_alert(conn, duplicate)


def test_escalate_due_escalates_only_unacknowledged_alerts(pg_dsn: str):
    policy = EscalationPolicy(after=timedelta(minutes=15), max_level=2)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        waiting = store.apply_rule_update(conn, upd(UpdateKind.RAISE, 0), AGENCIES)
        seen = store.apply_rule_update(conn, upd(UpdateKind.RAISE, 0, key="traffic-slow:seg-9"), AGENCIES)
        assert waiting is not None and seen is not None
        store.transition(conn, seen.alert_id, lambda x: x.acknowledge("op", T0 + timedelta(minutes=1), "ok"))
        assert store.escalate_due(conn, T0 + timedelta(minutes=10), policy) == []
        escalated = store.escalate_due(conn, T0 + timedelta(minutes=16), policy)
        assert [a.alert_id for a in escalated] == [waiting.alert_id] and escalated[0].escalation_level == 1
        stored = store.get_alert(conn, waiting.alert_id)
        assert (
            stored is not None
            and stored.escalation_level == 1
            and stored.timeline[-1].action.value == "escalated"
        )
