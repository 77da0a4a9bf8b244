"""The triage desk in a real browser: reports through the spine, cleared from the keyboard and mouse;
and a leader never sees a reporter's phone number, on any page or in the CSV export."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ioc import accounts
from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.sources.feedback import FeedbackEvent
from ioc.tickets import store
from ioc.tickets.calendar import default_calendar
from ioc.tickets.categories import load_catalog
from ioc.tickets.classifier import default_classifier
from ioc.tickets.intake import Intake
from ioc.tickets.routing import RoutingTable
from ioc.web import ids
from ioc.web.app import create_app
from ioc.web.pages import triage_ids as tid
from tests.e2e.conftest import log_in, shot, watch
from tests.streamutil import produce_events, table_counts
from tests.webclient import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PHONES = ("0912 345 678", "0987.654.321", "0909123456")
REPORTS = (
    "Rác thải đổ trộm ở đầu ngõ 12 Hai Bà Trưng bốc mùi hôi thối, đề nghị thu gom. SĐT 0909123456",
    "Ổ gà lớn giữa đường Tô Hiệu, xe máy ngã liên tục",
    "Đèn đường phố Cầu Đất tắt cả tuần nay, tối đi rất nguy hiểm",
)
# Digit runs of every planted phone number: none may appear in a leader's HTML or export.
PHONE_DIGITS = tuple(re.sub(r"\D", "", p) for p in PHONES)


def digits_leak(html: str) -> list[str]:
    flat = re.sub(r"[\s.\-]", "", html)
    return [p for p in PHONE_DIGITS if p in flat or p[1:] in flat]


@dataclass
class Desk:
    base: str
    ticket_ids: tuple[str, ...]


@pytest.fixture(scope="module")
def desk(e2e_stack: Stack) -> Iterator[Desk]:
    stack = e2e_stack
    now = datetime.now(UTC)
    events = [
        FeedbackEvent(
            event_id=uuid.uuid4(), source_id="hps-app", event_time=now - timedelta(minutes=30 - i),
            ticket_id=f"E2E-{i}", text=text, lon=106.6822 + i * 0.01, lat=20.8560 + i * 0.005,
            reporter_name="Nguyễn Văn An", reporter_phone=PHONES[i], photo_urls=(),
        )
        for i, text in enumerate(REPORTS)
    ]  # fmt: skip
    produce_events(stack.settings.kafka_bootstrap or "", stack.settings.topic_prefix, events)  # type: ignore[arg-type]
    stack.start_consumers()
    dsn = stack.settings.database_dsn()
    wait_until(lambda: table_counts(dsn)["feedback_events"] >= len(events), 120, "feedback events stored")
    catalog = load_catalog()
    table = RoutingTable.load(catalog=catalog)
    # Threshold 1.0: nothing is routed automatically, so staff must classify and assign every report.
    intake = Intake(default_classifier(), RoutingTable(table.rules, table.agencies, 1.0, {}, catalog), catalog,
                    default_calendar())  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert intake.once(conn) == len(events)
        accounts.add_user(conn, "an", PASSWORD, "triage", "Lê Văn An")
        accounts.add_user(conn, "lan", PASSWORD, "leader", "Nguyễn Thị Lan")
    from waitress import create_server

    app = create_app(stack.settings.model_copy(update={"refresh_seconds": 1.0}))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Desk(f"http://127.0.0.1:{server.effective_port}", tuple(e.ticket_id for e in events))  # type: ignore[union-attr]
    finally:
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


def _selected(page: Any) -> str:
    return str(page.locator(".ioc-triage-row.active td").first.inner_text())


def test_leader_never_sees_a_phone_number(desk: Desk, browser: Any) -> None:
    """Runs before the desk clears the queue, so every report is still open and listed."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    w = watch(page, desk.base)
    log_in(page, desk.base, "/triage", user="lan")
    page.locator(f"#{tid.TRIAGE_KPIS} .ioc-kpi").first.wait_for(timeout=20_000)
    page.wait_for_function(
        f"() => document.querySelectorAll('.ioc-triage-row').length === {len(desk.ticket_ids)}",
        timeout=15_000,
    )
    assert "[số điện thoại]" in page.inner_text(f"#{tid.TRIAGE_QUEUE}")  # the phone in E2E-0's text
    for ticket in desk.ticket_ids:
        page.locator(".ioc-triage-row", has_text=ticket).click()
        page.wait_for_selector(f"#{tid.TRIAGE_DETAIL} h2:has-text('{ticket}')")
        assert "******" in page.inner_text(f"#{tid.TRIAGE_DETAIL} .ioc-reporter")  # masked, not missing
        assert page.locator(f"#{tid.TRIAGE_CONFIRM}[disabled]").count() == 1  # leaders read, they do not act
        assert digits_leak(page.content()) == []
    with page.expect_download() as download:
        page.click(f"#{tid.TRIAGE_CSV}")
    with open(download.value.path(), encoding="utf-8") as f:
        csv_text = f.read()
    assert csv_text.splitlines()[0].startswith("nhóm,tiếp nhận") and digits_leak(csv_text) == []
    for path, ready in (
        ("/", f"#{ids.MAP_KPI} .ioc-kpi"),
        ("/tablet", f"#{ids.TABLET_KPI} .ioc-kpi"),
        ("/wall", ".ioc-wall-panel .ioc-kpi"),
        ("/transparency", f"#{tid.TRANSPARENCY_LIST}"),
    ):
        page.goto(desk.base + path)
        page.wait_for_selector(ready, timeout=20_000)
        assert digits_leak(page.content()) == [], path
    assert w.errors == [] and w.external == []
    ctx.close()


def test_triage_staff_clear_the_queue(desk: Desk, browser: Any, e2e_stack: Stack) -> None:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    w = watch(page, desk.base)
    log_in(page, desk.base, "/triage", user="an")
    rows = page.locator(".ioc-triage-row")
    rows.first.wait_for(timeout=20_000)
    assert rows.count() == len(desk.ticket_ids)
    blur = "() => document.activeElement && document.activeElement.blur()"
    page.evaluate(blur)  # keys go to the page, not to a field
    for n in range(len(desk.ticket_ids)):
        page.keyboard.press("j")  # select the first row left in the queue
        page.wait_for_selector(".ioc-triage-row.active")
        ticket = _selected(page)
        page.wait_for_selector(f"#{tid.TRIAGE_DETAIL} h2:has-text('{ticket}')")
        assert "ioc-reporter" in page.inner_html(f"#{tid.TRIAGE_DETAIL}")
        assert PHONES[int(ticket.split("-")[1])] in page.inner_text(
            f"#{tid.TRIAGE_DETAIL}"
        )  # staff: unmasked
        page.wait_for_selector(f"#{tid.TRIAGE_CONFIRM}:not([disabled])")
        page.keyboard.press("c")  # confirm the suggested category
        page.wait_for_selector(f"#{tid.TRIAGE_ASSIGN}:not([disabled])")
        page.keyboard.press("g")  # assign to the routing table's owner
        page.wait_for_selector(f"#{tid.TRIAGE_ANSWER}:not([disabled])")
        page.keyboard.press("r")  # to the answer box
        page.keyboard.type(f"Đã xử lý phản ánh {ticket}.")
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            f"() => !document.getElementById('{tid.TRIAGE_QUEUE}').innerText.includes('{ticket}')",
            timeout=15_000,
        )
        assert page.locator(".ioc-triage-row").count() == len(desk.ticket_ids) - n - 1
        page.evaluate(blur)
    page.wait_for_selector(f"#{tid.TRIAGE_QUEUE} .text-muted")  # "no report matches": the queue is clear
    shot(page, "triage-cleared")
    # Publish one answered ticket from the "answered" filter, by mouse.
    page.goto(desk.base + f"/triage?ticket={desk.ticket_ids[0]}")
    page.wait_for_selector(f"#{tid.TRIAGE_PUBLISH}:not([disabled])", timeout=20_000)
    page.click(f"#{tid.TRIAGE_PUBLISH}")
    page.wait_for_selector("#triage-done")
    with psycopg.connect(e2e_stack.settings.database_dsn(), autocommit=True) as conn:
        for t_id in desk.ticket_ids:
            row = store.require_ticket(conn, t_id)
            assert row.status == "answered" and row.category_confirmed and row.owner_code
            kinds = [e.kind for e in store.history(conn, t_id)]
            assert kinds[-3:] == ["classified", "assigned", "answered"] or kinds[-4:-1] == [
                "classified", "assigned", "answered"]  # fmt: skip
        assert store.status_counts(conn) == store.history_status_counts(conn)
        viewed = conn.execute(
            "SELECT count(DISTINCT target) FROM audit_log WHERE action = 'ticket.reporter_viewed' AND actor = 'an'"
        ).fetchone()[0]
        assert viewed == len(desk.ticket_ids)
    page.goto(desk.base + "/transparency")
    page.wait_for_selector(f"#publication-{desk.ticket_ids[0]}")
    published = page.inner_text(f"#{tid.TRANSPARENCY_LIST}")
    assert "[số điện thoại]" in published and digits_leak(page.content()) == []
    assert w.errors == [] and w.external == []
    ctx.close()
