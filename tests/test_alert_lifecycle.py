"""Alert lifecycle: new → acknowledged → assigned → resolved, silence, escalation, timeline, agencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.model import (
    Action,
    Alert,
    AlertClass,
    AlertState,
    AlertUpdate,
    EscalationPolicy,
    InvalidTransition,
    Severity,
    UpdateKind,
    apply_update,
    load_agencies,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AGENCIES = load_agencies()


def upd(kind=UpdateKind.RAISE, minutes=0, severity=Severity.MODERATE, value=160.0, alert_class=AlertClass.ENVIRONMENT,
        admin_unit=None) -> AlertUpdate:  # fmt: skip
    return AlertUpdate(
        kind=kind, key="aqi:air-01", rule_id="aqi", alert_class=alert_class, severity=severity,
        at=T0 + timedelta(minutes=minutes), source_id="air-01", admin_unit=admin_unit, value=value,
        title_vi="Chất lượng không khí xấu kéo dài", title_en="Sustained bad air quality",
    )  # fmt: skip


def new_alert() -> Alert:
    return Alert.raise_from(upd(), AGENCIES)


def test_full_lifecycle_records_who_and_when():
    a = new_alert()
    assert a.state is AlertState.NEW and a.agency.name_vi == "Sở Nông nghiệp và Môi trường"
    a = a.acknowledge("lan.nt", T0 + timedelta(minutes=3), "  Đã xem, liên hệ trạm  ")
    a = a.assign("lan.nt", T0 + timedelta(minutes=5), "to.moitruong")
    a = a.resolve("hung.pv", T0 + timedelta(minutes=50), "Đã xử lý nguồn đốt")
    assert a.state is AlertState.RESOLVED and a.assignee == "to.moitruong" and not a.is_open
    assert [(e.action, e.actor, e.state) for e in a.timeline] == [
        (Action.RAISED, "system", AlertState.NEW),
        (Action.ACKNOWLEDGED, "lan.nt", AlertState.ACKNOWLEDGED),
        (Action.ASSIGNED, "lan.nt", AlertState.ASSIGNED),
        (Action.RESOLVED, "hung.pv", AlertState.RESOLVED),
    ]
    assert a.timeline[1].comment == "Đã xem, liên hệ trạm"
    assert a.timeline[-1].at == a.updated_at == T0 + timedelta(minutes=50)


def test_invalid_transitions_name_the_state():
    a = new_alert()
    with pytest.raises(InvalidTransition, match="it is new"):
        a.assign("x", T0, "y")
    with pytest.raises(InvalidTransition, match="it is new"):
        a.resolve("x", T0)
    with pytest.raises(ValueError, match="comment"):
        a.acknowledge("x", T0, "   ")
    acked = a.acknowledge("x", T0, "ok")
    with pytest.raises(InvalidTransition, match="it is acknowledged"):
        acked.acknowledge("x", T0, "again")
    done = acked.resolve("x", T0)
    with pytest.raises(InvalidTransition, match="resolved"):
        done.silence("x", T0, T0 + timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        acked.assign("x", datetime(2026, 1, 1), "y")
    assert a.state is AlertState.NEW  # immutability: the original is unchanged


def test_silence_until_hides_from_the_wall_and_delays_escalation():
    policy = EscalationPolicy(after=timedelta(minutes=15), max_level=2)
    a = new_alert()
    assert a.pinned(T0)
    with pytest.raises(ValueError, match="after"):
        a.silence("op", T0, T0)
    s = a.silence("op", T0 + timedelta(minutes=1), T0 + timedelta(minutes=30), "bảo trì trạm")
    assert not s.pinned(T0 + timedelta(minutes=10)) and s.pinned(T0 + timedelta(minutes=30))
    assert s.escalate_if_due(T0 + timedelta(minutes=20), policy) is s
    e = s.escalate_if_due(T0 + timedelta(minutes=31), policy)
    assert e.escalation_level == 1 and e.timeline[-1].action is Action.ESCALATED


def test_escalation_steps_until_acknowledged_and_caps():
    policy = EscalationPolicy(after=timedelta(minutes=15), max_level=2)
    a = new_alert()
    assert a.escalate_if_due(T0 + timedelta(minutes=14), policy) is a
    a = a.escalate_if_due(T0 + timedelta(minutes=15), policy)
    assert a.escalation_level == 1
    assert a.escalate_if_due(T0 + timedelta(minutes=29), policy).escalation_level == 1  # 15 min since last
    a = a.escalate_if_due(T0 + timedelta(minutes=30), policy)
    assert a.escalation_level == 2
    assert a.escalate_if_due(T0 + timedelta(hours=5), policy) is a  # capped at max_level
    acked = new_alert().acknowledge("op", T0 + timedelta(minutes=2), "đã nhận")
    assert acked.escalate_if_due(T0 + timedelta(hours=1), policy) is acked


def test_rule_updates_fold_into_one_alert():
    a = apply_update(None, upd(), AGENCIES)
    assert a is not None
    same = apply_update(a, upd(UpdateKind.UPDATE, 60, value=170.0), AGENCIES)
    assert (
        same.alert_id == a.alert_id and same.value == 170.0 and len(same.timeline) == 1
    )  # value refresh only
    worse = apply_update(same, upd(UpdateKind.UPDATE, 120, Severity.SEVERE, 230.0), AGENCIES)
    assert worse.severity is Severity.SEVERE and worse.timeline[-1].action is Action.UPDATED
    cleared = apply_update(worse, upd(UpdateKind.CLEAR, 240), AGENCIES)
    assert (
        not cleared.active
        and cleared.state is AlertState.NEW
        and cleared.timeline[-1].action is Action.CLEARED
    )
    assert apply_update(cleared, upd(UpdateKind.CLEAR, 250), AGENCIES) is cleared
    back = apply_update(cleared, upd(UpdateKind.RAISE, 300), AGENCIES)
    assert back.alert_id == a.alert_id and back.active and back.timeline[-1].action is Action.REACTIVATED
    # once resolved, the next raise is a new incident
    done = back.acknowledge("op", T0 + timedelta(hours=6), "ok").resolve("op", T0 + timedelta(hours=7))
    fresh = apply_update(done, upd(UpdateKind.RAISE, 600), AGENCIES)
    assert fresh is not None and fresh.alert_id != a.alert_id and fresh.state is AlertState.NEW
    assert apply_update(None, upd(UpdateKind.CLEAR), AGENCIES) is None
    with pytest.raises(InvalidTransition, match="resolved"):
        done.apply(upd(UpdateKind.UPDATE, 700))


def test_agency_map_fills_the_ward_and_is_configurable(tmp_path: Path):
    citizen = Alert.raise_from(upd(alert_class=AlertClass.CITIZEN, admin_unit="phường Lê Chân"), AGENCIES)
    assert citizen.agency.name_vi == "UBND phường Lê Chân"
    assert AGENCIES.owner(AlertClass.TRAFFIC).name_vi == "Sở Xây dựng"
    assert AGENCIES.owner(AlertClass.PUBLIC_ORDER).name_vi == "Công an thành phố"
    assert "Trung tâm IOC" in AGENCIES.owner(AlertClass.CAMERA).name_vi
    custom = tmp_path / "agencies.yaml"
    custom.write_text(
        "agencies:\n  traffic: {code: X, name_vi: Đội CSGT, name_en: Traffic police}\n", encoding="utf-8"
    )
    m = load_agencies(custom)
    assert m.owner(AlertClass.TRAFFIC).name_vi == "Đội CSGT"
    with pytest.raises(KeyError, match="environment"):
        m.owner(AlertClass.ENVIRONMENT)


def test_alert_round_trips_as_json_for_the_alerts_topic():
    a = new_alert().acknowledge("op", T0 + timedelta(minutes=1), "đã nhận")
    assert Alert.model_validate_json(a.model_dump_json()) == a
