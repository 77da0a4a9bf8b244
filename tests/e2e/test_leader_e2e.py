"""The leaders' cockpit in a real browser at tablet sizes (1024×768 landscape, 768×1024 portrait),
fed through the real spine: simulated dossiers go to the broker, the consumer stores them, the
intake folds them; a leader lands on /leader and reaches a unit's late dossiers in at most three
taps; an operator is refused. Screenshots for the README."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ioc import accounts
from ioc.kafka import make_producer
from ioc.kpi.intake import DossierIntake
from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.topics import topic_for
from ioc.web.app import create_app
from simulators.dossiers import backfill
from tests.e2e.conftest import shot, watch
from tests.webclient import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Site:
    base: str
    stack: Stack
    events: int


@pytest.fixture(scope="module")
def cockpit(e2e_stack: Stack) -> Iterator[Site]:
    stack = e2e_stack
    events = list(backfill(datetime.now(UTC), 2.5, seed=12))
    producer = make_producer(stack.settings.kafka_bootstrap or "")
    for e in events:
        producer.send(topic_for(e.kind, stack.settings.topic_prefix), key=e.key(), value=e.to_json())
    producer.flush()
    producer.close()
    stack.start_consumers()
    dsn = stack.settings.database_dsn()

    def stored() -> int:
        with psycopg.connect(dsn) as conn:
            return int(conn.execute("SELECT count(*) FROM dossier_events").fetchone()[0])

    wait_until(lambda: stored() >= len(events), 300, f"{len(events)} dossier events stored by the consumer")
    with psycopg.connect(dsn, autocommit=True) as conn:
        DossierIntake().drain(conn)  # what the supervised ioc.kpi.intake does
        accounts.add_user(conn, "lan", PASSWORD, "leader", "Nguyễn Thị Lan")
        accounts.add_user(conn, "vanhanh", PASSWORD, "operator")
    from waitress import create_server

    app = create_app(stack.settings.model_copy(update={"refresh_seconds": 1.0}))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", stack, len(events))  # type: ignore[union-attr]
    finally:
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


def keep(path: Path, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / name)


def login_home(page: Any, base: str, user: str) -> None:
    """Log in from the login page itself: the user lands on their home page."""
    page.goto(base + "/login")
    page.wait_for_selector("#login-form")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def wait_figures(page: Any) -> None:
    page.wait_for_function("() => !document.querySelector('#leader-total') ||"
                           " document.querySelector('#leader-total').innerText.trim() !== '—'", timeout=60_000)  # fmt: skip


@pytest.mark.parametrize(("width", "height", "name"), [(1024, 768, "landscape"), (768, 1024, "portrait")])
def test_leader_lands_and_reaches_late_dossiers_in_three_taps(cockpit: Site, browser: Any, width: int, height: int,
                                                              name: str) -> None:  # fmt: skip
    ctx = browser.new_context(viewport={"width": width, "height": height}, has_touch=True, is_mobile=False)
    page = ctx.new_page()
    w = watch(page, cockpit.base)
    login_home(page, cockpit.base, "lan")
    assert page.url.split("?")[0].endswith("/leader"), page.url  # the leader's landing page
    page.locator("#leader-total").wait_for(timeout=60_000)
    wait_figures(page)
    assert "/ 56" in page.locator(".ioc-leader-head").inner_text()
    assert page.locator(".ioc-leader-tile").count() == 8
    assert page.locator("[id^=leader-warn-]").count() == 4  # the four early-warning classes
    assert page.locator("#leader-reports").count() == 1
    time.sleep(1.0)
    keep(shot(page, f"leader_{name}"), f"leader_{name}.png")
    # Tap 1: the worst unit, from "what needs the leader now"; its late dossiers are on that page.
    worst = page.locator("#leader-now-worst-0")
    unit_name = worst.inner_text()
    worst.tap()
    page.wait_for_url("**/leader/unit?u=*")
    page.locator("#leader-unit-title").wait_for(timeout=30_000)
    assert page.locator("#leader-unit-title").inner_text() in unit_name
    page.locator("#leader-unit-late").wait_for(timeout=30_000)
    page.locator("#leader-unit-indicators").wait_for(timeout=30_000)
    time.sleep(0.5)
    keep(shot(page, f"leader_unit_{name}"), f"leader_unit_{name}.png")
    # Taps 1–3 another way: the ranking, a unit in the table, its records.
    page.goto(cockpit.base + "/leader")
    page.locator("#leader-open-ranking").tap()
    page.wait_for_url("**/leader/ranking")
    page.locator("#ranking-table .dash-cell").first.wait_for(timeout=30_000)
    page.locator("#ranking-map .js-plotly-plot").wait_for(timeout=30_000)
    rows = page.locator("#ranking-table tr").count()
    assert rows > 100  # departments and the 114 communes
    time.sleep(1.0)
    keep(shot(page, f"leader_ranking_{name}"), f"leader_ranking_{name}.png")
    page.locator("#ranking-table td[data-dash-column=unit] a").last.tap()
    page.wait_for_url("**/leader/unit?u=*")
    page.locator("#leader-unit-late").wait_for(timeout=30_000)
    assert w.errors == [] and w.external == []
    ctx.close()


@pytest.mark.parametrize(("width", "height", "name"), [(1024, 768, "landscape"), (768, 1024, "portrait")])
def test_kpi_trends_fit_the_tablet_and_show_the_sparklines(cockpit: Site, browser: Any, width: int, height: int,
                                                           name: str) -> None:  # fmt: skip
    """/leader/kpi from /leader in one tap: a card per indicator and the total, each with its sparkline,
    no horizontal scrolling at either orientation; the period changes the figures."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, has_touch=True, is_mobile=False)
    page = ctx.new_page()
    w = watch(page, cockpit.base)
    login_home(page, cockpit.base, "lan")
    page.locator("#leader-open-kpi").tap()
    page.wait_for_url("**/leader/kpi")
    page.locator("#leader-kpi-total-value").wait_for(timeout=60_000)
    assert page.locator(".ioc-kpit-card").count() == 9  # the total and the eight indicators
    page.wait_for_function("() => document.querySelectorAll('.ioc-kpit-spark .js-plotly-plot .scatterlayer path.js-line')"
                           ".length >= 9", timeout=60_000)  # fmt: skip
    assert page.locator("#leader-kpi-total-value").inner_text().strip() != "—"
    assert "Mục tiêu" in page.locator("#leader-kpi-legend").inner_text()
    # The full-points rule (4.2, 4.3, 5.4) is drawn and labelled on its sparkline.
    assert "Ngưỡng đủ điểm" in page.locator("#leader-kpi-5_4-spark").text_content()
    overflow = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(overflow), page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    # The definition, source and as-of moment on demand.
    page.locator("#leader-kpi-2_1 summary").tap()
    assert "Nguồn" in page.locator("#leader-kpi-2_1 .ioc-kpit-details").inner_text()
    time.sleep(1.0)
    keep(shot(page, f"leader_kpi_{name}"), f"leader_kpi_{name}.png")
    # Another period: the changes are said against that period.
    page.locator(".ioc-leader-periods label").nth(1).tap()
    page.wait_for_function("() => (document.querySelector('#leader-kpi-scope') || {}).innerText?.includes('Q')",
                           timeout=30_000)  # fmt: skip
    assert "so với quý trước" in page.locator("#leader-kpi-body").inner_text()
    assert page.evaluate(overflow)
    assert w.errors == [] and w.external == []
    ctx.close()


def test_an_operator_is_refused_the_cockpit(cockpit: Site, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    page = ctx.new_page()
    login_home(page, cockpit.base, "vanhanh")
    page.goto(cockpit.base + "/leader")
    page.wait_for_load_state("networkidle")
    assert page.locator("#leader-total").count() == 0
    page.goto(cockpit.base + "/leader/kpi")
    page.wait_for_load_state("networkidle")
    assert page.locator(".ioc-kpit-card").count() == 0
    ctx.close()
