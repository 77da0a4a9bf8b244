"""Triage and transparency pages: builders without a browser, callbacks on a real database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder

from ioc.accounts import add_user, principal_for
from ioc.tickets import store
from ioc.tickets.categories import load_catalog
from ioc.tickets.i18n import MESSAGES
from ioc.tickets.privacy import ReporterView
from ioc.tickets.store import QueueRow, Scope, Viewer
from ioc.tickets.workflow import Change, Kind
from ioc.web import tickets_views as views
from ioc.web.pages import triage_ids as tid
from tests.test_tickets_store import at, new
from tests.webclient import PASSWORD, login, sign_in

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 local


def as_json(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


def qrow(
    i: int, deadline: datetime | None, status: str = "received", text: str = "Ngập, gọi 0912 345 678"
) -> QueueRow:
    return QueueRow(
        f"HP-{i}",
        NOW - timedelta(hours=1),
        status,
        None,
        False,
        "environment",
        0.62,
        "Phường Lê Chân",
        None,
        None,
        deadline,
        text,
        None,
        False,
    )


def test_message_catalogues_have_the_same_keys() -> None:
    assert MESSAGES["vi"].keys() == MESSAGES["en"].keys()


def test_queue_marks_overdue_and_hides_phones_from_non_triage() -> None:
    rows = [qrow(1, NOW - timedelta(hours=2)), qrow(2, NOW + timedelta(hours=3))]
    cat = load_catalog()
    leader = as_json(
        views.queue_table(
            rows, now=NOW, lang="vi", viewer=Viewer("lan", "leader"), catalog=cat, selected="HP-2"
        )
    )
    assert "0912" not in leader and "[số điện thoại]" in leader
    assert "quá hạn 2 giờ 00 phút" in leader and "còn 3 giờ 00 phút" in leader
    assert "gợi ý Môi trường (62%)" in leader
    table = views.queue_table(rows, now=NOW, lang="en", viewer=Viewer("an", "triage"), catalog=cat)
    staff = as_json(table)
    assert "0912 345 678" in staff  # triage staff read the report as written
    body = table.children[1].children[1].children
    assert "ioc-overdue" in body[0].className and "ioc-overdue" not in body[1].className
    assert body[0].id == tid.queue_row("HP-1")


def test_time_left_counts_working_hours_only() -> None:
    friday_16 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    monday_9 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    # Fri 16:00 → Mon 09:00 is one working hour on Friday plus 1 h 30 on Monday.
    assert views.time_left(monday_9, "assigned", friday_16) == timedelta(hours=2, minutes=30)
    assert views.time_left(monday_9, "answered", friday_16) is None


def ticket_row(**kw: Any) -> store.TicketRow:
    base = dict(
        ticket_id="HP-1",
        received_at=NOW,
        source_event_id=None,
        channel="app",
        text="Ngập sâu, gọi tôi 0912 345 678 – Trần Thị Bình",
        lon=106.68,
        lat=20.85,
        admin_unit="Phường Lê Chân",
        photo_urls=["data:image/gif;base64,R0lGODlhAQABAAAAACw="],
        reporter_name="Trần Thị Bình",
        reporter_phone="0912345678",
        status="assigned",
        category="environment",
        category_confirmed=True,
        suggested_category="environment",
        suggested_confidence=0.9,
        owner_kind="ward_committee",
        owner_code="ubnd:Phường Lê Chân",
        owner_name="UBND Phường Lê Chân",
        deadline=NOW + timedelta(hours=4),
        first_answered_at=None,
        answered_at=None,
        answered_on_time=None,
        answer=None,
        closed_at=None,
        verdict=None,
        merged_into=None,
        duplicate_of="HP-0",
        published=False,
        version=3,
        updated_at=NOW,
    )
    base.update(kw)
    return store.TicketRow(**base)  # type: ignore[arg-type]


def test_detail_for_a_leader_has_no_personal_data() -> None:
    t = ticket_row()
    masked = ReporterView("Trần T. B.", "09******78", masked=True)
    out = as_json(
        views.detail_view(
            t, [], masked, viewer=Viewer("lan", "leader"), now=NOW, lang="vi", catalog=load_catalog()
        )
    )
    assert "0912" not in out and "Trần Thị Bình" not in out and "09******78" in out
    assert "Có thể trùng với HP-0" in out and "data:image/gif" in out


@pytest.mark.parametrize(
    ("viewer", "status", "expected"),
    [
        (Viewer("an", "triage"), "assigned", {"confirm", "assign", "start", "answer", "merge"}),
        (Viewer("an", "triage"), "answered", {"publish", "verdict"}),
        (Viewer("lan", "leader"), "assigned", set()),
        (Viewer("vh", "operator"), "assigned", set()),  # operators read tickets
        (Viewer("lc", "ward", (Scope("ward", "Phường Lê Chân"),)), "assigned", {"start", "answer"}),
        (Viewer("nq", "ward", (Scope("ward", "Phường Ngô Quyền"),)), "assigned", set()),
        (Viewer("so", "department", (Scope("agency", "so_xay_dung"),)), "answered", set()),
        (Viewer("lc2", "ward"), "assigned", set()),  # a ward account without a scope sees nothing
    ],
)
def test_allowed_actions(viewer: Viewer, status: str, expected: set[str]) -> None:
    assert views.allowed_actions(viewer, ticket_row(status=status)) == expected


def test_allowed_actions_no_second_publication() -> None:
    assert "publish" not in views.allowed_actions(
        Viewer("an", "triage"), ticket_row(status="closed", published=True)
    )


def page_module(path: str) -> Any:
    """The page module as Dash loaded it (importing it again would register the page twice)."""
    (name,) = [p["module"] for p in dash.page_registry.values() if p["path"] == path]
    return sys.modules[name]


@pytest.fixture
def app(stack) -> Iterator[Any]:  # noqa: ANN001
    from ioc.web.app import create_app

    a = create_app(stack.settings, start=False)
    yield a
    a.server.extensions["ioc"]["pool"].close()


@pytest.mark.integration
def test_pages_and_callbacks_on_a_real_database(app: Any, pg_dsn: str) -> None:
    triage = page_module("/triage")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        add_user(conn, "an", PASSWORD, "triage")
        add_user(conn, "lan", PASSWORD, "leader")
        add_user(conn, "tuong", PASSWORD, "display")
        add_user(conn, "lechan", PASSWORD, "ward")
        store.add_scope(conn, "lechan", "ward", "Phường Ngô Quyền", actor="test")
        store.create_ticket(conn, new(1), "intake", deadline=at(60))
        store.create_ticket(conn, new(2), "intake", deadline=at(30))
    client = app.server.test_client()
    assert login(client, "an", next_path="/triage").status_code in (302, 303)
    assert client.get("/triage").status_code == 200
    server = app.server

    def run(user: str, role: str, fn: Any, *args: Any) -> Any:
        with psycopg.connect(pg_dsn) as conn:
            principal = principal_for(conn, user)
        assert principal is not None and principal.role.value == role
        with server.test_request_context("/triage"):
            sign_in(principal)
            return fn(*args)

    page = as_json(run("an", "triage", triage.layout))  # the full page builds for staff …
    assert tid.TRIAGE_CONFIRM in page and '"accessKey": "c"' in page and "Phường Lê Chân" in page
    assert "0912" not in as_json(run("lan", "leader", triage.layout))  # … and for leaders, without phones
    queue = run("an", "triage", triage.refresh_queue, None, None, None, None, False, 0, 0, None)
    ids = [r.id["ticket"] for r in queue.children[1].children[1].children]
    assert ids == ["HP-2", "HP-1"]  # least time left first
    out = run("an", "triage", triage.show_detail, "HP-1", 0)
    assert "0912345678" in as_json(out[0])  # triage staff: unmasked …
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM audit_log WHERE action = 'ticket.reporter_viewed' AND actor = 'an'"
            ).fetchone()[0]
            == 1
        )  # … and audited
    disabled = dict(
        zip(
            ["confirm", "assign", "start", "answer", "merge", "publish", "agree", "disagree"],
            out[8:],
            strict=True,
        )
    )
    assert disabled == {
        "confirm": False,
        "assign": True,
        "start": True,
        "answer": True,
        "merge": False,
        "publish": True,
        "agree": True,
        "disagree": True,
    }
    leader = run("lan", "leader", triage.show_detail, "HP-1", 0)
    assert "0912" not in as_json(leader[0]) and all(leader[8:])
    with pytest.raises(
        PreventUpdate
    ):  # the wall's display account cannot read the queue by posting callbacks
        run("tuong", "display", triage.refresh_queue, None, None, None, None, False, 0, 0, None)
    # A ward user of another ward sees none of these and cannot open them by id.
    empty = run("lechan", "ward", triage.refresh_queue, None, None, None, None, False, 0, 0, None)
    assert "HP-1" not in as_json(empty)
    assert "0912" not in as_json(run("lechan", "ward", triage.show_detail, "HP-1", 0)[0])
    # Publication: only de-identified text reaches the transparency page.
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        store.apply_change(conn, "HP-1", Change(Kind.CLASSIFIED, at(1), "an", category="environment"))
        store.apply_change(
            conn,
            "HP-1",
            Change(
                Kind.ASSIGNED, at(2), "an", owner_kind="agency", owner_code="so_nn_mt", owner_name="Sở NN&MT"
            ),
        )
        store.apply_change(
            conn, "HP-1", Change(Kind.ANSWERED, at(3), "so", answer="Đã gọi 0912345678, xong.")
        )
        store.apply_change(conn, "HP-1", Change(Kind.PUBLISHED, at(4), "an"))
    page = app.server.test_client().get("/transparency").get_data(as_text=True)  # public, no login
    assert "Đã gọi [số điện thoại], xong." in page and "0912" not in page
