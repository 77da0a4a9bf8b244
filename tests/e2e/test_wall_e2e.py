"""The wall readable at 5 m (issue 17, item 3), at 3840×2160 and 1920×1080: the alert banner with a
count that scrolls, every panel and the map with their data's age, a legend, markers that grow with
the screen, and a new severe alert flying the map to its place with a tone. Screenshots are saved in
docs/screenshots/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ioc.web import ids
from tests.e2e.conftest import Dashboard, log_in, watch
from tests.e2e.test_dashboard import no_scrollbars
from tests.webdata import insert_alert

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = [(3840, 2160), (1920, 1080)]


@pytest.fixture(scope="module")
def crowded(dashboard: Dashboard) -> Dashboard:
    """More unacknowledged alerts than the banner can show at once."""
    dsn = dashboard.stack.settings.database_dsn()
    places = [(106.66, 20.86), (106.70, 20.84), (106.63, 20.82), (106.72, 20.88), (106.68, 20.80)]
    for i, (lon, lat) in enumerate(places):
        insert_alert(dsn, f"wall-{i}", ("moderate", "minor")[i % 2], "new", f"Ngập úng đường số {i + 1}",
                     f"Flooded street no. {i + 1}", lon, lat)  # fmt: skip
    return dashboard


def _extreme(dsn: str) -> str:
    alert_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO alerts (alert_id, alert_key, rule_id, alert_class, severity, state, title_vi, title_en,"
            " lon, lat, agency_code, agency_vi, agency_en, created_at, updated_at, last_seen) VALUES (%s, %s,"
            " 'flood_depth', 'flood', 'extreme', 'new', 'Ngập sâu 60 cm tại Cầu Đất', 'Flooded 60 cm at Cầu Đất',"
            " 106.6845, 20.8561, 'SNNMT', 'Sở Nông nghiệp và Môi trường', 'Department of Agriculture', %s, %s, %s)",
            (alert_id, f"wall-extreme-{alert_id[:8]}", now, now, now),
        )
    return alert_id


def _inside(page: Any, inner: str, outer: str) -> bool:
    return bool(page.evaluate(
        "([a, b]) => { const i = document.querySelector(a).getBoundingClientRect(),"
        " o = document.querySelector(b).getBoundingClientRect();"
        " return i.left >= o.left - 1 && i.right <= o.right + 1 && i.top >= o.top - 1 && i.bottom <= o.bottom + 1; }",
        [inner, outer]))  # fmt: skip


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_wall_reads_from_the_back_of_the_room(
    crowded: Dashboard, browser: Any, width: int, height: int
) -> None:
    from ioc.web.pages.wall import WALL_LEGEND, WALL_MAP_AGE  # registered with the app, after it exists

    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    w = watch(page, crowded.base)
    log_in(page, crowded.base, "/wall?rotate=600", user="tuong")
    try:
        page.locator(".ioc-wall .ioc-cameras").first.wait_for(timeout=60_000)
        page.locator(".ioc-pin-count").wait_for(timeout=30_000)
    except Exception as exc:
        raise AssertionError(f"wall not drawn; browser errors: {w.errors}") from exc
    assert no_scrollbars(page)

    # The banner: how many, then the alerts scrolling inside the screen.
    count = int(page.locator(".ioc-pin-count").get_attribute("data-count") or 0)
    assert count >= 6 and str(count) in page.inner_text(".ioc-pin-count")  # 6, and the earlier test's extreme one
    assert page.locator(".ioc-pin-track.ioc-scroll").count() == 1
    running = "() => { const a = document.querySelector('.ioc-pin-track').getAnimations()[0];" \
              " return a ? [a.playState, a.currentTime] : null; }"  # fmt: skip
    t0 = page.evaluate(running)
    page.wait_for_timeout(3000)  # two data refreshes: the banner keeps scrolling, never restarts
    t1 = page.evaluate(running)
    assert t0[0] == "running" and t1[0] == "running" and t1[1] > t0[1] + 2000, (t0, t1)
    assert _inside(page, ".ioc-pin-count", f"#{ids.WALL_PINNED}")
    assert page.evaluate(f"() => document.getElementById('{ids.WALL_PINNED}').getBoundingClientRect().right")\
        <= width  # fmt: skip
    assert page.locator(".ioc-pin .ioc-sev-extreme, .ioc-pin .ioc-sev-severe").count() >= 1

    # Every panel, and the map, say how old their data is.
    ages = page.locator(".ioc-wall-panel .ioc-updated").all_text_contents()  # rotating: some hidden
    assert len(ages) == len(ids.WALL_PANELS) and all(a.strip() for a in ages), ages
    assert "Dữ liệu bản đồ" in page.inner_text(f"#{WALL_MAP_AGE}")

    # A legend of the layers drawn, inside the map panel.
    assert page.locator(f"#{WALL_LEGEND} .ioc-wall-legend-entry").count() >= 8
    assert _inside(page, f"#{WALL_LEGEND}", ".ioc-wall-mapbox")

    # Markers grow with the screen: 1× at 1600 px wide, 2.4× at 4K.
    k = page.evaluate("() => window.ioc.map.screenScale()")
    assert k == pytest.approx(width / 1600)
    box = page.locator(".ioc-wall .ioc-cameras").first.bounding_box()
    assert box["width"] >= 2 * 7 * k * 0.9
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"wall-{width}x{height}.png"), animations="disabled", timeout=120_000
    )

    # A new extreme alert: the map flies to it and a tone sounds (sound on by default on the wall).
    if width == 3840:
        page.wait_for_function("() => window.ioc.wall.seen !== null", timeout=30_000)
        known = page.evaluate(
            "() => window.ioc.wall.focused.length"
        )  # alerts present at opening: none flown to
        assert known == 0
        alert_id = _extreme(crowded.stack.settings.database_dsn())
        page.wait_for_function(f"() => window.ioc.wall.focused.includes('{alert_id}')", timeout=30_000)
        assert page.evaluate("() => window.ioc.wall.sounded") == 1
        page.wait_for_timeout(2500)  # the flight
        page.screenshot(
            path=str(SCREENSHOTS / f"wall-focus-{width}x{height}.png"), animations="disabled", timeout=120_000
        )
    assert w.errors == [] and w.external == []
    ctx.close()


def test_sound_is_a_setting_off_with_sound_0(crowded: Dashboard, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    w = watch(page, crowded.base)
    log_in(page, crowded.base, "/wall?rotate=600", user="tuong")
    page.goto(crowded.base + "/wall?rotate=600&sound=0")  # the login's next= keeps one parameter only
    page.locator(".ioc-pin-count").wait_for(timeout=60_000)
    try:
        page.wait_for_function("() => window.ioc.wall.seen !== null", timeout=30_000)
    except Exception as exc:
        raise AssertionError(f"no focus data; browser errors: {w.errors}") from exc
    alert_id = _extreme(crowded.stack.settings.database_dsn())
    page.wait_for_function(f"() => window.ioc.wall.focused.includes('{alert_id}')", timeout=30_000)
    assert page.evaluate("() => window.ioc.wall.sounded") == 0
    assert w.errors == []
    ctx.close()
