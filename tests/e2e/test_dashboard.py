"""The dashboard in a real browser: login, live markers, layer toggles, wall and tablet layouts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ioc.web import ids
from tests.e2e.conftest import Dashboard, log_in, shot, watch

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def no_scrollbars(page: Any) -> bool:
    return bool(
        page.evaluate(
            "() => { const d = document.documentElement, b = document.body;"
            " return Math.max(d.scrollWidth, b.scrollWidth) <= window.innerWidth"
            " && Math.max(d.scrollHeight, b.scrollHeight) <= window.innerHeight; }"
        )
    )


def test_map_shows_ingested_sites_and_toggles_layers(dashboard: Dashboard, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1600, "height": 900})
    page = ctx.new_page()
    w = watch(page, dashboard.base)
    page.goto(dashboard.base + "/")
    assert page.url.startswith(dashboard.base + "/login?next=/")  # not logged in: sent to the login page
    log_in(page, dashboard.base, "/")
    live_cams = page.locator(".ioc-cameras:not(.ioc-st-nodata)")
    live_cams.first.wait_for(timeout=20_000)
    # Every camera that sent events is drawn with its status; the others are "no data".
    assert live_cams.count() == dashboard.ingested_cameras
    assert page.locator(".ioc-cameras.ioc-st-incident").count() == 1  # camera #5 reported flooding
    all_cams = page.locator(".ioc-cameras").count()
    assert all_cams > dashboard.ingested_cameras
    assert page.locator(".ioc-traffic").count() > 0 and page.locator(".ioc-boundaries").count() > 0
    assert page.locator(f"#{ids.MAP_KPI} .ioc-kpi").count() == 4
    assert page.locator(f"#{ids.MAP_FEED} .ioc-alert").count() == 2  # both unresolved alerts in the feed
    assert page.locator(f"#{ids.MAP_FEED} .ioc-alert-new").count() == 1

    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="Camera")
    toggle.click()
    page.wait_for_function("() => document.querySelectorAll('.ioc-cameras').length === 0")
    toggle.click()
    page.wait_for_function(f"() => document.querySelectorAll('.ioc-cameras').length === {all_cams}")
    shot(page, "map")

    page.locator(f"#{ids.MAP_SLIDER} [role=slider]").first.focus()
    page.keyboard.press("End")  # look back 24 h: before any event was sent
    page.wait_for_function("() => document.querySelectorAll('.ioc-cameras:not(.ioc-st-nodata)').length === 0")
    assert w.errors == [] and w.external == []
    ctx.close()


def _active_panel(page: Any) -> str:
    raw = page.locator(".ioc-wall-panel.active").get_attribute("id")
    return str(json.loads(raw)["panel"])


@pytest.mark.parametrize(("width", "height"), [(3840, 2160), (1920, 1080)])
def test_wall_fits_without_scrollbars_and_rotates(
    dashboard: Dashboard, browser: Any, width: int, height: int
) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    w = watch(page, dashboard.base)
    log_in(page, dashboard.base, "/wall?rotate=3", user="tuong")
    page.locator(".ioc-wall .ioc-cameras").first.wait_for(timeout=20_000)
    page.wait_for_function("() => document.querySelector('.ioc-wall-panel.active .ioc-kpi') !== null")
    assert no_scrollbars(page)
    pins = page.locator(f"#{ids.WALL_PINNED} .ioc-pin")
    assert pins.count() == 1 and "cầu Bính" in pins.inner_text()  # only the unacknowledged alert is pinned
    first = _active_panel(page)
    page.wait_for_function(
        f"() => !document.querySelector('.ioc-wall-panel.active').id.includes('\"{first}\"')", timeout=10_000
    )
    assert _active_panel(page) != first
    assert no_scrollbars(page)
    assert page.locator(".ioc-wall-panel .ioc-updated").count() == len(ids.WALL_PANELS)
    assert page.locator(".ioc-wall-clock").inner_text().count(":") == 2
    shot(page, f"wall-{width}x{height}")
    page.goto(dashboard.base + "/")  # the display account may only see the wall
    page.wait_for_url(dashboard.base + "/wall")
    assert w.errors == [] and w.external == []
    ctx.close()


def test_tablet_layout_and_language_switch(dashboard: Dashboard, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = ctx.new_page()
    w = watch(page, dashboard.base)
    log_in(page, dashboard.base, "/tablet")
    page.locator(".ioc-tablet .ioc-cameras").first.wait_for(timeout=20_000)
    page.locator(f"#{ids.TABLET_KPI} .ioc-kpi").first.wait_for()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    for button in page.locator(".ioc-tablet .btn").all():
        if button.is_visible():
            assert button.bounding_box()["height"] >= 44  # touch-sized
    assert "Cảnh báo mới nhất" in page.inner_text("body")
    shot(page, "tablet-1024x768")
    page.set_viewport_size({"width": 768, "height": 1024})
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    # Narrow: the navbar folds behind its menu button, one line high.
    assert page.locator(".ioc-navbar").bounding_box()["height"] < 70
    assert not page.locator("#lang-en").is_visible()
    page.click(f"#{ids.NAV_TOGGLE}")
    page.click("#lang-en")
    page.wait_for_url(dashboard.base + "/tablet")
    page.locator(f"#{ids.TABLET_FEED}", has_text="Latest alerts").wait_for()
    assert "Cảnh báo" not in page.inner_text(f"#{ids.TABLET_FEED}")
    assert w.errors == [] and w.external == []
    ctx.close()
