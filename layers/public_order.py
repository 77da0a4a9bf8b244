"""Public order by unit: a choropleth of the incidents each commune-level unit counted in 24 hours.

Restricted data (leaders and the police liaison): it draws the ``warnings.public_order`` part only
when a page that may show it puts that part into the state (``ioc/web/pages/public_order.py``);
the shared map's state never carries it, so there the layer is an empty outline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ioc.i18n import Lang, fmt_number
from ioc.i18n.warnings_messages import tw
from ioc.state import CityState
from ioc.warnings import EMPTY_PUBLIC_ORDER, PublicOrderView
from layers.base import LayerData, LayerSpec, Legend, LegendEntry, feature_collection

PART = "warnings.public_order"
EMPTY_FILL = "#F1F3F5"
CLASSES: tuple[tuple[int, str], ...] = ((0, EMPTY_FILL), (1, "#FDD49E"), (3, "#FC8D59"), (6, "#D7301F"))
TOP = "#7F0000"


def view(state: CityState) -> PublicOrderView:
    v = state.parts.get(PART)
    return v if isinstance(v, PublicOrderView) else EMPTY_PUBLIC_ORDER


def color(n: int) -> str:
    for hi, c in CLASSES:
        if n <= hi:
            return c
    return TOP


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    counts = {u.admin_unit: u.incidents for u in view(state).units}
    features, styles = [], {}
    for f in state.boundaries.geojson["features"]:
        p: Mapping[str, Any] = f["properties"]
        code = p["code"]
        n = counts.get(code, 0)
        features.append({"type": "Feature", "id": code, "geometry": f["geometry"],
                         "properties": {"layer": "public_order", "code": code, "line": "#6B2D2D", "weight": 1}})
        styles[code] = {"n": n, "color": color(n), "fill_opacity": 0.6 if n else 0.15,
                        "tooltip": tw("w.po.tip", lang, name=p["full_name"], n=fmt_number(n, lang))}
    entries = [LegendEntry(tw("w.po.legend.none", lang), EMPTY_FILL)]
    lo = 1
    for hi, c in CLASSES[1:]:
        entries.append(LegendEntry(f"{lo}–{hi}" if hi > lo else str(lo), c))
        lo = hi + 1
    entries.append(LegendEntry(f"> {CLASSES[-1][0]}", TOP))
    return LayerData(feature_collection(features), Legend(tw("w.po.legend", lang), tuple(entries)), styles)


LAYERS = (LayerSpec("public_order", "layer.public_order", build, order=22, checked=False, shared=False),)  # restricted
