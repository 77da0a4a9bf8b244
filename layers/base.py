"""What every layer returns, and the helpers they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ioc.i18n import Lang
    from ioc.state import CityState

NODATA_COLOR = "#9E9E9E"
CANVAS_THRESHOLD = 1000  # point layers bigger than this draw on a canvas (see ioc/web/assets/ioc_map.js)


@dataclass(frozen=True, slots=True)
class LegendEntry:
    label: str
    color: str


@dataclass(frozen=True, slots=True)
class Legend:
    title: str
    entries: tuple[LegendEntry, ...]


@dataclass(frozen=True, slots=True)
class LayerData:
    """A GeoJSON FeatureCollection (plain dicts and lists, JSON-ready) and its legend.

    ``styles`` (choropleths) maps a feature's ``code`` to the style properties that change with the
    data; the features then hold only what never changes (geometry, code, outline).
    """

    features: Mapping[str, Any]
    legend: Legend
    styles: Mapping[str, Mapping[str, Any]] | None = None

    @property
    def count(self) -> int:
        return len(self.features["features"])


def feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection; big point layers are flagged for canvas drawing."""
    if len(features) > CANVAS_THRESHOLD:
        for f in features:
            if f["geometry"]["type"] == "Point":
                f["properties"]["canvas"] = True
    return {"type": "FeatureCollection", "features": features}


def point(lon: float, lat: float, props: dict[str, Any], fid: str | None = None) -> dict[str, Any]:
    feature: dict[str, Any] = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": props,
    }
    if fid is not None:
        feature["id"] = fid
    return feature


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """A map layer as its module declares it: id, name, builder and how the map draws it."""

    layer_id: str
    title_key: str  # message key of the layer's name
    build: Callable[[CityState, Lang], LayerData]
    order: int  # display order, bottom first
    cluster: bool = False  # markers grouped into clusters that show their count
    checked: bool = True  # visible when the page opens
    shared: bool = True  # drawn on the shared map, tablet and wall; False: restricted data, its own page only
