"""Component ids: constants, and factories for ids that repeat (layers, wall panels).

Pages and tests import these; nothing spells an id by hand.
"""

from __future__ import annotations

from typing import Literal

Page = Literal["map", "wall", "tablet", "triage"]

URL = "url"
NAV_TOGGLE = "nav-toggle"  # the menu button of the navbar on narrow screens
NAV_COLLAPSE = "nav-collapse"

# Map page (home)
MAP = "map"
MAP_TICK = "map-tick"
MAP_SLIDER = "map-time-slider"
MAP_SLIDER_LABEL = "map-time-label"
MAP_KPI = "map-kpi"
MAP_FEED = "map-alert-feed"
MAP_LEGEND = "map-legend"
MAP_SEEN = "map-seen"  # last (snapshot version, slider, lang) sent to this browser
MAP_LAYERS_CONTROL = "map-layers-control"

# Tablet page
TABLET_MAP = "tablet-map"
TABLET_TICK = "tablet-tick"
TABLET_SLIDER = "tablet-time-slider"
TABLET_KPI = "tablet-kpi"
TABLET_FEED = "tablet-alert-feed"
TABLET_SEEN = "tablet-seen"

# Wall page
WALL_MAP = "wall-map"
WALL_TICK = "wall-tick"  # data refresh
WALL_ROTATE = "wall-rotate"  # panel rotation
WALL_CLOCK_TICK = "wall-clock-tick"  # 1 s: clock and staleness, in the browser
WALL_CLOCK = "wall-clock"
WALL_PINNED = "wall-pinned"
WALL_TIMES = "wall-times"  # {panel: epoch ms of its newest data}
WALL_CONFIG = "wall-config"  # {rotate_s, stale_s, panels}
WALL_SEEN = "wall-seen"
WALL_PANELS = ("kpi", "traffic", "air", "reports", "warnings", "index766")


def layer(page: Page, layer_id: str) -> dict[str, str]:
    """The GeoJSON component of one layer on one page (pattern-matchable on ``layer``)."""
    return {"type": "ioc-layer", "page": page, "layer": layer_id}


def wall_panel(name: str) -> dict[str, str]:
    return {"type": "wall-panel", "panel": name}


def wall_panel_body(name: str) -> dict[str, str]:
    return {"type": "wall-panel-body", "panel": name}


def wall_updated(name: str) -> dict[str, str]:
    """The "last updated" label of a wall panel (turns red when stale)."""
    return {"type": "wall-updated", "panel": name}


def base_layer(page: Page, name: str) -> dict[str, str]:
    """A base-map layer (sea, water, boundaries, roads, landmarks) of a page's map."""
    return {"type": "base-layer", "page": page, "name": name}


# Accounts page (/admin/users, administrators only)
ADMIN_USERS = "admin-users"
ADMIN_TABLE = "admin-users-table"
ADMIN_VERSION = "admin-users-version"  # bumped after each change so the table reloads
ADMIN_MESSAGE = "admin-users-message"
ADMIN_USERNAME = "admin-user-name"
ADMIN_DISPLAY_NAME = "admin-user-display-name"
ADMIN_ROLE = "admin-user-role"
ADMIN_SECTORS = "admin-user-sectors"
ADMIN_UNITS = "admin-user-units"
ADMIN_PASSWORD = "admin-user-password"
ADMIN_TEMPORARY = "admin-user-temporary"
ADMIN_SAVE = "admin-user-save"
ADMIN_RESET = "admin-user-reset"
ADMIN_DISABLE = "admin-user-disable"
ADMIN_ENABLE = "admin-user-enable"
ADMIN_REVOKE = "admin-user-revoke"
ADMIN_ACTIONS = (ADMIN_SAVE, ADMIN_RESET, ADMIN_DISABLE, ADMIN_ENABLE, ADMIN_REVOKE)


def admin_user_row(username: str) -> dict[str, str]:
    """One row of the accounts table (pattern-matchable on ``user``): a click loads it into the form."""
    return {"type": "admin-user-row", "user": username}
