"""The live engine end to end: events → real broker → ``run_engine`` → alerts table and ``ioc.alerts``."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from kafka import KafkaConsumer

from alerts.service import run_engine
from geodata.sites import load_sites
from ioc.events import Event
from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.sources import SourceKind
from ioc.sources.camera import CameraEvent, Detection, DetectionType
from ioc.sources.traffic import TrafficEvent
from ioc.topics import ALERTS
from tests.streamutil import produce_events

pytestmark = pytest.mark.integration


def _planted(now: datetime) -> tuple[str, str, list[Event]]:
    """A segment crawling at 10 % of free flow for 15 minutes and a camera seeing smoke."""
    seg = load_sites(SourceKind.TRAFFIC)[0].source_id
    cam = next(s.source_id for s in load_sites(SourceKind.CAMERA) if s.properties.get("analytics", True))
    events: list[Event] = []
    for k in range(16):
        t = now - timedelta(minutes=15 - k)
        events.append(TrafficEvent(event_id=uuid.uuid4(), source_id=seg, event_time=t, speed_kmh=5.0,
                                   volume_vph=300, occupancy_pct=60, free_flow_kmh=50))  # fmt: skip
    events.append(
        CameraEvent(
            event_id=uuid.uuid4(),
            source_id=cam,
            event_time=now,
            online=True,
            detections=(Detection(type=DetectionType.FIRE_SMOKE, confidence=0.9),),
        )  # fmt: skip
    )
    return seg, cam, events


def test_events_become_stored_and_published_alerts(stack: Stack) -> None:
    s = stack.settings
    dsn = s.database_dsn()
    stop, ready = threading.Event(), threading.Event()
    result: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: result.update(stats=run_engine(s, stop, ready=ready, tick_seconds=0.5))
    )
    thread.start()
    try:
        assert ready.wait(60), "the engine never got its partitions"
        seg, cam, events = _planted(datetime.now(UTC))
        # A malformed message on the same topic is skipped, not fatal.
        from ioc.kafka import make_producer

        p = make_producer(s.kafka_bootstrap or "")
        p.send(s.topic_prefix + "ioc.traffic", key=seg.encode(), value=b"{not json")
        p.flush()
        p.close()
        produce_events(s.kafka_bootstrap or "", s.topic_prefix, events)

        def rows() -> list[tuple[str, str, bool, str]]:
            with psycopg.connect(dsn) as conn:
                return conn.execute(
                    "SELECT alert_key, rule_id, active, state FROM alerts ORDER BY alert_key"
                ).fetchall()

        wait_until(lambda: len(rows()) >= 2, 60, "two alerts in the database")
        got = rows()
        keys = [r[0] for r in got]
        assert f"traffic-slow:{seg}" in keys
        assert f"camera-detection:{cam}:fire_smoke" in keys
        assert len(keys) == len(set(keys)) == 2  # one incident, one alert: the slow minutes updated it
        with psycopg.connect(dsn) as conn:
            actions = conn.execute(
                "SELECT e.action FROM alert_events e JOIN alerts a USING (alert_id) WHERE a.alert_key = %s ORDER BY seq",
                (f"traffic-slow:{seg}",),
            ).fetchall()
            offsets = conn.execute(
                "SELECT sum(next_offset) FROM stream_offsets WHERE group_id = %s",
                (f"{s.topic_prefix}{s.consumer_group_prefix}.alerts.engine",),
            ).fetchone()
        assert actions[0][0] == "raised"
        assert offsets is not None and offsets[0] == len(events) + 1  # the rejected message counts as read

        consumer = KafkaConsumer(s.topic_prefix + ALERTS, bootstrap_servers=s.kafka_bootstrap,
                                 auto_offset_reset="earliest", consumer_timeout_ms=10_000)  # fmt: skip
        published = [json.loads(m.value) for m in consumer]
        consumer.close()
        assert {m["key"] for m in published} == set(keys)
        smoke = next(m for m in published if m["rule_id"] == "camera-detection")
        assert (
            smoke["alert_class"] == "public_order"
            and smoke["lon"] is not None
            and smoke["agency"]["code"] == "CATP"
        )
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    stats = result["stats"]
    assert stats.rejected == 1 and stats.events == len(events)  # type: ignore[attr-defined]
    with psycopg.connect(dsn) as conn:
        saved = conn.execute(
            "SELECT source_id FROM alert_models WHERE monitor_id = 'anomaly-traffic'"
        ).fetchall()
    assert (seg,) in saved  # the segment's models were saved on shutdown, to resume from


def test_ward_and_department_staff_act_on_their_own_alerts_only(stack: Stack) -> None:
    """The one policy decides in ``act`` too: a ward acts on its units' alerts, a department on its
    agency's; each is refused the others' (and the refusal writes nothing)."""
    from alerts.feed import NotAllowed, OperatorAction, act
    from alerts.model import AlertClass, AlertUpdate, Severity, UpdateKind, load_agencies
    from alerts.store import apply_rule_update, get_alert
    from ioc.access import Principal, Role, Scope

    now = datetime.now(UTC)
    agencies = load_agencies()

    def raise_(key: str, unit: str, cls: AlertClass) -> uuid.UUID:
        update = AlertUpdate(kind=UpdateKind.RAISE, key=key, rule_id="traffic-slow", alert_class=cls,
                             severity=Severity.MODERATE, at=now, admin_unit=unit, title_vi="Ùn tắc",
                             title_en="Congestion")  # fmt: skip
        with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
            alert = apply_rule_update(conn, update, agencies)
        assert alert is not None
        return alert.alert_id

    here = raise_("scope-test:a", "Phường Lê Chân", AlertClass.TRAFFIC)
    there = raise_("scope-test:b", "Phường Ngô Quyền", AlertClass.TRAFFIC)
    ward = Principal("phuong_lc", Role.WARD, Scope.of(units=["Phường Lê Chân"]))
    with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
        agency = get_alert(conn, here).agency.code  # type: ignore[union-attr]
        act(conn, here, principal=ward, action=OperatorAction.ACKNOWLEDGE, at=now, comment="Đã cử tổ")
        with pytest.raises(NotAllowed, match="outside the user's scope"):
            act(conn, there, principal=ward, action=OperatorAction.ACKNOWLEDGE, at=now, comment="x")
        dept = Principal("so_gtvt", Role.DEPARTMENT, Scope.of(sectors=[agency]))
        act(conn, there, principal=dept, action=OperatorAction.ACKNOWLEDGE, at=now, comment="Đã nhận")
        other = Principal("so_yt", Role.DEPARTMENT, Scope.of(sectors=["SYT"]))
        with pytest.raises(NotAllowed):
            act(conn, here, principal=other, action=OperatorAction.RESOLVE, at=now, comment="x")
        states = {a: get_alert(conn, a).state.value for a in (here, there)}  # type: ignore[union-attr]
        denied = conn.execute("SELECT count(*) FROM audit_log WHERE target = ANY(%s) AND actor IN ('phuong_lc', 'so_yt')"
                              " AND action LIKE 'alert.%%'", ([str(here), str(there)],)).fetchone()  # fmt: skip
    assert states == {here: "acknowledged", there: "acknowledged"}
    assert denied == (1,)  # the ward's own acknowledgement; the refusals left no action row


def test_operator_actions_write_timeline_and_audit(stack: Stack) -> None:
    from alerts.feed import NotAllowed, OperatorAction, act, list_alerts, wall_alerts
    from alerts.model import AlertClass, AlertState, AlertUpdate, Severity, UpdateKind, load_agencies
    from alerts.store import apply_rule_update
    from ioc.access import Principal, Role

    leader, operator = Principal("lanhdao", Role.LEADER), Principal("vanhanh1", Role.OPERATOR)

    now = datetime.now(UTC)
    update = AlertUpdate(kind=UpdateKind.RAISE, key="traffic-slow:seg-x", rule_id="traffic-slow",
                         alert_class=AlertClass.TRAFFIC, severity=Severity.MODERATE, at=now,
                         title_vi="Ùn tắc", title_en="Congestion")  # fmt: skip
    with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
        alert = apply_rule_update(conn, update, load_agencies())
        assert alert is not None
        assert [a.alert_id for a in wall_alerts(conn, now)] == [alert.alert_id]
        with pytest.raises(NotAllowed, match="leader"):
            act(conn, alert.alert_id, principal=leader, action=OperatorAction.ACKNOWLEDGE,
                at=now, comment="xem")  # fmt: skip
        steps = [
            (OperatorAction.ACKNOWLEDGE, {"comment": "Đã cử CSGT"}),
            (OperatorAction.ASSIGN, {"assignee": "Đội CSGT số 3"}),
            (OperatorAction.SILENCE, {"until": now + timedelta(hours=1)}),
            (OperatorAction.RESOLVE, {"comment": "Đã thông xe"}),
        ]
        for action, kw in steps:
            act(conn, alert.alert_id, principal=operator, action=action, at=now, **kw)  # type: ignore[arg-type]
        audit = conn.execute(
            "SELECT actor, action FROM audit_log WHERE target = %s ORDER BY id", (str(alert.alert_id),)
        ).fetchall()
        done = list_alerts(conn, states=[AlertState.RESOLVED])
        assert wall_alerts(conn, now) == []
    assert audit == [("vanhanh1", f"alert.{a.value}") for a, _ in steps]  # the leader's try left no trace
    assert [a.alert_id for a in done] == [alert.alert_id]
    timeline = [(e.actor, e.action.value) for e in done[0].timeline]
    assert timeline == [("system", "raised"), ("vanhanh1", "acknowledged"), ("vanhanh1", "assigned"),
                        ("vanhanh1", "silenced"), ("vanhanh1", "resolved")]  # fmt: skip
    assert done[0].assignee == "Đội CSGT số 3"


def test_alerts_cli_lists_acknowledges_and_exports_cap(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from alerts.cap import validate_cap
    from alerts.cli_engine import register
    from alerts.model import AlertClass, AlertUpdate, Severity, UpdateKind, load_agencies
    from alerts.store import apply_rule_update, get_alert

    dsn = stack.settings.database_dsn()
    monkeypatch.setenv("IOC_DATABASE_URL", dsn)
    monkeypatch.setenv("IOC_DATA_DIR", str(stack.settings.data_dir))
    update = AlertUpdate(kind=UpdateKind.RAISE, key="aqi-vn-bad:air-x", rule_id="aqi-vn-bad",
                         alert_class=AlertClass.ENVIRONMENT, severity=Severity.SEVERE, at=datetime.now(UTC),
                         lon=106.76, lat=20.84, title_vi="Không khí rất xấu", title_en="Very bad air")  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        alert = apply_rule_update(conn, update, load_agencies())
    assert alert is not None
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    listed = runner.invoke(app, ["alerts", "list"])
    assert (
        listed.exit_code == 0
        and str(alert.alert_id) in listed.output
        and "Không khí rất xấu" in listed.output
    )
    cap = runner.invoke(app, ["alerts", "cap", str(alert.alert_id)])
    assert cap.exit_code == 0
    validate_cap(cap.output.encode())
    acked = runner.invoke(
        app, ["alerts", "ack", str(alert.alert_id), "--comment", "Đã báo Sở", "--user", "an"]
    )
    assert acked.exit_code == 0, acked.output
    again = runner.invoke(app, ["alerts", "ack", str(alert.alert_id), "--comment", "lần hai"])
    assert again.exit_code != 0 and "acknowledged" in again.output  # the state is named in the error
    bad = runner.invoke(app, ["alerts", "cap", "not-a-uuid"])
    assert bad.exit_code != 0 and "not-a-uuid" in bad.output
    with psycopg.connect(dsn) as conn:
        stored = get_alert(conn, alert.alert_id)
    assert stored is not None and stored.state.value == "acknowledged" and stored.timeline[-1].actor == "an"
