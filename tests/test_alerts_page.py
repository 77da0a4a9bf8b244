"""The ``/alerts`` page through the real Flask server: list with filters, and an operator's acknowledgement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dash
import psycopg
import pytest
from flask.testing import FlaskClient

from alerts.model import AlertClass, AlertUpdate, Severity, UpdateKind, load_agencies
from alerts.store import apply_rule_update, get_alert
from ioc import accounts
from ioc.launcher import Stack
from ioc.web.app import create_app
from ioc.web.pages import alerts_ids as aid
from ioc.web.snapshot import LiveSnapshot
from tests.webclient import PASSWORD, callback_key, login

pytestmark = pytest.mark.integration


@pytest.fixture
def web(stack: Stack) -> Iterator[tuple[dash.Dash, str, Any]]:
    dsn = stack.settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "vanhanh", PASSWORD, "operator")
        accounts.add_user(conn, "lan", PASSWORD, "leader")
        alert = apply_rule_update(conn, AlertUpdate(
            kind=UpdateKind.RAISE, key="camera-detection:cam-x:crowd", rule_id="camera-detection",
            alert_class=AlertClass.PUBLIC_ORDER, severity=Severity.MODERATE, at=datetime.now(UTC),
            title_vi="Phát hiện tụ tập đông người tại camera cam-x", title_en="Crowd detected at camera cam-x",
        ), load_agencies())  # fmt: skip
    app = create_app(stack.settings, live_snapshot=LiveSnapshot(stack.settings), start=False)
    yield app, dsn, alert
    app.server.extensions["ioc"]["pool"].close()


def _post(client: FlaskClient, body: dict[str, Any]) -> Any:
    cookie = client.get_cookie("_csrf_token")
    return client.post(
        "/_dash-update-component", json=body, headers={"X-CSRFToken": cookie.value if cookie else ""}
    )


def _table(client: FlaskClient, app: dash.Dash, states: list[str]) -> str:
    body = {
        "output": callback_key(app, f"{aid.TABLE}.children"),
        "outputs": {"id": aid.TABLE, "property": "children"},
        "inputs": [
            {"id": aid.TICK, "property": "n_intervals", "value": 1},
            {"id": aid.FILTER_STATE, "property": "value", "value": states},
            {"id": aid.FILTER_CLASS, "property": "value", "value": []},
            {"id": aid.FILTER_SEVERITY, "property": "value", "value": []},
            {"id": aid.VERSION, "property": "data", "value": 0},
        ],
        "state": [{"id": aid.SELECTED, "property": "data", "value": None}],
        "changedPropIds": [f"{aid.TICK}.n_intervals"],
    }
    r = _post(client, body)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_data(as_text=True)


def _ack(client: FlaskClient, app: dash.Dash, alert_id: str, comment: str) -> str:
    body = {
        "output": callback_key(app, f"{aid.FEEDBACK}.children"),
        "outputs": [{"id": aid.FEEDBACK, "property": "children"}, {"id": aid.VERSION, "property": "data"}],
        "inputs": [{"id": i, "property": "n_clicks", "value": 1 if i == aid.ACK else None}
                   for i in (aid.ACK, aid.ASSIGN, aid.RESOLVE, aid.SILENCE)],
        "state": [
            {"id": aid.SELECTED, "property": "data", "value": alert_id},
            {"id": aid.COMMENT, "property": "value", "value": comment},
            {"id": aid.ASSIGNEE, "property": "value", "value": None},
            {"id": aid.SILENCE_UNTIL, "property": "value", "value": None},
            {"id": aid.VERSION, "property": "data", "value": 0},
        ],
        "changedPropIds": [f"{aid.ACK}.n_clicks"],
    }  # fmt: skip
    r = _post(client, body)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return json.dumps(r.get_json(), ensure_ascii=False)


def _detail(client: FlaskClient, app: dash.Dash, alert_id: str) -> str:
    body = {
        "output": callback_key(app, f"{aid.DETAIL}.children"),
        "outputs": {"id": aid.DETAIL, "property": "children"},
        "inputs": [{"id": aid.SELECTED, "property": "data", "value": alert_id},
                   {"id": aid.VERSION, "property": "data", "value": 0},
                   {"id": aid.TICK, "property": "n_intervals", "value": 1}],
        "changedPropIds": [f"{aid.SELECTED}.data"],
    }  # fmt: skip
    r = _post(client, body)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return json.dumps(r.get_json(), ensure_ascii=False)


def test_an_alert_leads_to_a_directive_or_a_public_warning_for_whom_may(web: tuple[dash.Dash, str, Any]) -> None:
    app, _dsn, alert = web
    links = {}
    for user in ("vanhanh", "lan"):
        client = app.server.test_client()
        login(client, user, next_path="/alerts")
        out = _detail(client, app, str(alert.alert_id))
        links[user] = {path for path in ("/directives/new", "/warnings") if f"{path}?alert={alert.alert_id}" in out}
    # The operator drafts public warnings; the leader also directs agencies and wards.
    assert links == {"vanhanh": {"/warnings"}, "lan": {"/directives/new", "/warnings"}}


def test_list_filters_and_operator_acknowledges(web: tuple[dash.Dash, str, Any]) -> None:
    app, dsn, alert = web
    client = app.server.test_client()
    login(client, "vanhanh", next_path="/alerts")
    assert client.get("/alerts").status_code == 200
    assert "Phát hiện tụ tập đông người" in _table(client, app, ["new"])
    assert "Không có cảnh báo phù hợp" in _table(client, app, ["resolved"])
    assert "Cần nhập ghi chú" in _ack(client, app, str(alert.alert_id), "  ")  # a comment is required
    assert "Đã ghi nhận" in _ack(client, app, str(alert.alert_id), "Đã báo công an phường")
    with psycopg.connect(dsn) as conn:
        stored = get_alert(conn, alert.alert_id)
        audited = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'alert.acknowledge'").fetchone()
    assert stored is not None and stored.state.value == "acknowledged"
    assert stored.timeline[-1].actor == "vanhanh" and stored.timeline[-1].comment == "Đã báo công an phường"
    assert audited == (1,)


def test_leader_reads_but_cannot_act(web: tuple[dash.Dash, str, Any]) -> None:
    app, dsn, alert = web
    client = app.server.test_client()
    login(client, "lan", next_path="/alerts")
    assert "Phát hiện tụ tập đông người" in _table(client, app, [])
    assert "không thực hiện được" in _ack(client, app, str(alert.alert_id), "thử").lower()
    with psycopg.connect(dsn) as conn:
        stored = get_alert(conn, alert.alert_id)
    assert stored is not None and stored.state.value == "new"
