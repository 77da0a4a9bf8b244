"""What the map and tablet pages' live callbacks send: only the layers a browser does not have yet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dash import no_update

from ioc import components
from ioc.i18n import Lang
from ioc.snapshot import Snapshot
from layers.registry import payload


@dataclass(frozen=True, slots=True)
class LayerUpdate:
    urls: list[Any]  # per output: the layer's content URL, or no_update
    hideouts: list[Any]  # per output: choropleth styles, or no_update
    seen: dict[str, str]  # layer id → digest now held by the browser
    changed: int


def layer_update(
    snap: Snapshot, hours_ago: int, lang: Lang, layer_ids: list[str], seen: dict[str, str] | None
) -> LayerUpdate:
    """URLs of the layers whose digest differs from what the browser reported (``seen``).

    The browser fetches each layer from ``/layers/<digest>.json``: bytes serialised once per
    snapshot, so a viewer costs neither a query nor a JSON encoding of the features."""
    rendered = payload(snap, hours_ago, lang)
    seen = dict(seen or {})
    urls: list[Any] = []
    hideouts: list[Any] = []
    changed = 0
    for lid in layer_ids:
        r = rendered[lid]
        if seen.get(lid) == r.digest:
            urls.append(no_update)
        else:
            urls.append(r.url)
            seen[lid] = r.digest
            changed += 1
        style_key = lid + ":style"
        if r.style_digest is None or seen.get(style_key) == r.style_digest:
            hideouts.append(no_update)
        else:
            hideouts.append(r.hideout(lid))
            seen[style_key] = r.style_digest
    return LayerUpdate(urls, hideouts, seen, changed)


@lru_cache(maxsize=64)
def side_panel(
    snap: Snapshot, hours_ago: int, lang: Lang, feed_limit: int = 20
) -> tuple[Any, list[Any], Any]:
    """(updated label, KPI cards, alert feed) for one snapshot: built once, shared by all viewers."""
    state = snap.at(hours_ago)
    label = components.updated_label(
        snap.newest_data, lang, stale=components.is_stale(snap, snap.newest_data)
    )
    cards = components.kpi_cards(components.kpis(snap, state), lang)
    return label, cards, components.alert_feed(state.alerts, lang, limit=feed_limit)
