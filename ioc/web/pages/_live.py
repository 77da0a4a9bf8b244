"""What the map and tablet pages' live callbacks send: only the layers a browser does not have yet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dash import ctx, html, no_update
from dash.exceptions import PreventUpdate

from ioc.i18n import Lang
from ioc.web import auth, components
from ioc.web.layer_blobs import payload
from ioc.web.scoping import scoped_snapshot
from ioc.web.snapshot import Snapshot, live


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
    at = snap.newest_data  # the oldest source's newest event: the panel is as old as its stalest part
    stale = snap.error is not None or at is None or any(f.feed != "live" for f in snap.feeds)
    label = html.Div([
        components.updated_label(at, lang, stale=stale),
        components.feed_strip(snap, lang),
    ])
    cards = components.kpi_cards(components.kpis(snap, state), lang)
    return label, cards, components.alert_feed(state.alerts, lang, limit=feed_limit)


@dataclass(frozen=True)
class LiveRefresh:
    """What one browser's tick sends: changed layers, the side panel, and what it has now seen."""

    urls: list[Any]
    hideouts: list[Any]
    label: Any
    cards: list[Any]
    feed: Any
    seen: dict[str, Any]


def live_refresh(hours_ago: int | None, seen: dict[str, Any] | None, feed_limit: int = 20) -> LiveRefresh:
    """The shared body of the map's and the tablet's tick callback (PreventUpdate when nothing changed).

    Call it from a callback whose first output is the pattern-matched list of layers.
    """
    lang = auth.current_lang()
    snap = scoped_snapshot(live().current, auth.current_principal())  # ward users: their units only
    hours = int(hours_ago or 0)
    key = [snap.version, hours, lang]
    seen = seen or {}
    if seen.get("key") == key:
        raise PreventUpdate  # nothing new for this browser
    layer_ids = [o["id"]["layer"] for o in ctx.outputs_list[0]]
    upd = layer_update(snap, hours, lang, layer_ids, seen.get("layers"))
    label, cards, feed = side_panel(snap, hours, lang, feed_limit=feed_limit)
    # "asof": when the tick that built this snapshot started (benchmarks time delivery from it).
    held = {"key": key, "layers": upd.seen, "asof": snap.live.asof.isoformat()}
    return LiveRefresh(upd.urls, upd.hideouts, label, list(cards), feed, held)
