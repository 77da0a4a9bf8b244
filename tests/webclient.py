"""Drive the dashboard's Flask server the way a browser does (login form, Dash callback POSTs)."""

from __future__ import annotations

import re
from typing import Any

import dash
from flask.testing import FlaskClient

PASSWORD = "mật-khẩu-thử-123"


def csrf_from_form(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "login form without a CSRF token"
    return m.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, next_path: str = "/") -> Any:
    page = client.get("/login?next=" + next_path)
    token = csrf_from_form(page.get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token, "next": next_path}
    )


def callback_key(app: dash.Dash, output_part: str) -> str:
    keys = [k for k in app.callback_map if output_part in k]
    assert len(keys) == 1, f"callbacks with {output_part!r}: {keys}"
    return keys[0]


def map_refresh(
    client: FlaskClient,
    app: dash.Dash,
    seen: dict[str, Any] | None = None,
    hours: int = 0,
    layer_ids: tuple[str, ...] = (),
    csrf: str | None = None,
) -> Any:
    """POST the map page's live callback as dash-renderer would; returns the response."""
    from ioc.web import ids

    body = {
        "output": callback_key(app, f"{ids.MAP_KPI}.children"),
        "outputs": [
            [{"id": ids.layer("map", lid), "property": "url"} for lid in layer_ids],
            [{"id": ids.layer("map", lid), "property": "hideout"} for lid in layer_ids],
            {"id": ids.MAP_KPI, "property": "children"},
            {"id": ids.MAP_FEED, "property": "children"},
            {"id": ids.MAP_SEEN, "property": "data"},
        ],
        "inputs": [
            {"id": ids.MAP_TICK, "property": "n_intervals", "value": 1},
            {"id": ids.MAP_SLIDER, "property": "value", "value": hours},
        ],
        "state": [{"id": ids.MAP_SEEN, "property": "data", "value": seen or {}}],
        "changedPropIds": [f"{ids.MAP_TICK}.n_intervals"],
    }
    cookie = client.get_cookie("_csrf_token")
    token = csrf if csrf is not None else (cookie.value if cookie else "")
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})


def sign_in(principal: Any) -> None:
    """Inside a test request context: make ``principal`` the logged-in user, as a loaded session
    would (for tests that call page functions directly instead of posting callbacks)."""
    from datetime import UTC, datetime

    import flask

    from ioc.accounts import LiveSession

    flask.session.live = LiveSession("test", "full", dict(flask.session), principal, None, datetime.now(UTC))  # type: ignore[attr-defined]


def post_callback(client: FlaskClient, body: dict[str, Any]) -> Any:
    """POST one Dash callback with the session's CSRF header, as dash-renderer does."""
    cookie = client.get_cookie("_csrf_token")
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": cookie.value if cookie else ""})
