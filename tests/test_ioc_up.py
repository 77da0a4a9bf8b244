"""`ioc up` as a user runs it: everything starts, the simulated city flows in, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest

from ioc.services.proc import free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _ignore_sigint_and_sighup() -> None:
    """What ``nohup`` and a shell's background job leave a process with: SIGHUP and SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_ioc_up_runs_the_city_and_stops_cleanly():
    """Started as under ``nohup … &`` (SIGINT and SIGHUP ignored): still supervised, health per component,
    a second ``ioc up`` on the same data folder refused naming the first, Ctrl-C leaves no orphan."""
    # Not pytest's tmp_path: under root its parents are closed to the unprivileged postgres user.
    data_dir = Path(tempfile.mkdtemp(prefix="ioc-up-")) / "ioc"
    data_dir.parent.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env["IOC_DATA_DIR"] = str(data_dir)
    # A short first-start backfill keeps this test quick (tests/test_demo_backfill.py proves the backfill).
    env.update(IOC_DEMO_BACKFILL_HOURS="0.25", IOC_DEMO_DOSSIER_DAYS="0", IOC_DEMO_WARNING_HISTORY="false")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ioc.cli", "up", "--web-port", str(port), "--speed", "120"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=_ignore_sigint_and_sighup,
    )
    try:
        runtime = data_dir / "runtime.json"
        wait_until(runtime.exists, 90, "runtime.json from ioc up")
        dsn = json.loads(runtime.read_text())["database_url"]

        def flowing() -> bool:
            with psycopg.connect(dsn) as conn:
                try:
                    rows = dict(conn.execute("SELECT kind, accepted FROM ingest_stats").fetchall())
                except psycopg.errors.UndefinedTable:  # migrations still running
                    return False
            return all(rows.get(k, 0) > 0 for k in ("camera", "traffic", "air"))

        wait_until(flowing, 120, "simulated events stored by the consumers", interval=1.0)
        family = [p for p in psutil.Process(proc.pid).children(recursive=True) if _alive(p)]
        names = " ".join(" ".join(p.cmdline()[:4]) for p in family if _alive(p))
        for part in ("postgres", "tansu", "streams", "alerts.engine", "ioc.tickets.intake", "ioc.web.webserver", "live-sim"):
            assert part in names, (part, names)
        wait_until(lambda: _get(f"http://127.0.0.1:{port}/healthz") in (200, 503), 60, "the web server's /healthz")

        def components() -> dict:
            return _json(f"http://127.0.0.1:{port}/healthz").get("components", {})

        wanted = {"postgres", "broker", "web", "alerts", "ticket-intake", "simulator", "supervisor",
                  *(f"stream-{k}" for k in ("camera", "traffic", "air", "feedback")),
                  *(f"consumer:{k}" for k in ("camera", "traffic", "air", "feedback"))}
        try:
            wait_until(lambda: wanted <= set(components()), 60, "every component on /healthz", interval=1.0)
        except TimeoutError as exc:
            raise AssertionError(f"missing on /healthz: {sorted(wanted - set(components()))}") from exc
        comps = components()
        assert {n: comps[n]["state"] for n in wanted if n != "postgres"} == {n: "running" for n in wanted - {"postgres"}}
        # A second launcher on the same data folder is refused, naming the first one.
        second = subprocess.run([sys.executable, "-m", "ioc.cli", "up", "--web-port", str(free_port())],
                                env=env, capture_output=True, timeout=60)
        assert second.returncode == 2, second.stderr.decode(errors="replace")[-2000:]
        assert f"pid {proc.pid}" in second.stderr.decode() and f":{port}/" in second.stderr.decode()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
    time.sleep(0.5)
    alive = [p for p in family if _alive(p)]
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    assert alive == [], f"orphans after Ctrl-C: {[p.cmdline() for p in alive]}"
    assert not (data_dir / "runtime.json").exists()


def _json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:  # 503 while something is down still carries the report
        return json.loads(err.read())
    except OSError:
        return {}


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except OSError:
        return 0


def test_first_start_creates_admin_with_a_private_random_password(stack):
    from ioc.accounts import authenticate
    from ioc.launcher import ensure_initial_admin

    path = stack.initial_admin_file
    assert path is not None and path.stat().st_mode & 0o777 == 0o600
    password = path.read_text().strip()
    assert len(password) >= 16
    with psycopg.connect(stack.settings.database_dsn()) as conn:
        user = authenticate(conn, "admin", password)
        assert user is not None and user.role == "admin"
        assert authenticate(conn, "admin", "admin") is None
        assert ensure_initial_admin(conn, path.parent) is None  # only on an empty users table
