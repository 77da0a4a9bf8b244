"""The early-warning panels in a real browser, fed through the real spine: the budget panel and the
public-order panel for a leader (and refused to an operator), the flood layer with gauges above their
alarm level, and a simulation layer hatched and labelled MÔ PHỎNG. Screenshots for the README."""

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

from geodata import overlays
from ioc import accounts
from ioc.kafka import make_producer
from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.sources import SOURCES
from ioc.topics import topic_for
from ioc.web.app import create_app
from ioc.web.pages import warnings_ids as wid
from tests.e2e.conftest import log_in, shot, watch
from tests.warningdata import warning_events
from tests.webclient import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LE_CHAN = {"type": "Polygon", "coordinates": [[[106.668, 20.835], [106.694, 20.835], [106.697, 20.852],
                                               [106.672, 20.856], [106.668, 20.835]]]}  # fmt: skip
TO_HIEU = {"type": "Polygon", "coordinates": [[[106.676, 20.8435], [106.6815, 20.8435], [106.6815, 20.8475],
                                               [106.676, 20.8475], [106.676, 20.8435]]]}  # fmt: skip


@dataclass
class Site:
    base: str
    stack: Stack


@pytest.fixture(scope="module")
def warnings_site(e2e_stack: Stack) -> Iterator[Site]:
    stack = e2e_stack
    events = warning_events(datetime.now(UTC), po_hours=72, soc_hours=24 * 30)
    producer = make_producer(stack.settings.kafka_bootstrap or "")
    for e in events:
        producer.send(topic_for(e.kind, stack.settings.topic_prefix), key=e.key(), value=e.to_json())
    producer.flush()
    producer.close()
    stack.start_consumers()
    dsn = stack.settings.database_dsn()
    tables = [SOURCES[k].table for k in ("budget", "public_order", "water", "rain", "soc")]

    def stored() -> int:
        with psycopg.connect(dsn) as conn:
            return sum(int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables)  # noqa: S608

    wait_until(lambda: stored() >= len(events), 240, f"{len(events)} early-warning events stored by the consumers")
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "lan", PASSWORD, "leader", "Nguyễn Thị Lan")
        accounts.add_user(conn, "vanhanh", PASSWORD, "operator")
        overlays.import_simulation(conn, {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": LE_CHAN, "properties": {"depth_m": 0.6}}]},
            name="Ngập Lê Chân, mưa 300 mm / 3 giờ", scenario_time=datetime.now(UTC), author="Digital Twin", source="dt.geojson")  # fmt: skip
        overlays.add_flood_areas(conn, {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": TO_HIEU, "properties": {"name": "Ngã tư Tô Hiệu – Hồ Sen", "depth_cm": 35}}]},
            author="vanhanh", source="ngap.geojson", observed_at=datetime.now(UTC))  # fmt: skip
    from waitress import create_server

    app = create_app(stack.settings.model_copy(update={"refresh_seconds": 1.0}))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", stack)  # type: ignore[union-attr]
    finally:
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


def keep(path: Path, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / name)


def test_budget_panel_for_a_leader_refused_to_an_operator(warnings_site: Site, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1100})
    page = ctx.new_page()
    w = watch(page, warnings_site.base)
    log_in(page, warnings_site.base, "/budget", user="lan")
    page.locator(f"#{wid.BUDGET_BODY} .js-plotly-plot").first.wait_for(timeout=30_000)
    assert page.locator(f"#{wid.BUDGET_BODY} .ioc-wkpi").count() == 5
    assert "thu XNK" in page.locator(f"#{wid.BUDGET_BODY} table").inner_text()
    page.locator(f"#{wid.BUDGET_YOY} .js-plotly-plot").wait_for(timeout=20_000)
    time.sleep(1.0)
    keep(shot(page, "budget"), "budget.png")
    assert w.errors == [] and w.external == []
    ctx.close()
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.goto(warnings_site.base + "/budget")  # asked for a page the role may not see …
    page.wait_for_selector("#login-form")
    page.fill("#username", "vanhanh")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/login" not in url)
    assert "/budget" not in page.url  # … the login lands on the operator's home instead
    page.goto(warnings_site.base + "/budget")  # and asked again: the policy sends the operator home
    page.wait_for_url(warnings_site.base + "/")
    assert page.locator(".js-plotly-plot").count() == 0 and "tỷ đồng" not in page.content()
    ctx.close()


def test_public_order_panel_map_by_unit(warnings_site: Site, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    w = watch(page, warnings_site.base)
    log_in(page, warnings_site.base, "/public-order", user="lan")
    page.locator(".ioc-public_order").first.wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('.ioc-public_order').length > 100")
    page.locator(f"#{wid.PO_BODY} .js-plotly-plot").first.wait_for(timeout=20_000)
    time.sleep(1.0)
    keep(shot(page, "public_order"), "public_order.png")
    assert w.errors == [] and w.external == []
    ctx.close()


def test_flood_layer_and_a_hatched_simulation_layer(warnings_site: Site, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    w = watch(page, warnings_site.base)
    log_in(page, warnings_site.base, "/floods", user="lan")
    page.locator(".ioc-water").first.wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('.ioc-water.ioc-st-bd1, .ioc-water.ioc-st-bd2,"
                           " .ioc-water.ioc-st-bd3').length >= 1", timeout=20_000)  # fmt: skip
    assert page.locator("path.ioc-flood_areas").count() >= 1
    label = page.locator(".ioc-sim-label")
    label.first.wait_for(timeout=20_000)
    assert label.first.inner_text().startswith("MÔ PHỎNG")
    assert "MÔ PHỎNG" in page.locator(f"#{wid.FLOOD_BANNER}").inner_text()
    fill = page.evaluate("() => getComputedStyle(document.querySelector('path.ioc-simulation')).fill")
    assert "ioc-hatch" in fill  # hatched, apart from the live layers
    page.locator(f"#{wid.FLOOD_GAUGE_GRAPH} .js-plotly-plot").wait_for(timeout=20_000)
    time.sleep(1.0)
    keep(shot(page, "flood_layer"), "flood_layer.png")
    # Zoom on the simulated area: the hatch and the label, over the live flood area and gauges.
    box = label.first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 30)
    for _ in range(4):  # about one zoom level each
        page.mouse.wheel(0, -60)
        time.sleep(0.8)
    time.sleep(1.0)
    keep(shot(page, "simulation_layer"), "simulation_layer.png")
    # The export is labelled too.
    with page.expect_download() as dl:
        page.locator("button", has_text="MÔ PHỎNG").first.click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.count('"label": "MÔ PHỎNG"') >= 1 and dl.value.suggested_filename.startswith("MO-PHONG-")
    assert w.errors == [] and w.external == []
    ctx.close()
