"""Component ids of the early-warning pages (``/budget``, ``/public-order``, ``/floods``, ``/soc``)."""

from __future__ import annotations

WarningPage = str  # "budget" | "public_order" | "floods" | "soc"

BUDGET_TICK = "budget-tick"
BUDGET_BODY = "budget-body"
BUDGET_SERIES = "budget-yoy-series"
BUDGET_YOY = "budget-yoy-graph"

PO_TICK = "po-tick"
PO_MAP = "po-map"
PO_BODY = "po-body"
PO_SEEN = "po-seen"

FLOOD_TICK = "flood-tick"
FLOOD_MAP = "flood-map"
FLOOD_BODY = "flood-body"
FLOOD_GAUGE = "flood-gauge"
FLOOD_GAUGE_GRAPH = "flood-gauge-graph"
FLOOD_SEEN = "flood-seen"
FLOOD_BANNER = "flood-sim-banner"
FLOOD_DRAW = "flood-draw"
FLOOD_UPLOAD = "flood-upload"
FLOOD_NAME = "flood-area-name"
FLOOD_DEPTH = "flood-area-depth"
FLOOD_TIME = "flood-area-time"
FLOOD_PRONE = "flood-area-prone"
FLOOD_SAVE = "flood-area-save"
FLOOD_SAVED = "flood-area-saved"
SIM_LIST = "sim-list"
SIM_DOWNLOAD = "sim-download"

SOC_TICK = "soc-tick"
SOC_BODY = "soc-body"


def layer(page: WarningPage, layer_id: str) -> dict[str, str]:
    """A GeoJSON layer of one warning page's map (pattern-matchable on ``layer``)."""
    return {"type": "ioc-wlayer", "page": page, "layer": layer_id}


def sim_export(layer_id: str) -> dict[str, str]:
    return {"type": "sim-export", "layer": layer_id}
