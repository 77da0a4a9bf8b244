"""Open311 GeoReport v2 contract: every response carries the specification's fields with its types."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import psycopg
import pytest

from ioc.accounts import create_api_key
from ioc.tickets import store
from ioc.tickets.calendar import default_calendar
from ioc.tickets.categories import load_catalog
from ioc.tickets.classifier import default_classifier
from ioc.tickets.intake import Intake
from ioc.tickets.routing import RoutingTable
from ioc.tickets.workflow import Change, Kind
from ioc.web.open311 import PREFIX, register_open311

pytestmark = pytest.mark.integration
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")

SERVICE_FIELDS = {
    "service_code": str,
    "service_name": str,
    "description": str,
    "metadata": bool,
    "type": str,
    "keywords": str,
    "group": str,
}
REQUEST_FIELDS: dict[str, tuple[type, ...]] = {
    "service_request_id": (str,),
    "status": (str,),
    "status_notes": (str, type(None)),
    "service_name": (str, type(None)),
    "service_code": (str, type(None)),
    "description": (str, type(None)),
    "agency_responsible": (str, type(None)),
    "service_notice": (str, type(None)),
    "requested_datetime": (str,),
    "updated_datetime": (str, type(None)),
    "expected_datetime": (str, type(None)),
    "address": (str, type(None)),
    "address_id": (str, type(None)),
    "zipcode": (str, type(None)),
    "lat": (float,),
    "long": (float,),
    "media_url": (str, type(None)),
}


def check_request(doc: dict[str, Any]) -> None:
    assert set(doc) == set(REQUEST_FIELDS), set(doc) ^ set(REQUEST_FIELDS)
    for name, types in REQUEST_FIELDS.items():
        assert isinstance(doc[name], types), (name, doc[name])
    assert doc["status"] in ("open", "closed")
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert doc[name] is None or W3C.match(doc[name]), (name, doc[name])


@pytest.fixture(scope="module")
def intake() -> Intake:
    catalog = load_catalog()
    routing = RoutingTable.load(catalog=catalog)
    routing = RoutingTable(routing.rules, routing.agencies, 0.5, {}, catalog)
    return Intake(default_classifier(), routing, catalog, default_calendar())


@pytest.fixture
def client(stack, intake: Intake) -> Any:  # noqa: ANN001
    server = flask.Flask("test-open311")
    register_open311(
        server, stack.settings, intake_factory=lambda: intake, unit_at=lambda lon, lat, on: "Phường Lê Chân"
    )
    return server.test_client()


@pytest.fixture
def api_key(pg_dsn: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        return create_api_key(conn, "test-client")


def test_services_list_every_category(client: Any) -> None:
    resp = client.get(PREFIX + "/services.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    services = resp.get_json()
    assert [s["service_code"] for s in services] == list(load_catalog().codes)
    for s in services:
        assert set(s) == set(SERVICE_FIELDS)
        for name, typ in SERVICE_FIELDS.items():
            assert isinstance(s[name], typ), (name, s[name])
        assert s["type"] in ("realtime", "batch", "blackbox")
    assert services[0]["service_name"] == "Giao thông"
    assert client.get(PREFIX + "/services.json?lang=en").get_json()[0]["service_name"] == "Traffic"
    assert client.get(PREFIX + "/services.xml").status_code == 400


def test_post_then_get_the_request(client: Any, api_key: str, pg_dsn: str) -> None:
    form = {
        "api_key": api_key,
        "service_code": "environment",
        "lat": "20.8560",
        "long": "106.6822",
        "description": "Rác thải đổ trộm đầu ngõ 12 bốc mùi, liên hệ 0912 345 678",
        "first_name": "An",
        "last_name": "Nguyễn Văn",
        "phone": "0912 345 678",
        "media_url": "https://example.invalid/rac.jpg",
    }
    resp = client.post(PREFIX + "/requests.json", data=form)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    (created,) = resp.get_json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    rid = created["service_request_id"]
    assert isinstance(rid, str) and created["service_notice"].startswith("Hạn trả lời")

    # Not published: the public does not see it at all; the intake system's own key does.
    assert client.get(f"{PREFIX}/requests/{rid}.json").status_code == 404
    assert client.get(f"{PREFIX}/requests.json").get_json() == []
    (doc,) = client.get(f"{PREFIX}/requests/{rid}.json", headers={"X-Api-Key": api_key}).get_json()
    check_request(doc)
    assert doc["service_code"] == "environment" and doc["status"] == "open"
    assert doc["address"] == "Phường Lê Chân" and doc["media_url"] == "https://example.invalid/rac.jpg"
    assert doc["lat"] == pytest.approx(20.8560) and doc["long"] == pytest.approx(106.6822)
    body = client.get(f"{PREFIX}/requests/{rid}.json?api_key={api_key}").get_data(as_text=True)
    assert "0912" not in body and "Nguyễn Văn" not in body  # personal data is never returned
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        row = store.require_ticket(conn, rid)
        assert row.reporter_phone == "0912 345 678" and row.channel == "open311:test-client"
        # Answer it (a person routes it first if the suggestion stayed below the threshold).
        if row.status == "received":
            store.apply_change(
                conn, rid, Change(Kind.CLASSIFIED, datetime.now(UTC), "lan", category="environment")
            )
            store.apply_change(
                conn,
                rid,
                Change(
                    Kind.ASSIGNED,
                    datetime.now(UTC),
                    "lan",
                    owner_kind="agency",
                    owner_code="so_nn_mt",
                    owner_name="Sở NN&MT",
                ),
            )
        store.apply_change(conn, rid, Change(Kind.ANSWERED, datetime.now(UTC), "so1", answer="Đã thu gom."))
        store.apply_change(conn, rid, Change(Kind.PUBLISHED, datetime.now(UTC), "an"))
    (doc,) = client.get(f"{PREFIX}/requests/{rid}.json").get_json()  # published: now public
    check_request(doc)
    assert doc["status"] == "closed" and "Đã thu gom." in doc["status_notes"]
    assert (doc["lat"], doc["long"]) == (20.856, 106.682)  # rounded to ~100 m for the public
    assert "0912" not in doc["description"]
    listed = client.get(PREFIX + "/requests.json?status=closed&service_code=environment").get_json()
    assert [d["service_request_id"] for d in listed] == [rid]
    assert client.get(PREFIX + "/requests.json?status=open").get_json() == []


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"service_code": "potholes"}, 400, "'potholes'"),
        ({"lat": "abc"}, 400, "lat"),
        ({"long": "2.35"}, 400, "long"),
        ({"description": " "}, 400, "description"),
        ({"description": "x" * 5001}, 400, "description"),
        ({"phone": "call me"}, 400, "phone"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"media_url": "http://example.invalid/a.jpg"}, 400, "media_url"),
        ({"last_name": "N" * 300}, 400, "first_name/last_name"),
    ],
)
def test_post_errors_are_georeport_errors(
    client: Any, api_key: str, change: dict[str, str], status: int, needle: str
) -> None:
    form = {
        "api_key": api_key,
        "service_code": "traffic",
        "lat": "20.85",
        "long": "106.68",
        "description": "Tắc đường ở ngã tư Thành Đội",
    }
    form.update(change)
    resp = client.post(PREFIX + "/requests.json", data=form)
    assert resp.status_code == status
    (err,) = resp.get_json()
    assert err["code"] == status and needle in err["description"]


def test_get_requests_filters_and_unknown_id(client: Any, pg_dsn: str) -> None:
    from tests.test_tickets_store import new

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for i in range(3):
            store.create_ticket(
                conn, new(i, received_at=datetime.now(UTC) - timedelta(days=i * 50)), "intake"
            )
        staff = create_api_key(conn, "hotline-1022", role="triage")
    key = {"X-Api-Key": staff}
    docs = client.get(PREFIX + "/requests.json", headers=key).get_json()
    assert sorted(d["service_request_id"] for d in docs) == ["HP-0", "HP-1"]  # default: last 90 days
    for d in docs:
        check_request(d)
    by_id = client.get(PREFIX + "/requests.json?service_request_id=HP-2,HP-0", headers=key).get_json()
    assert sorted(d["service_request_id"] for d in by_id) == ["HP-0", "HP-2"]
    assert client.get(PREFIX + "/requests/HP-404.json", headers=key).status_code == 404
    for bad in ("yesterday", "0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00", "2" * 100):
        r = client.get(PREFIX + "/requests.json?start_date=" + bad)
        assert r.status_code == 400, (bad, r.status_code)


def test_mounted_on_the_dashboard_without_its_login(stack, intake: Intake) -> None:  # noqa: ANN001
    from ioc.web.app import create_app

    app = create_app(stack.settings, start=False)
    try:
        register_open311(app.server, stack.settings, intake_factory=lambda: intake)
        c = app.server.test_client()
        assert c.get(PREFIX + "/services.json").status_code == 200
        assert c.get("/tablet").status_code == 302  # the dashboard itself still needs a login
    finally:
        app.server.extensions["ioc"]["pool"].close()


def test_a_merged_request_follows_its_primary(client: Any, pg_dsn: str) -> None:
    from tests.test_tickets_store import new

    now = datetime.now(UTC)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        key = {"X-Api-Key": create_api_key(conn, "hotline-1022", role="triage")}
        for i in (1, 2):
            store.create_ticket(conn, new(i, received_at=now - timedelta(hours=i)), "intake")
        store.apply_change(conn, "HP-2", Change(Kind.MERGED, now, "an", merged_into="HP-1"))
        (dup,) = client.get(PREFIX + "/requests/HP-2.json", headers=key).get_json()
        assert dup["status"] == "open" and "HP-1" in dup["status_notes"]  # the primary is still open
        assert [
            d["service_request_id"]
            for d in client.get(PREFIX + "/requests.json?status=closed", headers=key).get_json()
        ] == []
        store.apply_change(conn, "HP-1", Change(Kind.CLASSIFIED, now, "an", category="environment"))
        store.apply_change(conn, "HP-1", Change(Kind.ASSIGNED, now, "an", owner_kind="agency", owner_code="so_nn_mt",
                                                owner_name="Sở NN&MT"))  # fmt: skip
        store.apply_change(conn, "HP-1", Change(Kind.ANSWERED, now, "so", answer="Đã thu gom."))
    (dup,) = client.get(PREFIX + "/requests/HP-2.json", headers=key).get_json()
    check_request(dup)
    assert dup["status"] == "closed" and "Đã thu gom." in dup["status_notes"]
    assert dup["agency_responsible"] == "Sở NN&MT"
    closed = client.get(PREFIX + "/requests.json?status=closed", headers=key).get_json()
    assert sorted(d["service_request_id"] for d in closed) == ["HP-1", "HP-2"]
