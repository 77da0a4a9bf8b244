"""Open311 as an attacker tried it (issue 11, finding 1): public means published and de-identified,
staff keys see their scope, POST is validated and rate-limited, big bodies are refused unread."""

from __future__ import annotations

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
from tests.test_tickets_store import new

pytestmark = pytest.mark.integration

SECRET_TEXT = (
    "Tôi là Nguyễn Văn An (an.nguyen@gmail.com, CCCD 031090001234). Chị Lan ở số nhà 45 ngõ 12 Lạch Tray "
    "đổ rác ra đường, xe 15A-123.45 của ông Hùng đỗ chắn lối, gọi 0912 345 678."
)
FORBIDDEN = ("Nguyễn Văn An", "an.nguyen", "gmail", "031090001234", "Lan", "45", "15A-123.45", "Hùng", "0912",
             "javascript")  # fmt: skip


@pytest.fixture(scope="module")
def intake() -> Intake:
    catalog = load_catalog()
    routing = RoutingTable.load(catalog=catalog)
    return Intake(default_classifier(), routing, catalog, default_calendar())


@pytest.fixture
def client(stack: Any, intake: Intake) -> Any:
    server = flask.Flask("test-open311")
    register_open311(server, stack.settings.model_copy(update={"open311_posts_per_minute": 5}),
                     intake_factory=lambda: intake, unit_at=lambda lon, lat, on: "Phường Lê Chân")  # fmt: skip
    return server.test_client()


def _publish(conn: psycopg.Connection, tid: str, answer: str = "Đã xử lý, cảm ơn chị Lan (0912345678).") -> None:
    now = datetime.now(UTC)
    store.apply_change(conn, tid, Change(Kind.CLASSIFIED, now, "an", category="environment"))
    store.apply_change(conn, tid, Change(Kind.ASSIGNED, now, "an", owner_kind="agency", owner_code="so_nn_mt"))
    store.apply_change(conn, tid, Change(Kind.ANSWERED, now, "so", answer=answer))
    store.apply_change(conn, tid, Change(Kind.PUBLISHED, now, "an"))


def test_anonymous_clients_get_only_published_de_identified_tickets(client: Any, pg_dsn: str) -> None:
    recent = datetime.now(UTC) - timedelta(hours=1)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        store.create_ticket(conn, new(1, received_at=recent, text=SECRET_TEXT, lat=20.856_234, lon=106.682_987,
                                      photo_urls=("javascript:alert(document.cookie)",)), "intake")  # fmt: skip
        store.create_ticket(conn, new(2, received_at=recent, text="Ngập " + "rất sâu " * 150_000), "intake")
        store.create_ticket(conn, new(3, received_at=recent, photo_urls=("https://anh.example.vn/3.jpg",)), "intake")
        _publish(conn, "HP-1")
        _publish(conn, "HP-2")
    # The attacker's exact request: a start date far in the past is refused, not served.
    assert client.get(PREFIX + "/requests.json?start_date=0001-01-01T00:00:00").status_code == 400
    docs = client.get(PREFIX + "/requests.json").get_json()
    assert sorted(d["service_request_id"] for d in docs) == ["HP-1", "HP-2"]  # HP-3 is not published
    assert client.get(PREFIX + "/requests/HP-3.json").status_code == 404
    body = client.get(PREFIX + "/requests.json").get_data(as_text=True)
    for secret in FORBIDDEN:
        assert secret not in body, secret
    one = next(d for d in docs if d["service_request_id"] == "HP-1")
    assert (one["lat"], one["long"]) == (20.856, 106.683)
    assert one["media_url"] is None  # javascript: is never a photo
    assert "[email]" in one["description"] and "[số nhà]" in one["description"]
    big = next(d for d in docs if d["service_request_id"] == "HP-2")
    assert len(big["description"]) <= 1000 and len(body) < 20_000  # a 1 MB report is not served back whole


def test_staff_keys_see_their_scope_only(client: Any, pg_dsn: str) -> None:
    recent = datetime.now(UTC) - timedelta(hours=1)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        store.create_ticket(conn, new(1, received_at=recent, admin_unit="Phường Lê Chân"), "intake")
        store.create_ticket(conn, new(2, received_at=recent, admin_unit="Phường Ngô Quyền"), "intake")
        ward = create_api_key(conn, "lechan-portal", role="ward", units=["Phường Lê Chân"])
        leader = create_api_key(conn, "dashboard-bi", role="leader")
        display = create_api_key(conn, "wall-feed", role="display")
    mine = client.get(PREFIX + "/requests.json", headers={"X-Api-Key": ward}).get_json()
    assert [d["service_request_id"] for d in mine] == ["HP-1"]
    assert client.get(PREFIX + "/requests/HP-2.json", headers={"X-Api-Key": ward}).status_code == 404
    city = client.get(PREFIX + "/requests.json", headers={"X-Api-Key": leader}).get_json()
    assert sorted(d["service_request_id"] for d in city) == ["HP-1", "HP-2"]
    assert "0912" not in str(city)  # staff keys get no personal data either
    assert client.get(PREFIX + "/requests.json", headers={"X-Api-Key": display}).status_code == 403
    assert client.get(PREFIX + "/requests.json", headers={"X-Api-Key": "forged"}).status_code == 403


def _form(key: str, **kw: str) -> dict[str, str]:
    form = {"api_key": key, "service_code": "traffic", "lat": "20.85", "long": "106.68",
            "description": "Tắc đường ở ngã tư Thành Đội"}  # fmt: skip
    form.update(kw)
    return form


def test_post_needs_a_creating_role_and_is_rate_limited(client: Any, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        intake_key = create_api_key(conn, "zalo-bridge", role="triage")
        reader_key = create_api_key(conn, "bi", role="leader")
    r = client.post(PREFIX + "/requests.json", data=_form(reader_key))
    assert r.status_code == 403 and "may not create" in r.get_json()[0]["description"]
    codes = [client.post(PREFIX + "/requests.json", data=_form(intake_key)).status_code for _ in range(7)]
    assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]


def test_bodies_over_the_limit_are_refused_before_parsing(client: Any, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        key = create_api_key(conn, "zalo-bridge", role="triage")
    r = client.post(PREFIX + "/requests.json", data=_form(key, description="x" * 2_000_000))
    assert r.status_code == 413 and r.get_json()[0]["code"] == 413
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0


def test_api_answers_carry_security_headers(client: Any) -> None:
    r = client.get(PREFIX + "/services.json")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
