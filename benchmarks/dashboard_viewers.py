"""Many viewers, one database reader: how fast a committed batch reaches N live viewers.

Starts the real web server (``python -m ioc.web.webserver``, waitress) on an embedded PostgreSQL with
a stored city, keeps fresh events arriving (one batch through the real sink every ``--feed``
seconds, so every tick changes the picture), then runs N simulated browsers in ``--procs``
separate processes, each viewer on its own kept-alive HTTP connection, as dash-renderer does:

* ``--mode poll``: each viewer posts the map page's live callback every ``--refresh`` seconds and
  fetches the changed layers by digest;
* ``--mode push``: each viewer holds the page's push stream (``/live/stream``, Server-Sent Events)
  and, on each pushed change, posts the live callback once and fetches the changed layers.

Printed, all measured in this run: latency from each batch's production (before its INSERT) to
each viewer holding the snapshot that includes it (samples = viewers × batches), the request
latency, bytes per update, the refresher's queries per tick with no viewers and with N viewers
(from ``/healthz``), database transactions per second, and the web server's CPU per viewer-hour
(loaded minus idle).

    python -m benchmarks.dashboard_viewers [--viewers 200] [--seconds 60] [--mode poll|push]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psutil
import psycopg

from benchmarks._webbench import PASSWORD, USER, database
from ioc.services.proc import free_port, wait_until
from ioc.web import ids
from layers.registry import LAYER_IDS
from tests.webdata import city_events, store


@dataclass
class Viewer:
    """One simulated browser: a cookie jar and one kept-alive connection (reopened if it drops)."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    seen: dict[str, object] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None
    reconnects: int = 0

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.reconnects += attempt
            try:
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for header in resp.headers.get_all("Set-Cookie") or []:
            for k, morsel in SimpleCookie(header).items():
                self.cookies[k] = morsel.value
        if resp.will_close:
            self.conn.close()
            self.conn = None
        return resp.status, data

    def login(self) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
        form = urlencode({"username": USER, "password": PASSWORD, "csrf_token": token, "next": "/"}).encode()
        status, _ = self.request(
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
        status, data = self.request(
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
                    code, layer = self.request("GET", props["url"])
                    if code != 200:
                        raise RuntimeError(f"layer {props['url']} failed with HTTP {code}")
                    received += len(layer)
        elif status != 204:
            raise RuntimeError(f"live callback failed with HTTP {status}: {data[:200]!r}")
        return status, received

    def held_asof(self) -> float | None:
        """Start time (epoch s) of the tick whose snapshot this viewer now holds."""
        at = self.seen.get("asof")
        return datetime.fromisoformat(at).timestamp() if isinstance(at, str) else None


def _stream_events(v: Viewer, deadline: float):  # type: ignore[no-untyped-def]
    """Yield each pushed event's JSON from ``/live/stream`` on its own connection (SSE)."""
    conn = http.client.HTTPConnection(v.host, v.port, timeout=30)
    cookie = "; ".join(f"{k}={x}" for k, x in v.cookies.items())
    conn.request("GET", "/live/stream", headers={"Cookie": cookie, "Accept": "text/event-stream"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"push stream refused with HTTP {resp.status}")
    data: list[str] = []
    try:
        while time.time() < deadline:
            line = resp.fp.readline()
            if not line:
                return
            text = line.decode().rstrip("\r\n")
            if text.startswith("data:"):
                data.append(text[5:].strip())
            elif not text and data:
                yield json.loads("\n".join(data))
                data = []
    finally:
        conn.close()


def _viewer_process(
    host: str, port: int, count: int, mode: str, refresh: float, start_at: float, seconds: float, out
) -> None:  # type: ignore[no-untyped-def]
    """A process of ``count`` viewers (threads); sends back latencies and what each viewer saw."""
    viewers = [Viewer(host, port) for _ in range(count)]
    for v in viewers:
        v.login()
    _, deps = viewers[0].request("GET", "/_dash-dependencies")
    key = next(d["output"] for d in json.loads(deps) if f"{ids.MAP_KPI}.children" in d["output"])
    lock = threading.Lock()
    requests: list[float] = []
    updates: list[float] = []
    sizes: list[int] = []
    seen: list[list[tuple[float, float]]] = [[] for _ in viewers]  # per viewer: (tick start, held at)
    errors: list[str] = []
    deadline = start_at + seconds

    def record(i: int, v: Viewer, code: int, size: int, took: float) -> None:
        at = v.held_asof()
        with lock:
            requests.append(took)
            if code == 200:
                updates.append(took)
                sizes.append(size)
                if at is not None:
                    seen[i].append((at, time.time()))

    def run_poll(i: int, v: Viewer) -> None:
        time.sleep(max(0.0, start_at - time.time()) + random.uniform(0, refresh))  # not in phase
        while time.time() < deadline:
            started = time.perf_counter()
            code, size = v.poll(key)
            took = time.perf_counter() - started
            record(i, v, code, size, took)
            time.sleep(max(0.0, refresh - took))

    def run_push(i: int, v: Viewer) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < deadline:
            for _event in _stream_events(v, deadline):
                started = time.perf_counter()
                code, size = v.poll(key)
                record(i, v, code, size, time.perf_counter() - started)
            if time.time() < deadline:
                v.reconnects += 1
                time.sleep(1.0)

    def guarded(fn, i: int, v: Viewer) -> None:  # type: ignore[no-untyped-def]
        try:
            fn(i, v)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, not lost
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    body = run_push if mode == "push" else run_poll
    threads = [
        threading.Thread(target=guarded, args=(body, i, v), daemon=True) for i, v in enumerate(viewers)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 120)
    out.send(
        {
            "requests": requests,
            "updates": updates,
            "sizes": sizes,
            "seen": seen,
            "errors": errors[:5],
            "error_count": len(errors),
            "reconnects": sum(v.reconnects for v in viewers),
        }
    )
    out.close()


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


def delivery_latencies(batches: list[float], seen: list[list[tuple[float, float]]]) -> list[float]:
    """For every (viewer, batch): first time the viewer held a snapshot whose tick started after
    the batch was produced, minus the batch's production time."""
    out: list[float] = []
    for views in seen:
        views = sorted(views, key=lambda t: t[1])
        for b in batches:
            held = [at for asof, at in views if asof >= b]
            if held:
                out.append(min(held) - b)
    return out


def _cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--mode", choices=("poll", "push"), default="poll")
    ap.add_argument("--procs", type=int, default=4, help="viewer processes")
    ap.add_argument("--seconds", type=float, default=60.0, help="duration of the loaded phase")
    ap.add_argument("--idle-seconds", type=float, default=20.0, help="duration of the phase with no viewers")
    ap.add_argument("--refresh", type=float, default=2.0, help="refresher period and browser poll interval")
    ap.add_argument("--feed", type=float, default=2.0, help="seconds between produced batches")
    ap.add_argument("--threads", type=int, default=0, help="waitress threads (default: viewers + 32)")
    ap.add_argument("--dsn", default=None)
    args = ap.parse_args()
    host, port = "127.0.0.1", free_port()
    threads = args.threads or args.viewers + 32  # a push stream holds one server thread

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
            [sys.executable, "-m", "ioc.web.webserver", "--threads", str(threads)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stop = threading.Event()
        batches: list[float] = []

        def ingest() -> None:  # fresh readings every period: each snapshot differs from the last
            seed = 100
            while not stop.wait(args.feed):
                seed += 1
                produced = time.time()
                store(
                    dsn,
                    city_events(now=datetime.now(UTC) - timedelta(seconds=5), hours=0, reports=2, seed=seed),
                )
                batches.append(produced)

        feeder = threading.Thread(target=ingest, daemon=True)
        results: list[dict[str, object]] = []
        try:
            wait_until(lambda: _up(host, port), 60, "the web server")
            feeder.start()
            time.sleep(args.refresh * 2)
            h0, x0, t0, c0 = healthz(host, port), db_xacts(dsn), time.monotonic(), _cpu(server.pid)
            time.sleep(args.idle_seconds)
            h1, x1, t1, c1 = healthz(host, port), db_xacts(dsn), time.monotonic(), _cpu(server.pid)

            ctx = multiprocessing.get_context("spawn")
            per = [
                args.viewers // args.procs + (1 if i < args.viewers % args.procs else 0)
                for i in range(args.procs)
            ]
            start_at = time.time() + 15 + args.viewers * 0.05  # every process logged in by then
            pipes, procs = [], []
            for count in per:
                if not count:
                    continue
                parent, child = ctx.Pipe(duplex=False)
                p = ctx.Process(
                    target=_viewer_process,
                    args=(host, port, count, args.mode, args.refresh, start_at, args.seconds, child),
                )
                p.start()
                pipes.append(parent)
                procs.append(p)
            time.sleep(max(0.0, start_at - time.time()))
            first_batch = len(batches)
            h2, x2, t2, c2 = healthz(host, port), db_xacts(dsn), time.monotonic(), _cpu(server.pid)
            print(
                f"{args.viewers} viewers ({args.mode}) in {len(procs)} processes for {args.seconds:.0f} s …"
            )
            time.sleep(args.seconds)
            h3, x3, t3, c3 = healthz(host, port), db_xacts(dsn), time.monotonic(), _cpu(server.pid)
            last_batch = len(batches)
            for parent in pipes:
                if parent.poll(args.seconds + 180):
                    results.append(parent.recv())
            for p in procs:
                p.join(30)
            server_rss = psutil.Process(server.pid).memory_info().rss / 2**20
        finally:
            stop.set()
            server.terminate()
            server.wait(20)

    requests = [x for r in results for x in r["requests"]]  # type: ignore[attr-defined]
    updates = [x for r in results for x in r["updates"]]  # type: ignore[attr-defined]
    sizes = [x for r in results for x in r["sizes"]]  # type: ignore[attr-defined]
    seen = [v for r in results for v in r["seen"]]  # type: ignore[attr-defined]
    errors = sum(int(r["error_count"]) for r in results)  # type: ignore[call-overload]
    reconnects = sum(int(r["reconnects"]) for r in results)  # type: ignore[call-overload]
    # Batches whose delivery the loaded phase can show (not the last refresh period's).
    timed = [b for b in batches[first_batch:last_batch] if b < time.time() - 2 * args.refresh]
    lat = delivery_latencies(timed, seen)

    def per_tick(a: dict[str, object], b: dict[str, object]) -> tuple[int, float]:
        ticks = int(b["ticks"]) - int(a["ticks"])  # type: ignore[call-overload]
        queries = int(b["queries"]) - int(a["queries"])  # type: ignore[call-overload]
        return ticks, queries / max(ticks, 1)

    (ti, qi), (tl, ql) = per_tick(h0, h1), per_tick(h2, h3)
    idle_rate, loaded_rate = (c1 - c0) / (t1 - t0), (c3 - c2) / (t3 - t2)
    per_viewer_hour = (loaded_rate - idle_rate) * 3600 / max(args.viewers, 1)
    load = os.getloadavg()
    print(
        f"viewers: {args.viewers} ({args.mode}), {len(procs)} viewer processes, kept-alive connections; "
        f"load average {load[0]:.2f} (1 min), {os.cpu_count()} CPUs"
    )
    print(
        f"batch produced → viewer holds it: p50 {1000 * pct(lat, 50):.0f} ms, p95 {1000 * pct(lat, 95):.0f} ms, "
        f"p99 {1000 * pct(lat, 99):.0f} ms ({len(lat)} samples = viewers × {len(timed)} batches)"
    )
    print(
        f"request latency (all):     p50 {1000 * pct(requests, 50):.0f} ms, p95 {1000 * pct(requests, 95):.0f} ms, "
        f"p99 {1000 * pct(requests, 99):.0f} ms ({len(requests)} requests, {len(updates)} carried an update)"
    )
    if sizes:
        print(
            f"live update size:          median {statistics.median(sizes):,.0f} bytes (callback + changed layers)"
        )
    print(f"refresher, no viewers:     {ti} ticks, {qi:.2f} queries per tick")
    print(f"refresher, {args.viewers} viewers:   {tl} ticks, {ql:.2f} queries per tick")
    print(
        f"database transactions/s:   {(x1 - x0) / (t1 - t0):.1f} with no viewers, "
        f"{(x3 - x2) / (t3 - t2):.1f} with {args.viewers} viewers (includes the feeder)"
    )
    print(
        f"web server CPU:            {idle_rate:.3f} CPU-s/s idle, {loaded_rate:.3f} loaded → "
        f"{per_viewer_hour:.1f} CPU-s per viewer-hour; RSS {server_rss:.0f} MiB"
    )
    print(f"viewer errors: {errors}, reconnects: {reconnects}")


def _up(host: str, port: int) -> bool:
    try:
        return healthz(host, port).get("snapshot_version", 0) > 0  # type: ignore[operator]
    except OSError:
        return False


if __name__ == "__main__":
    main()
