"""Time until N map features (default 10 000) are painted in headless Chromium.

A snapshot with N cameras is served by the real app (waitress, login, Dash callbacks, dash-leaflet
GeoJSON layer); the clock runs from navigation to the moment N camera markers are in the DOM
and a frame has been painted. Also prints the size of that snapshot update on the wire.

    python -m benchmarks.dashboard_paint [--features 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import threading
import time
from datetime import UTC, datetime
from types import MappingProxyType

from benchmarks._webbench import CHROMIUM_ARGS, PASSWORD, USER, database
from ioc.web.app import create_app
from ioc.web.layer_blobs import payload
from ioc.web.queries import SourceInfo
from ioc.web.snapshot import CameraState, CityState, LiveSnapshot, Snapshot


def synthetic_snapshot(owner: LiveSnapshot, n: int) -> Snapshot:
    """``n`` cameras on a grid over the city, a mix of statuses."""
    side = math.ceil(math.sqrt(n))
    sources, cams = {}, []
    statuses = ("online", "online", "online", "offline", "incident")
    for i in range(n):
        sid = f"bench-cam-{i:05d}"
        lon = 106.45 + 0.45 * (i % side) / side
        lat = 20.70 + 0.30 * (i // side) / side
        sources[sid] = SourceInfo(sid, "camera", f"Camera {i}", lon, lat, None, None, {})
        cams.append(CameraState(sid, statuses[i % len(statuses)]))  # type: ignore[arg-type]
    now = datetime.now(UTC)
    live = CityState(
        asof=now, sources=MappingProxyType(sources), boundaries=owner.boundaries, cameras=tuple(cams)
    )
    return Snapshot(version=1, refreshed_at=now, live=live)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dsn", default=None, help="use this database instead of an embedded one")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright
    from waitress import create_server

    with database(args.dsn) as settings:
        owner = LiveSnapshot(settings)
        snap = synthetic_snapshot(owner, args.features)
        owner._publish(snap)  # a fixed snapshot: the benchmark measures the browser, not the database
        layers = payload(snap, 0, "vi")
        update_bytes = sum(
            len(json.dumps(r.data.features, separators=(",", ":"), ensure_ascii=False).encode())
            for r in layers.values()
        )
        app = create_app(settings, live_snapshot=owner, start=False)
        server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
        times: list[float] = []
        spans: list[list[float]] = []  # [layers fetched, markers created, painted] in page time
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
            )
            ctx = browser.new_context(viewport={"width": 1600, "height": 900})
            page = ctx.new_page()
            page.goto(base + "/login")
            page.fill("#username", USER)
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(base + "/")
            for _ in range(args.runs):
                t0 = time.perf_counter()
                page.goto(base + "/")
                # Canvas-drawn markers have no DOM node: count what the layer's pointToLayer created.
                page.wait_for_function(
                    f"() => (window.ioc && window.ioc.map.drawn.cameras || 0) >= {args.features}",
                    polling="raf",
                    timeout=120_000,
                )
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                times.append(time.perf_counter() - t0)
                spans.append(
                    page.evaluate(
                        "() => { const m = window.ioc.map, e = performance.getEntriesByType('resource')"
                        ".filter(r => r.name.includes('/layers/')).map(r => r.responseEnd);"
                        " return [Math.max(...e) / 1000, (m.lastAt.cameras - m.firstAt.cameras) / 1000,"
                        " performance.now() / 1000]; }"
                    )
                )
            browser.close()
        server.task_dispatcher.shutdown()
        server.close()
        app.server.extensions["ioc"]["pool"].close()
    print(f"features painted: {args.features}")
    print("time to paint (page load → all markers drawn), s: " + ", ".join(f"{t:.2f}" for t in times))
    print(f"median {statistics.median(times):.2f} s (target ≤ 2 s)")
    for fetched, create, painted in spans:
        print(
            f"  in the page: layer JSON received at {fetched:.2f} s, {args.features} markers created in "
            f"{create:.2f} s, painted by {painted:.2f} s"
        )
    print(f"snapshot update (all layers, first load): {update_bytes:,} bytes")


if __name__ == "__main__":
    main()
