"""Ticket repository and intake on a real PostgreSQL (fresh database per test, schema migrated)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ioc.tickets import store
from ioc.tickets.calendar import default_calendar
from ioc.tickets.categories import load_catalog
from ioc.tickets.classifier import default_classifier
from ioc.tickets.intake import Intake
from ioc.tickets.routing import RoutingTable
from ioc.tickets.store import NewTicket, QueueFilter, Scope, Viewer
from ioc.tickets.workflow import Change, Kind, Status, TransitionError, replay
from tests.tickets_util import report, store_feedback

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hải Phòng


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def new(i: int, **kw: object) -> NewTicket:
    base = dict(
        ticket_id=f"HP-{i}",
        received_at=T0 + timedelta(minutes=i),
        channel="app",
        text=f"Phản ánh số {i}, gọi 0912 345 678",
        lon=106.68,
        lat=20.85,
        admin_unit="Phường Lê Chân",
        reporter_name="Trần Thị Bình",
        reporter_phone="0912345678",
    )
    base.update(kw)
    return NewTicket(**base)  # type: ignore[arg-type]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_projection_equals_history_for_random_workloads(conn: psycopg.Connection) -> None:
    rng = random.Random(3)
    for i in range(25):
        store.create_ticket(conn, new(i), "intake", deadline=at(600 + i * 7))
    owners = [("agency", "so_xay_dung"), ("ward_committee", "ubnd:Phường Lê Chân")]
    rejected = 0
    for step in range(300):
        tid = f"HP-{rng.randrange(25)}"
        kind = rng.choice(
            [
                Kind.CLASSIFIED,
                Kind.ASSIGNED,
                Kind.STARTED,
                Kind.ANSWERED,
                Kind.VERDICT,
                Kind.CLOSED,
                Kind.REOPENED,
                Kind.MERGED,
                Kind.PUBLISHED,
                Kind.NOTE,
            ]
        )
        owner = rng.choice(owners)
        change = Change(
            kind,
            at(1000 + step),
            "lan",
            category=rng.choice(["traffic", "environment"]),
            owner_kind=owner[0],
            owner_code=owner[1],
            reason="đúng thẩm quyền",
            answer="Đã xử lý",
            verdict=rng.choice(["agree", "disagree"]),
            merged_into=f"HP-{rng.randrange(25)}",
        )
        try:
            store.apply_change(conn, tid, change)
        except (TransitionError, ValueError, store.TicketNotFound):
            rejected += 1
    assert 0 < rejected < 300
    counts = store.status_counts(conn)
    assert counts == store.history_status_counts(conn)
    assert sum(counts.values()) == 25 and len(counts) >= 4
    for i in range(25):
        row = store.require_ticket(conn, f"HP-{i}")
        events = store.history(conn, row.ticket_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert replay(e.change() for e in events) == row.state()
    # Every change is in the audit log with who and what.
    n_events = conn.execute("SELECT count(*) FROM ticket_events").fetchone()[0]
    n_audit = conn.execute("SELECT count(*) FROM audit_log WHERE action LIKE 'ticket.%'").fetchone()[0]
    assert n_audit == n_events


def test_rejected_change_leaves_no_trace(conn: psycopg.Connection) -> None:
    store.create_ticket(conn, new(1), "intake")
    with pytest.raises(TransitionError, match="'answered'.*'received'"):
        store.apply_change(conn, "HP-1", Change(Kind.ANSWERED, at(5), "lan", answer="x"))
    assert len(store.history(conn, "HP-1")) == 1
    assert store.require_ticket(conn, "HP-1").version == 1
    with pytest.raises(store.TicketNotFound, match="'HP-404'"):
        store.apply_change(conn, "HP-404", Change(Kind.NOTE, at(5), "lan"))
    assert store.create_ticket(conn, new(1), "intake") is None  # same id twice: nothing new


def test_assigning_to_an_owner_that_does_not_exist_is_refused(conn: psycopg.Connection) -> None:
    """Issue 11, item 10: an agency or ward committee that is not in the routing table or the unit
    registry is refused, and nothing is written; a known one is stored under its canonical code."""
    store.create_ticket(conn, new(1), "intake")
    store.apply_change(conn, "HP-1", Change(Kind.CLASSIFIED, at(1), "an", category="environment"))
    for kind, code in (("agency", "so_khong_co"), ("ward_committee", "ubnd:Phường Không Có"), ("agency", "")):
        with pytest.raises(LookupError, match="no owner"):
            store.apply_change(conn, "HP-1", Change(Kind.ASSIGNED, at(2), "an", owner_kind=kind, owner_code=code,
                                                    owner_name="x"))  # fmt: skip
    assert [e.kind for e in store.history(conn, "HP-1")] == ["received", "classified"]
    row = store.apply_change(conn, "HP-1", Change(Kind.ASSIGNED, at(3), "an", owner_kind="agency",
                                                  owner_code="so_nn_mt", owner_name=None))  # fmt: skip
    assert row.owner_code == "so_nn_mt" and row.owner_name  # the owner's own name when none is given


def test_merge_keeps_both_reporters_and_refuses_chains(conn: psycopg.Connection) -> None:
    for i in (1, 2, 3):
        store.create_ticket(conn, new(i), "intake")
    store.apply_change(conn, "HP-2", Change(Kind.MERGED, at(10), "lan", merged_into="HP-1"))
    assert store.merged_into(conn, "HP-1") == ["HP-2"]
    dup = store.require_ticket(conn, "HP-2")
    assert dup.status == "merged" and dup.reporter_phone == "0912345678"  # the reporter is kept
    with pytest.raises(TransitionError, match="itself merged into 'HP-1'"):
        store.apply_change(conn, "HP-3", Change(Kind.MERGED, at(11), "lan", merged_into="HP-2"))
    with pytest.raises(ValueError, match="into itself"):
        store.apply_change(conn, "HP-3", Change(Kind.MERGED, at(11), "lan", merged_into="HP-3"))


def _answered(conn: psycopg.Connection, i: int, answer_at: int = 60) -> None:
    store.create_ticket(conn, new(i), "intake", deadline=at(120))
    store.apply_change(conn, f"HP-{i}", Change(Kind.CLASSIFIED, at(2), "lan", category="environment"))
    store.apply_change(
        conn,
        f"HP-{i}",
        Change(
            Kind.ASSIGNED, at(3), "lan", owner_kind="agency", owner_code="so_nn_mt", owner_name="Sở NN&MT"
        ),
    )
    store.apply_change(
        conn,
        f"HP-{i}",
        Change(
            Kind.ANSWERED,
            at(answer_at),
            "so1",
            answer="Đã liên hệ chị Trần Thị Bình (0912345678), đã thu gom.",
        ),
    )


def test_verdicts_and_publication_without_personal_data(conn: psycopg.Connection) -> None:
    _answered(conn, 1)
    store.apply_change(
        conn, "HP-1", Change(Kind.VERDICT, at(70), "citizen", verdict="disagree", comment="Chưa")
    )
    row = store.require_ticket(conn, "HP-1")
    assert row.status == Status.REOPENED and row.answered_on_time is True
    store.apply_change(conn, "HP-1", Change(Kind.ANSWERED, at(200), "so1", answer="Đã xử lý lần 2."))
    store.apply_change(conn, "HP-1", Change(Kind.VERDICT, at(210), "citizen", verdict="agree"))
    verdicts = conn.execute(
        "SELECT verdict FROM ticket_verdicts WHERE ticket_id = 'HP-1' ORDER BY at"
    ).fetchall()
    assert [v[0] for v in verdicts] == ["disagree", "agree"]
    _answered(conn, 2)
    store.apply_change(conn, "HP-2", Change(Kind.PUBLISHED, at(80), "lan"))
    (pub,) = store.publications(conn)
    assert pub.ticket_id == "HP-2"
    for text in (pub.text, pub.answer):
        assert "0912" not in text and "345" not in text and "Trần Thị Bình" not in text
    with pytest.raises(TransitionError, match="'published'.*'received'"):
        store.create_ticket(conn, new(3), "intake")
        store.apply_change(conn, "HP-3", Change(Kind.PUBLISHED, at(80), "lan"))


def test_queue_sorted_by_time_left_filtered_and_scoped(conn: psycopg.Connection) -> None:
    deadlines = {1: 300, 2: 100, 3: 200, 4: 50}
    for i, d in deadlines.items():
        store.create_ticket(
            conn,
            new(i, admin_unit="Phường Lê Chân" if i != 3 else "Phường Ngô Quyền"),
            "intake",
            deadline=at(d),
        )
    store.apply_change(conn, "HP-1", Change(Kind.CLASSIFIED, at(5), "lan", category="urban_order"))
    store.apply_change(
        conn,
        "HP-1",
        Change(Kind.ASSIGNED, at(6), "lan", owner_kind="ward_committee", owner_code="ubnd:Phường Lê Chân"),
    )
    store.apply_change(conn, "HP-3", Change(Kind.CLASSIFIED, at(5), "lan", category="urban_order"))
    store.apply_change(
        conn,
        "HP-3",
        Change(Kind.ASSIGNED, at(6), "lan", owner_kind="ward_committee", owner_code="ubnd:Phường Ngô Quyền"),
    )
    staff = Viewer("lan", "triage")
    rows = store.queue(conn, staff, QueueFilter(), now=at(150))
    assert [r.ticket_id for r in rows] == ["HP-4", "HP-2", "HP-3", "HP-1"]
    overdue = store.queue(conn, staff, QueueFilter(overdue_only=True), now=at(150))
    assert [r.ticket_id for r in overdue] == ["HP-4", "HP-2"]
    assert [r.ticket_id for r in store.overdue_tickets(conn, at(150))] == ["HP-4", "HP-2"]
    assert store.confirmed_labels(conn) == [
        ("Phản ánh số 1, gọi 0912 345 678", "urban_order"),
        ("Phản ánh số 3, gọi 0912 345 678", "urban_order"),
    ]
    assert [
        r.ticket_id for r in store.queue(conn, staff, QueueFilter(units=("Phường Ngô Quyền",)), at(0))
    ] == ["HP-3"]
    top = store.queue(conn, staff, QueueFilter(limit=2), now=at(150))
    assert [r.ticket_id for r in top] == ["HP-4", "HP-2"] and {r.total for r in top} == {4}
    ward = Viewer("lechan", "ward", (Scope("ward", "Phường  Lê Chân"),))
    mine = store.queue(conn, ward, QueueFilter(), now=at(0))
    assert [r.ticket_id for r in mine] == ["HP-4", "HP-2", "HP-1"]  # its unit's tickets, not HP-3 …
    assert [r.ticket_id for r in mine if ward.can_act(r)] == ["HP-1"]  # … and it acts on the one it owns
    with pytest.raises(ValueError, match="'lost'"):
        QueueFilter(statuses=("lost",))


@pytest.fixture(scope="module")
def classifier():  # noqa: ANN201 - the project's default model (trained once, cached on disk)
    return default_classifier()


def intake_with(classifier, threshold: float) -> Intake:  # noqa: ANN001
    catalog = load_catalog()
    routing = RoutingTable.load(catalog=catalog)
    routing = RoutingTable(routing.rules, routing.agencies, threshold, {}, catalog)
    return Intake(classifier, routing, catalog, default_calendar())


def test_intake_creates_routes_deduplicates_once(conn: psycopg.Connection, classifier) -> None:  # noqa: ANN001
    t = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # Friday 15:00 local
    store_feedback(
        conn, report("HP-A", "Rác thải đổ trộm ở đầu ngõ 12 bốc mùi hôi thối", t), "Phường Lê Chân"
    )
    store_feedback(
        conn,
        report("HP-B", "Rác thải đổ trộm đầu ngõ 12 bốc mùi quá", t + timedelta(hours=1), lat=20.8561),
        "Phường Lê Chân",
    )
    store_feedback(conn, report("HP-C", "Đèn đường phố Cầu Đất tắt cả tuần nay", t, lat=20.9), None)
    intake = intake_with(classifier, threshold=0.01)
    assert intake.once(conn) == 3
    assert intake.once(conn) == 0  # processed events are never taken twice
    a, b, c = (store.require_ticket(conn, x) for x in ("HP-A", "HP-B", "HP-C"))
    assert a.status == "assigned" and a.category == "environment" and not a.category_confirmed
    assert a.owner_code == "so_nn_mt"
    assert b.duplicate_of == "HP-A"
    assert c.status == "received" and c.suggested_category == "utilities"  # no unit: waits for a person
    # Friday 15:00 + 3 working days (on-site class); Tue 24/11 is Ngày Văn hóa Việt Nam → Thu 15:00.
    assert a.deadline == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    store_feedback(
        conn,
        report("HP-A", "Bổ sung: rác đã tràn ra đường", t + timedelta(hours=2), action="updated"),
        "Phường Lê Chân",
    )
    assert intake.once(conn) == 1
    assert store.history(conn, "HP-A")[-1].details["text"] == "Bổ sung: rác đã tràn ra đường"


def test_intake_below_threshold_waits_in_queue(conn: psycopg.Connection, classifier) -> None:  # noqa: ANN001
    store_feedback(conn, report("HP-Q", "Đèn đường phố Cầu Đất tắt cả tuần nay", T0), "Phường Lê Chân")
    assert intake_with(classifier, threshold=1.0).once(conn) == 1
    row = store.require_ticket(conn, "HP-Q")
    assert row.status == "received" and row.owner_code is None and row.suggested_confidence is not None
    assert [r.ticket_id for r in store.queue(conn, Viewer("lan", "triage"), QueueFilter(), T0)] == ["HP-Q"]


def test_run_intake_loop_picks_up_new_events_and_stops(stack, conn: psycopg.Connection) -> None:  # noqa: ANN001
    import threading

    from ioc.services.proc import wait_until
    from ioc.tickets.intake import run_intake

    stop = threading.Event()
    worker = threading.Thread(target=run_intake, args=(stack.settings, stop), kwargs={"poll_seconds": 0.2})
    worker.start()
    try:
        store_feedback(conn, report("HP-L", "Lấn chiếm vỉa hè bán hàng ở chợ Cát Bi", T0), "11311")
        wait_until(lambda: store.get_ticket(conn, "HP-L") is not None, 120, "the loop made the ticket")
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    row = store.require_ticket(conn, "HP-L")
    assert row.admin_unit is not None and not row.admin_unit.isdigit()  # the unit code became its name


def test_a_bad_event_is_recorded_and_does_not_block_the_rest(conn: psycopg.Connection, classifier) -> None:  # noqa: ANN001
    good = report("HP-G", "Đèn đường phố Cầu Đất tắt cả tuần nay", T0)
    bad = report("HP-E", "x", T0)
    store_feedback(conn, bad, "Phường Lê Chân")
    conn.execute(
        "UPDATE feedback_events SET text = '   ' WHERE ticket_id = 'HP-E'"
    )  # the spine never stores this
    store_feedback(conn, good, "Phường Lê Chân")
    intake = intake_with(classifier, threshold=1.0)
    assert intake.once(conn) == 2 and intake.once(conn) == 0
    assert store.get_ticket(conn, "HP-E") is None and store.get_ticket(conn, "HP-G") is not None
    (error,) = conn.execute("SELECT error FROM ticket_intake_done WHERE ticket_id = 'HP-E'").fetchone()
    assert error.startswith("ValueError") and "non-empty" in error
