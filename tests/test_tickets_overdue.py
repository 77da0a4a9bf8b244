"""Overdue tickets raise one alert per owner; it follows the count and clears when none is left."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from alerts.store import list_open_alerts
from ioc.tickets import store
from ioc.tickets.overdue import RULE_ID, overdue_by_owner, sync_overdue_alerts
from ioc.tickets.workflow import Change, Kind
from tests.test_tickets_store import at, new

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def ours(conn: psycopg.Connection) -> dict[str, tuple[bool, float | None, str]]:
    rows = conn.execute(
        "SELECT alert_key, active, value, severity FROM alerts WHERE rule_id = %s AND state <> 'resolved'",
        (RULE_ID,),
    ).fetchall()
    return {k: (a, v, s) for k, a, v, s in rows}


def test_overdue_alerts_per_owner(conn: psycopg.Connection) -> None:
    for i in (1, 2, 3):
        store.create_ticket(conn, new(i), "intake", deadline=at(60))
    store.apply_change(conn, "HP-3", Change(Kind.CLASSIFIED, at(1), "an", category="environment"))
    store.apply_change(conn, "HP-3", Change(Kind.ASSIGNED, at(2), "an", owner_kind="agency", owner_code="so_nn_mt",
                                            owner_name="Sở NN&MT"))  # fmt: skip
    assert sync_overdue_alerts(conn, at(30)) == []  # nothing is late yet
    changed = sync_overdue_alerts(conn, at(120))
    assert len(changed) == 2
    assert ours(conn) == {
        "ticket_overdue:triage-desk": (True, 2.0, "moderate"),
        "ticket_overdue:so_nn_mt": (True, 1.0, "moderate"),
    }
    assert sync_overdue_alerts(conn, at(121)) == []  # no change, no write
    # A day later the agency's ticket is severely late; the desk answers one of its two.
    store.apply_change(conn, "HP-1", Change(Kind.CLASSIFIED, at(200), "an", category="environment"))
    store.apply_change(conn, "HP-1", Change(Kind.ASSIGNED, at(201), "an", owner_kind="ward_committee",
                                            owner_code="ubnd:Phường Lê Chân", owner_name="UBND Phường Lê Chân"))  # fmt: skip
    store.apply_change(conn, "HP-1", Change(Kind.ANSWERED, at(202), "lc", answer="Đã xử lý"))
    sync_overdue_alerts(conn, at(60) + timedelta(days=1, minutes=1))
    assert ours(conn)["ticket_overdue:so_nn_mt"] == (True, 1.0, "severe")
    assert ours(conn)["ticket_overdue:triage-desk"][:2] == (True, 1.0)
    titles = [a.title_vi for a in list_open_alerts(conn)]
    assert "1 phản ánh quá hạn – Sở NN&MT" in titles
    # Everything answered: both alerts are cleared (inactive until an operator resolves them).
    # Later than the day-later step: an update older than the alert's last one is ignored (issue 10).
    def later(minutes: int):
        return at(60) + timedelta(days=1, minutes=minutes)

    for tid in ("HP-2", "HP-3"):
        if tid == "HP-2":
            store.apply_change(conn, tid, Change(Kind.CLASSIFIED, later(10), "an", category="environment"))
            store.apply_change(conn, tid, Change(Kind.ASSIGNED, later(11), "an", owner_kind="agency",
                                                 owner_code="so_nn_mt", owner_name="Sở NN&MT"))  # fmt: skip
        store.apply_change(conn, tid, Change(Kind.ANSWERED, later(20), "so", answer="Xong"))
    assert overdue_by_owner(conn, later(30)) == []
    sync_overdue_alerts(conn, later(30))
    assert {k: v[0] for k, v in ours(conn).items()} == {
        "ticket_overdue:triage-desk": False, "ticket_overdue:so_nn_mt": False}  # fmt: skip
