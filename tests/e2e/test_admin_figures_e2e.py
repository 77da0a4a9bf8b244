"""KPI figures by hand in a real browser (issue 12, item 3): an administrator enters a figure for an
indicator with no live feed, a refusal first (no source), then sees the figure in the current list
and in the history; the page runs under the CSP with no console error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ioc import accounts
from ioc.launcher import Stack
from ioc.web.app import create_app
from ioc.web.pages import admin_figures_ids as fid
from tests.e2e.conftest import log_in, shot, watch
from tests.webclient import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture(scope="module")
def base(e2e_stack: Stack) -> Iterator[str]:
    with psycopg.connect(e2e_stack.settings.database_dsn(), autocommit=True) as conn:
        accounts.add_user(conn, "quantri", PASSWORD, "admin", "Quản trị hệ thống")
    from waitress import create_server

    app = create_app(e2e_stack.settings.model_copy(update={"refresh_seconds": 1.0}))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    finally:
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


def test_admin_enters_a_figure_and_sees_it_listed(base: str, browser: Any, e2e_stack: Stack) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    w = watch(page, base)
    log_in(page, base, "/admin/figures", "quantri")
    page.wait_for_selector(f"#{fid.FIGURES_CURRENT} table")
    assert "Số trạm BTS công nghệ 4G" in page.inner_text(f"#{fid.FIGURES_CURRENT}")
    page.click(f"#{fid.FIGURES_INDICATOR}")
    page.keyboard.type("BTS")
    page.get_by_text("Số trạm BTS công nghệ 4G (số lượng) · infra.bts_4g", exact=True).last.click()
    page.fill(f"#{fid.FIGURES_VALUE}", "2.600")
    page.fill(f"#{fid.FIGURES_AS_OF}", "2025-12-31")
    page.click(f"#{fid.FIGURES_SAVE}")  # no source yet: refused, with the reason
    page.wait_for_selector(f"#{fid.FIGURES_MESSAGE} .alert-danger")
    assert "Cần ghi nguồn số liệu" in page.inner_text(f"#{fid.FIGURES_MESSAGE}")
    page.fill(f"#{fid.FIGURES_SOURCE}", "Báo cáo chuyển đổi số năm 2025")
    page.fill(f"#{fid.FIGURES_NOTE}", "Số trạm cuối năm")
    page.click(f"#{fid.FIGURES_SAVE}")
    page.wait_for_selector(f"#{fid.FIGURES_DONE}")
    assert "2.600" in page.inner_text(f"#{fid.FIGURES_DONE}")
    row = page.locator("#admin-figure-row-infra_bts_4g")
    row.locator("text=Báo cáo chuyển đổi số năm 2025").wait_for()
    assert "2.600" in row.inner_text() and "31/12/2025" in row.inner_text() and "quantri" in row.inner_text()
    history = page.inner_text(f"#{fid.FIGURES_HISTORY}")
    assert "Số trạm cuối năm" in history and "quantri" in history
    shot(page, "admin-figures")
    with psycopg.connect(e2e_stack.settings.database_dsn()) as conn:
        rows = conn.execute("SELECT kpi_id, value::text, entered_by FROM kpi_figures").fetchall()
    assert rows == [("infra.bts_4g", "2600", "quantri")]
    assert w.errors == [], w.errors  # CSP included: nothing refused
    assert w.external == []
    ctx.close()
