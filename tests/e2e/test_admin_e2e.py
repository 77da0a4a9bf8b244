"""Accounts in a real browser (issue 17 item 8, issue 11): the first admin sets a new password, adds a
ward account with its scope, the new user changes the temporary password at first login, and is
logged out when the admin disables them; the pages run under the CSP with no console error."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ioc import accounts
from ioc.launcher import Stack
from ioc.web import ids
from ioc.web.app import create_app
from tests.e2e.conftest import shot, watch

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
NEW_ADMIN_PW = "quản-trị-thành-phố-cảng"
TEMP_PW = "tạm-thời-cho-phường-lê-chân"
WARD_PW = "phường-lê-chân-tự-đặt-mới"


@pytest.fixture(scope="module")
def base(e2e_stack: Stack) -> Iterator[tuple[str, str]]:
    dsn = e2e_stack.settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM users")
        path = accounts.ensure_initial_admin(conn, e2e_stack.settings.data_dir)
    assert path is not None
    from waitress import create_server

    app = create_app(e2e_stack.settings.model_copy(update={"refresh_seconds": 1.0}))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", path.read_text().strip()  # type: ignore[union-attr]
    finally:
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


def _login(page: Any, url: str, user: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")


def _change_password(page: Any, old: str, new: str) -> None:
    page.wait_for_selector("#password-form")
    page.fill("#current", old)
    page.fill("#new", new)
    page.fill("#repeat", new)
    page.click("#password-submit")


def test_admin_adds_a_ward_account_which_changes_its_password_and_is_disabled(
    base: tuple[str, str], browser: Any, e2e_stack: Stack
) -> None:
    url, initial = base
    admin_ctx, ward_ctx = browser.new_context(), browser.new_context()
    page = admin_ctx.new_page()
    w = watch(page, url)
    _login(page, url, "admin", initial)
    page.wait_for_url(url + "/account/password")
    assert "mật khẩu tạm thời" in page.inner_text("#login-notice")
    _change_password(page, initial, NEW_ADMIN_PW)
    page.goto(url + "/admin/users")
    page.wait_for_selector(f"#{ids.ADMIN_TABLE} .ioc-admin-row")
    assert "admin" in page.inner_text(f"#{ids.ADMIN_TABLE}")
    page.fill(f"#{ids.ADMIN_USERNAME}", "phuong-lechan")
    page.fill(f"#{ids.ADMIN_DISPLAY_NAME}", "UBND phường Lê Chân")
    # Pick from the opened menus (typing then Enter races the filtering on a loaded machine).
    page.click(f"#{ids.ADMIN_ROLE}")
    page.keyboard.type("ward")
    page.get_by_text("UBND xã, phường, đặc khu (ward)", exact=True).last.click()
    page.click(f"#{ids.ADMIN_UNITS}")
    page.keyboard.type("Lê Chân")
    page.get_by_text("Phường Lê Chân", exact=True).last.click()
    page.fill(f"#{ids.ADMIN_PASSWORD}", "password123456")  # a common one first: refused
    page.click(f"#{ids.ADMIN_SAVE}")
    page.wait_for_selector(f"#{ids.ADMIN_MESSAGE} .alert-danger")
    assert "phổ biến" in page.inner_text(f"#{ids.ADMIN_MESSAGE}")
    page.fill(f"#{ids.ADMIN_PASSWORD}", TEMP_PW)
    page.click(f"#{ids.ADMIN_SAVE}")
    page.wait_for_selector("#admin-done")
    page.wait_for_selector(f"#{ids.ADMIN_TABLE} >> text=phuong-lechan")
    shot(page, "admin-users")
    with psycopg.connect(e2e_stack.settings.database_dsn()) as conn:
        p = accounts.principal_for(conn, "phuong-lechan")
        user = accounts.require_user(conn, "phuong-lechan")
    assert p is not None and p.role.value == "ward" and "Phường Lê Chân" in p.scope.units and user.must_change_password

    ward = ward_ctx.new_page()
    w2 = watch(ward, url)
    _login(ward, url, "phuong-lechan", TEMP_PW)
    ward.wait_for_url(url + "/account/password")
    _change_password(ward, TEMP_PW, WARD_PW)
    ward.wait_for_url(url + "/")
    ward.goto(url + "/admin/users")
    ward.wait_for_url(url + "/")  # not an administrator: sent home
    ward.goto(url + "/triage")
    ward.wait_for_selector("#triage-queue")

    page.click(f"#{ids.ADMIN_DISABLE}")  # the form still holds phuong-lechan
    page.wait_for_selector("#admin-done >> text=Đã khóa")
    ward.goto(url + "/triage")
    ward.wait_for_url(re.compile(r".*/login\?next=/triage"))  # logged out at once
    assert w.errors == [] and w2.errors == [], (w.errors, w2.errors)  # CSP included: nothing refused
    assert w.external == [] and w2.external == []
    admin_ctx.close()
    ward_ctx.close()
