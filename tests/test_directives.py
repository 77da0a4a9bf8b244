"""Directives: the state machine, deadlines across Tết 2027, escalation and scopes on real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from ioc.directives import store
from ioc.directives import workflow as wf
from ioc.directives.deadlines import DeadlineSpec, add_working_time, deadline_for, escalation_due
from ioc.directives.store import Actor, NewDirective, NotAllowed
from ioc.directives.workflow import Change, EscalationReason, Kind, Priority, Status, TransitionError
from ioc.tickets.calendar import TZ
from tests.directives_util import BEFORE_TET_2027, add_person, two_wards


def test_deadline_in_working_days_skips_the_tet_2027_break() -> None:
    # Wed 3 Feb 10:00 + 3 working days: Thu 4 – Wed 10 Feb are Tết, so Thu 11, Fri 12, Mon 15.
    assert deadline_for(DeadlineSpec(Priority.NORMAL, 3), BEFORE_TET_2027) == datetime(2027, 2, 15, 10, 0, tzinfo=TZ)
    # Urgent ones count clock hours, holiday or not.
    assert deadline_for(DeadlineSpec(Priority.URGENT, 6), BEFORE_TET_2027) == BEFORE_TET_2027 + timedelta(hours=6)
    # 4 working hours from Wed 15:00: 2 h that day, then Tết, then 2 h on Thu 11 Feb from 07:30.
    wed_15 = BEFORE_TET_2027.replace(hour=15)
    assert add_working_time(wed_15, timedelta(hours=4)) == datetime(2027, 2, 11, 9, 30, tzinfo=TZ)
    with pytest.raises(ValueError, match="working days"):
        DeadlineSpec(Priority.NORMAL, 0)


def _created(recipients: tuple[str, ...] = ("A", "B")) -> Change:
    return Change(Kind.CREATED, BEFORE_TET_2027, "lan", recipients=recipients,
                  deadline=BEFORE_TET_2027 + timedelta(days=12), ack_due=BEFORE_TET_2027 + timedelta(hours=4))  # fmt: skip


def test_workflow_rules_and_replay() -> None:
    t = BEFORE_TET_2027
    s = wf.start(_created())
    with pytest.raises(TransitionError, match="'reported' to 'A' in status 'sent'"):
        wf.apply(s, Change(Kind.REPORTED, t, "w", recipient="A", note="xong"))
    with pytest.raises(TransitionError, match="not a recipient"):
        wf.apply(s, Change(Kind.ACKNOWLEDGED, t, "w", recipient="C"))
    changes = [
        _created(),
        Change(Kind.ACKNOWLEDGED, t + timedelta(hours=1), "wa", recipient="A"),
        Change(Kind.EXTENSION_REQUESTED, t + timedelta(hours=2), "wa", recipient="A", note="chờ Tết",
               deadline=t + timedelta(days=20)),
        Change(Kind.EXTENSION_GRANTED, t + timedelta(hours=3), "lan", recipient="A"),
        Change(Kind.REPORTED, t + timedelta(days=15), "wa", recipient="A", note="đã xử lý"),
        Change(Kind.ACCEPTED, t + timedelta(days=16), "lan", recipient="A"),
    ]  # fmt: skip
    s = wf.replay(changes)
    a = s.assignment("A")
    # Reported after the first deadline but before the granted one: on time against the new deadline.
    assert a.status is Status.ACCEPTED and a.on_time is True and a.deadline == t + timedelta(days=20)
    assert not s.closed  # B is still open
    s = wf.apply(s, Change(Kind.CANCELLED, t + timedelta(days=17), "lan", note="không còn cần"))
    assert s.closed and s.assignment("A").status is Status.ACCEPTED and s.assignment("B").status is Status.CANCELLED


def test_escalation_levels() -> None:
    s = wf.start(Change(Kind.CREATED, BEFORE_TET_2027, "lan", recipients=("A",),
                        deadline=BEFORE_TET_2027 + timedelta(hours=3), ack_due=BEFORE_TET_2027 + timedelta(hours=1)))  # fmt: skip
    a = s.assignment("A")
    t = BEFORE_TET_2027
    assert escalation_due(a, Priority.URGENT, t + timedelta(minutes=59)) is None
    assert escalation_due(a, Priority.URGENT, t + timedelta(minutes=61)) == (1, EscalationReason.NOT_ACKNOWLEDGED)
    assert escalation_due(a, Priority.URGENT, t + timedelta(minutes=121)) == (2, EscalationReason.NOT_ACKNOWLEDGED)
    acked = wf.apply(s, Change(Kind.ACKNOWLEDGED, t + timedelta(minutes=70), "w", recipient="A")).assignment("A")
    assert escalation_due(acked, Priority.URGENT, t + timedelta(minutes=150)) is None
    assert escalation_due(acked, Priority.URGENT, t + timedelta(minutes=181)) == (1, EscalationReason.OVERDUE)


# --- on PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def _leader(conn: psycopg.Connection) -> Actor:
    return add_person(conn, "lan", "leader")


@pytest.mark.integration
def test_lifecycle_across_tet_with_audit_and_replay(conn: psycopg.Connection) -> None:
    w1, w2 = two_wards()
    leader = _leader(conn)
    a1 = add_person(conn, "phuong1", "ward", w1)
    a2 = add_person(conn, "phuong2", "ward", w2)
    t = BEFORE_TET_2027
    new = NewDirective("Khơi thông cống thoát nước trước mưa lớn", "Kiểm tra, nạo vét các cống trên địa bàn.",
                       Priority.NORMAL, 3, (w1, w2), about_kind="unit", about_id=w1.removeprefix("XA-"))  # fmt: skip
    did = store.create_directive(conn, new, leader, t)
    rows = store.assignments(conn, did)
    assert {r.recipient_code for r in rows} == {w1, w2}
    assert all(r.deadline == datetime(2027, 2, 15, 10, 0, tzinfo=TZ) for r in rows)  # across Tết
    assert all(r.ack_due == datetime(2027, 2, 3, 14, 0, tzinfo=TZ) for r in rows)

    def go(actor: Actor, kind: Kind, at: datetime, recipient: str | None, **kw: object) -> None:
        store.act(conn, did, Change(kind, at, actor.username, recipient=recipient, **kw), actor)  # type: ignore[arg-type]

    with pytest.raises(NotAllowed, match="does not act for"):
        go(a1, Kind.ACKNOWLEDGED, t + timedelta(minutes=5), w2)  # a ward cannot act for another
    with pytest.raises(NotAllowed, match="may not accepted"):
        go(a1, Kind.ACCEPTED, t + timedelta(minutes=5), w1)
    go(a1, Kind.ACKNOWLEDGED, t + timedelta(minutes=20), w1)
    go(a2, Kind.ACKNOWLEDGED, t + timedelta(minutes=40), w2)
    go(a1, Kind.PROGRESS, t + timedelta(hours=2), w1, note="Đã nạo vét 3/5 tuyến cống")
    go(a2, Kind.EXTENSION_REQUESTED, t + timedelta(hours=3), w2, note="Nhân lực nghỉ Tết",
       deadline=datetime(2027, 2, 17, 10, 0, tzinfo=TZ))
    go(leader, Kind.EXTENSION_GRANTED, t + timedelta(hours=4), w2)
    go(a1, Kind.REPORTED, datetime(2027, 2, 12, 9, 0, tzinfo=TZ), w1, note="Hoàn thành 5/5 tuyến")
    go(leader, Kind.RETURNED, datetime(2027, 2, 12, 11, 0, tzinfo=TZ), w1, note="Thiếu ảnh hiện trường")
    go(a1, Kind.REPORTED, datetime(2027, 2, 15, 9, 30, tzinfo=TZ), w1, note="Bổ sung ảnh, hoàn thành")
    go(leader, Kind.ACCEPTED, datetime(2027, 2, 15, 14, 0, tzinfo=TZ), w1)
    go(a2, Kind.REPORTED, datetime(2027, 2, 16, 16, 0, tzinfo=TZ), w2, note="Hoàn thành")  # after 15/2, before 17/2
    go(leader, Kind.ACCEPTED, datetime(2027, 2, 17, 8, 0, tzinfo=TZ), w2)
    by = {r.recipient_code: r for r in store.assignments(conn, did)}
    assert by[w1].status == "accepted" and by[w1].on_time is True
    assert by[w2].on_time is True and by[w2].deadline == datetime(2027, 2, 17, 10, 0, tzinfo=TZ)
    assert store.get_directive(conn, did).closed
    assert store.replayed(conn, did) == store.projected(conn, did)
    kinds = [e.kind for e in store.history(conn, did)]
    assert kinds.count("reported") == 3 and kinds[0] == "created" and len(kinds) == 12
    n = conn.execute("SELECT count(*) FROM audit_log WHERE target = %s AND action LIKE 'directive.%%'",
                     (f"directive:{did}",)).fetchone()[0]  # fmt: skip
    assert n == len(kinds)  # every step audited, in the same transaction


@pytest.mark.integration
def test_a_ward_sees_only_what_is_addressed_to_it(conn: psycopg.Connection) -> None:
    w1, w2 = two_wards()
    leader = _leader(conn)
    a1 = add_person(conn, "phuong1", "ward", w1)
    t = datetime.now(TZ)
    both = store.create_directive(conn, NewDirective("Cả hai", "…", Priority.URGENT, 4, (w1, w2)), leader, t)
    only2 = store.create_directive(conn, NewDirective("Chỉ phường 2", "…", Priority.URGENT, 4, (w2,)), leader, t)
    scope = a1.read_scope()
    assert scope == frozenset({w1})
    rows = store.board(conn, t, scope=scope)
    assert [(r.directive_id, r.recipient_code) for r in rows] == [(both, w1)]
    assert len(store.board(conn, t, scope=None)) == 3  # the leader sees every assignment
    with pytest.raises(store.DirectiveNotFound):
        store.get_directive(conn, only2, scope)
    assert [r.recipient_code for r in store.assignments(conn, both, scope)] == [w1]
    store.act(conn, both, Change(Kind.ACKNOWLEDGED, t, "phuong1", recipient=w1), a1)
    a2 = add_person(conn, "phuong2", "ward", w2)
    store.act(conn, both, Change(Kind.ACKNOWLEDGED, t, "phuong2", recipient=w2), a2)
    seen = {(e.kind, e.recipient_code) for e in store.history(conn, both, scope)}
    assert seen == {("created", None), ("acknowledged", w1)}  # not the other ward's steps
    assert store.board_counts(conn, t, scope).by_status[0] == ("sent", 0)
    assert dict(store.board_counts(conn, t, None).by_status)["sent"] == 1


@pytest.mark.integration
def test_escalation_to_head_then_standing_office_with_deliveries(conn: psycopg.Connection) -> None:
    w1, _ = two_wards()
    leader = _leader(conn)
    store.add_channel(conn, w1, "email", "vanthu@phuong1.haiphong.gov.vn")
    store.add_channel(conn, w1, "email", "chutich@phuong1.haiphong.gov.vn", audience="head")
    store.add_channel(conn, "VPUBND", "email", "vp@haiphong.gov.vn")
    t = datetime(2026, 9, 14, 9, 0, tzinfo=TZ)
    did = store.create_directive(conn, NewDirective("Ứng phó ngập", "…", Priority.URGENT, 2, (w1,)), leader, t)
    assert store.escalate_due(conn, t + timedelta(minutes=50)) == []
    first = store.escalate_due(conn, t + timedelta(minutes=65))
    assert [(e.level, e.reason) for e in first] == [(1, EscalationReason.NOT_ACKNOWLEDGED)]
    assert store.escalate_due(conn, t + timedelta(minutes=70)) == []  # already at level 1
    second = store.escalate_due(conn, t + timedelta(minutes=125))
    assert [(e.level, e.reason) for e in second] == [(2, EscalationReason.NOT_ACKNOWLEDGED)]
    to = [(d.event_seq, d.recipient_code, d.address) for d in store.deliveries(conn, did)]
    assert to == [(1, w1, "vanthu@phuong1.haiphong.gov.vn"), (2, w1, "chutich@phuong1.haiphong.gov.vn"),
                  (3, "VPUBND", "vp@haiphong.gov.vn")]  # fmt: skip
    assert store.board_counts(conn, t + timedelta(minutes=125)).escalated == 1
    # A recipient's own scope does not reveal the standing office's copy.
    assert [d.recipient_code for d in store.deliveries(conn, did, frozenset({w1}))] == [w1, w1]
