"""Citizen reports: markers (clustered on the map) by category and status, and a density grid."""

from __future__ import annotations

import math
from collections import Counter

from ioc.i18n import Lang, fmt_time, t
from ioc.state import CityState
from layers.base import LayerData, LayerSpec, Legend, LegendEntry, feature_collection, point

LAYER_ID = "reports"
HEAT_LAYER_ID = "reports_heat"
STATUS_COLORS = {"created": "#1F77B4", "updated": "#9467BD"}
HEAT_CELL_DEG = 0.01  # ≈ 1.1 km cells
HEAT_COLORS = ("#FEE5D9", "#FCAE91", "#FB6A4A", "#DE2D26", "#A50F15")


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    features = []
    for r in state.reports:
        status = r.action if r.action in STATUS_COLORS else "created"
        category = r.category or t("category.unknown", lang)
        features.append(
            point(
                r.lon,
                r.lat,
                {
                    "layer": LAYER_ID,
                    "status": status,
                    "category": r.category,
                    "color": STATUS_COLORS[status],
                    "radius": 6,
                    "tooltip": t(
                        "tip.report",
                        lang,
                        category=category,
                        status=t(f"legend.reports.{status}", lang),
                        time=fmt_time(r.updated_at, lang),
                    ),
                },
                r.ticket_id,
            )
        )
    legend = Legend(
        t("layer.reports", lang),
        tuple(LegendEntry(t(f"legend.reports.{s}", lang), c) for s, c in STATUS_COLORS.items()),
    )
    return LayerData(feature_collection(features), legend)


def build_heat(state: CityState, lang: Lang = "vi") -> LayerData:
    """Square cells of ``HEAT_CELL_DEG`` coloured by how many reports fall in them (5 classes)."""
    cells = Counter(
        (math.floor(r.lon / HEAT_CELL_DEG), math.floor(r.lat / HEAT_CELL_DEG)) for r in state.reports
    )
    top = max(cells.values(), default=0)
    features = []
    for (i, j), n in sorted(cells.items()):
        cls = min(len(HEAT_COLORS) - 1, int(len(HEAT_COLORS) * n / (top + 1)))
        x0, y0 = round(i * HEAT_CELL_DEG, 5), round(j * HEAT_CELL_DEG, 5)
        x1, y1 = round(x0 + HEAT_CELL_DEG, 5), round(y0 + HEAT_CELL_DEG, 5)
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
                },
                "properties": {
                    "layer": HEAT_LAYER_ID,
                    "n": n,
                    "color": HEAT_COLORS[cls],
                    "fill_opacity": 0.65,
                    "weight": 0,
                    "tooltip": str(n),
                },
            }
        )
    legend = Legend(
        t("layer.reports_heat", lang),
        (
            LegendEntry(t("legend.heat.low", lang), HEAT_COLORS[0]),
            LegendEntry(t("legend.heat.high", lang), HEAT_COLORS[-1]),
        ),
    )
    return LayerData(feature_collection(features), legend)


def counts_by_unit(state: CityState) -> Counter[str]:
    """Reports per admin unit code (reports with no unit are left out)."""
    return Counter(r.admin_unit for r in state.reports if r.admin_unit)


LAYERS = (
    LayerSpec("reports_heat", "layer.reports_heat", build_heat, order=30, checked=False),
    LayerSpec("reports", "layer.reports", build, order=70, cluster=True),
)
