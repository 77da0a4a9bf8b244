"""A leader on a 1024×768 tablet sends a directive about an alert to two wards; each ward logs in,
acknowledges and reports it done; the leader accepts and sees the on-time rate per recipient."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from ioc.directives import store
from ioc.launcher import Stack
from ioc.web.app import create_app
from ioc.web.pages import directives_ids as did
from tests.directives_util import add_person, two_wards
from tests.e2e.conftest import log_in, shot, watch

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def site(stack: Stack) -> Iterator[tuple[str, str, tuple[str, str]]]:
    dsn = stack.settings.database_dsn()
    w1, w2 = two_wards()
    alert_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO alerts (alert_id, alert_key, rule_id, alert_class, severity, state, title_vi, title_en,"
            " admin_unit, lon, lat, agency_code, agency_vi, agency_en, created_at, updated_at, last_seen)"
            " VALUES (%s, 'e2e-flood', 'test_rule', 'environment', 'severe', 'new', 'Ngập sâu khu dân cư',"
            " 'Deep flooding', %s, 106.68, 20.86, 'SNNMT', 'Sở Nông nghiệp và Môi trường',"
            " 'Department of Agriculture and Environment', %s, %s, %s)",
            (alert_id, w1.removeprefix("XA-"), now, now, now),
        )
        add_person(conn, "lan", "leader")
        add_person(conn, "phuong1", "ward", w1)
        add_person(conn, "phuong2", "ward", w2)
    from waitress import create_server

    app = create_app(stack.settings.model_copy(update={"refresh_seconds": 1.0}))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", alert_id, (w1, w2)  # type: ignore[union-attr]
    finally:
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


def _min_target_px(page: Any, selector: str) -> float:
    return float(page.evaluate(f"() => Math.min(...[...document.querySelectorAll('{selector}')]"
                               ".map(e => e.getBoundingClientRect().height))"))  # fmt: skip


def test_directive_from_an_alert_to_two_wards_completed_on_a_tablet(site: Any, browser: Any, stack: Stack) -> None:
    base, alert_id, (w1, w2) = site
    from ioc.directives.recipients import registry

    name2 = registry().get(w2).name_vi
    ctx = browser.new_context(viewport=TABLET)
    page = ctx.new_page()
    w = watch(page, base)
    log_in(page, base, f"/directives/new?alert={alert_id}", user="lan")
    page.wait_for_selector(f"#{did.NEW_SEND}")
    assert page.input_value(f"#{did.NEW_TITLE}") == "Ngập sâu khu dân cư"  # prefilled from the alert
    page.fill(f"#{did.NEW_BODY}", "Sơ tán các hộ dân vùng trũng, báo cáo kết quả.")
    page.click(f"#{did.NEW_RECIPIENTS}")
    page.keyboard.type(name2.removeprefix("UBND "))
    page.keyboard.press("Enter")
    page.fill(f"#{did.NEW_AMOUNT}", "2")
    assert _min_target_px(page, f"#{did.NEW_SEND}, #{did.NEW_TITLE}") >= 44
    page.click(f"#{did.NEW_SEND}")
    page.wait_for_selector(f"#{did.NEW_FEEDBACK} .alert", timeout=20_000)
    assert page.locator("#dir-created").count() == 1, page.inner_text(f"#{did.NEW_FEEDBACK}")
    page.wait_for_selector("#dir-detail-title", timeout=20_000)
    shot(page, "directives-created-tablet")
    with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
        (d,) = store.directives_about(conn, "alert", alert_id)
        assert {a.recipient_code for a in store.assignments(conn, d.directive_id)} == {w1, w2}
    ctx.close()

    for user in ("phuong1", "phuong2"):
        c = browser.new_context(viewport=TABLET)
        p = c.new_page()
        ww = watch(p, base)
        log_in(p, base, "/inbox", user=user)
        rows = p.locator(".ioc-inbox-row")
        rows.first.wait_for(timeout=20_000)
        assert rows.count() == 1  # only its own part
        rows.first.click()
        p.wait_for_selector("#inbox-detail-title")
        p.click(f"#{did.INBOX_ACK}")
        p.wait_for_selector("#inbox-done", timeout=15_000)
        p.fill(f"#{did.INBOX_NOTE}", f"Đã sơ tán xong ({user}).")
        p.click(f"#{did.INBOX_REPORT}")
        p.wait_for_function("() => document.getElementById('inbox-detail-title') &&"
                            " document.body.innerText.includes('Báo cáo hoàn thành')", timeout=15_000)  # fmt: skip
        shot(p, f"inbox-{user}-tablet")
        assert ww.errors == [] and ww.external == []
        c.close()

    ctx = browser.new_context(viewport=TABLET)
    page = ctx.new_page()
    log_in(page, base, f"/directives?directive={d.directive_id}", user="lan")
    for code in (w1, w2):
        page.wait_for_selector(f"#{did.LEAD_RECIPIENT}", timeout=20_000)
        page.select_option(f"#{did.LEAD_RECIPIENT}", code)
        page.click(f"#{did.LEAD_ACCEPT}")
        page.wait_for_selector(f"#{did.LEAD_FEEDBACK} .alert-success", timeout=15_000)
    page.wait_for_selector(f"#dir-rate-{w1}", timeout=20_000)
    page.wait_for_selector(f"#dir-rate-{w2}", timeout=20_000)
    assert "100%" in page.inner_text(f"#dir-rate-{w1}")
    shot(page, "directives-board-tablet")
    with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
        assert all(a.status == "accepted" and a.on_time for a in store.assignments(conn, d.directive_id))
        kinds = [e.kind for e in store.history(conn, d.directive_id)]
    assert kinds == ["created", "acknowledged", "reported", "acknowledged", "reported", "accepted", "accepted"]
    assert w.errors == [] and w.external == []
    ctx.close()
