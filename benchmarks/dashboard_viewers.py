"""Many viewers, one database reader: p95 latency of the live update for N concurrent viewers.

Starts the real web server (``python -m ioc.web.webserver``, waitress) on an embedded PostgreSQL with
a stored city, keeps fresh events arriving (so every tick changes the picture), then runs N
simulated browsers that each poll the map page's live callback every ``refresh`` seconds, as
dash-renderer does. Prints request latency percentiles, bytes per update, and the refresher's
queries per tick with 0 viewers and with N viewers (from ``/healthz``), plus database
transactions per second from ``pg_stat_database``.

    python -m benchmarks.dashboard_viewers [--viewers 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psycopg
from tqdm import tqdm

from benchmarks._webbench import PASSWORD, USER, database
from ioc.services.proc import free_port, wait_until
from ioc.web import ids
from layers.registry import LAYER_IDS
from tests.webdata import city_events, store


@dataclass
class Viewer:
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    seen: dict[str, object] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        for header in resp.headers.get_all("Set-Cookie") or []:
            for k, morsel in SimpleCookie(header).items():
                self.cookies[k] = morsel.value
        conn.close()
        return resp.status, data, resp

    def login(self) -> None:
        _, page, _ = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
        form = urlencode({"username": USER, "password": PASSWORD, "csrf_token": token, "next": "/"}).encode()
        status, _, _ = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 303:
            raise RuntimeError(f"login failed with HTTP {status}")

    def poll(self, output_key: str) -> tuple[int, int]:
        """One live update as a browser does it: the callback, then a GET of each changed layer's
        URL. Returns (callback HTTP status, bytes received)."""
        body = {
            "output": output_key,
            "outputs": [
                [{"id": ids.layer("map", lid), "property": "url"} for lid in LAYER_IDS],
                [{"id": ids.layer("map", lid), "property": "hideout"} for lid in LAYER_IDS],
                {"id": ids.MAP_KPI, "property": "children"},
                {"id": ids.MAP_FEED, "property": "children"},
                {"id": ids.MAP_SEEN, "property": "data"},
            ],
            "inputs": [
                {"id": ids.MAP_TICK, "property": "n_intervals", "value": 1},
                {"id": ids.MAP_SLIDER, "property": "value", "value": 0},
            ],
            "state": [{"id": ids.MAP_SEEN, "property": "data", "value": self.seen}],
            "changedPropIds": [f"{ids.MAP_TICK}.n_intervals"],
        }
        status, data, _ = self.request(
            "POST",
            "/_dash-update-component",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": self.cookies.get("_csrf_token", "")},
        )
        received = len(data)
        if status == 200:
            response = json.loads(data)["response"]
            self.seen = response[ids.MAP_SEEN]["data"]
            for key, props in response.items():
                if key.startswith("{") and "url" in props:  # a changed layer: fetch it by digest
                    code, layer, _ = self.request("GET", props["url"])
                    if code != 200:
                        raise RuntimeError(f"layer {props['url']} failed with HTTP {code}")
                    received += len(layer)
        elif status != 204:
            raise RuntimeError(f"live callback failed with HTTP {status}: {data[:200]!r}")
        return status, received


def healthz(host: str, port: int) -> dict[str, object]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/healthz")
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data  # type: ignore[no-any-return]


def db_xacts(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100)[int(q) - 1]
        if len(values) >= 2
        else (values[0] if values else float("nan"))
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60.0, help="duration of the loaded phase")
    ap.add_argument("--idle-seconds", type=float, default=20.0, help="duration of the phase with no viewers")
    ap.add_argument("--refresh", type=float, default=2.0, help="refresher period and browser poll interval")
    ap.add_argument("--dsn", default=None)
    args = ap.parse_args()
    host, port = "127.0.0.1", free_port()

    with database(args.dsn) as settings:
        dsn = settings.database_dsn()
        store(dsn, city_events(hours=3, reports=200))
        env = dict(
            os.environ,
            IOC_DATABASE_URL=dsn,
            IOC_KAFKA_BOOTSTRAP="127.0.0.1:9",
            IOC_WEB_HOST=host,
            IOC_WEB_PORT=str(port),
            IOC_DATA_DIR=str(settings.data_dir),
            IOC_REFRESH_SECONDS=str(args.refresh),
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "ioc.web.webserver", "--threads", "32"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stop = threading.Event()

        def ingest() -> None:  # fresh readings every tick: each snapshot differs from the last
            seed = 100
            while not stop.wait(args.refresh):
                seed += 1
                store(
                    dsn,
                    city_events(now=datetime.now(UTC) - timedelta(seconds=5), hours=0, reports=2, seed=seed),
                )

        feeder = threading.Thread(target=ingest, daemon=True)
        try:
            wait_until(lambda: _up(host, port), 60, "the web server")
            feeder.start()
            time.sleep(args.refresh * 2)
            h0, x0, t0 = healthz(host, port), db_xacts(dsn), time.monotonic()
            time.sleep(args.idle_seconds)
            h1, x1, t1 = healthz(host, port), db_xacts(dsn), time.monotonic()

            viewers = [Viewer(host, port) for _ in range(args.viewers)]
            with ThreadPoolExecutor(8) as pool:
                list(tqdm(pool.map(Viewer.login, viewers), total=len(viewers), desc="logging in viewers"))
            status, deps, _ = viewers[0].request("GET", "/_dash-dependencies")
            key = next(d["output"] for d in json.loads(deps) if f"{ids.MAP_KPI}.children" in d["output"])

            latencies: list[float] = []
            update_latencies: list[float] = []
            update_bytes: list[int] = []
            lock = threading.Lock()
            deadline = time.monotonic() + args.seconds

            def run(v: Viewer) -> None:
                time.sleep(random.uniform(0, args.refresh))  # browsers are not in phase
                while time.monotonic() < deadline:
                    started = time.perf_counter()
                    code, size = v.poll(key)
                    took = time.perf_counter() - started
                    with lock:
                        latencies.append(took)
                        if code == 200:
                            update_latencies.append(took)
                            update_bytes.append(size)
                    time.sleep(max(0.0, args.refresh - took))

            h2, x2, t2 = healthz(host, port), db_xacts(dsn), time.monotonic()
            threads = [threading.Thread(target=run, args=(v,)) for v in viewers]
            for th in threads:
                th.start()
            for th in tqdm(threads, desc=f"{args.viewers} viewers for {args.seconds:.0f} s"):
                th.join()
            h3, x3, t3 = healthz(host, port), db_xacts(dsn), time.monotonic()
        finally:
            stop.set()
            server.terminate()
            server.wait(20)

    def per_tick(a: dict[str, object], b: dict[str, object]) -> str:
        ticks = int(b["ticks"]) - int(a["ticks"])  # type: ignore[call-overload]
        queries = int(b["queries"]) - int(a["queries"])  # type: ignore[call-overload]
        return f"{ticks} ticks, {queries} queries = {queries / max(ticks, 1):.2f} per tick"

    print(
        f"viewers: {args.viewers}, poll every {args.refresh:.1f} s, {len(latencies)} requests, "
        f"{len(update_latencies)} carried an update"
    )
    print(
        f"request latency (all):     p50 {1000 * pct(latencies, 50):.0f} ms, p95 {1000 * pct(latencies, 95):.0f} ms, "
        f"p99 {1000 * pct(latencies, 99):.0f} ms"
    )
    print(
        f"live update latency:       p50 {1000 * pct(update_latencies, 50):.0f} ms, "
        f"p95 {1000 * pct(update_latencies, 95):.0f} ms"
    )
    if update_bytes:
        print(
            f"live update size:          median {statistics.median(update_bytes):,.0f} bytes "
            "(callback response + the changed layers fetched by digest)"
        )
    print("refresher queries: 7 per tick (+3 every 30th tick: sources and hourly history)")
    print(f"refresher, no viewers:     {per_tick(h0, h1)}")
    print(f"refresher, {args.viewers} viewers:   {per_tick(h2, h3)}")
    print(
        f"database transactions/s:   {(x1 - x0) / (t1 - t0):.1f} with no viewers, "
        f"{(x3 - x2) / (t3 - t2):.1f} with {args.viewers} viewers (includes the ingest feeder)"
    )


def _up(host: str, port: int) -> bool:
    try:
        return healthz(host, port).get("snapshot_version", 0) > 0  # type: ignore[operator]
    except OSError:
        return False


if __name__ == "__main__":
    main()
