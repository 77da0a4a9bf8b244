"""`ioc up` as a user runs it: everything starts, the simulated city flows in, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest

from ioc.services.proc import free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ioc_up_runs_the_city_and_stops_cleanly():
    # Not pytest's tmp_path: under root its parents are closed to the unprivileged postgres user.
    data_dir = Path(tempfile.mkdtemp(prefix="ioc-up-")) / "ioc"
    data_dir.parent.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env["IOC_DATA_DIR"] = str(data_dir)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ioc.cli", "up", "--web-port", str(port), "--speed", "120"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
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
        family = psutil.Process(proc.pid).children(recursive=True)
        dead = [p.pid for p in family if p.status() == psutil.STATUS_ZOMBIE]
        assert dead == [], f"children died; see {data_dir}/logs"
        names = " ".join(" ".join(p.cmdline()[:4]) for p in family)
        for part in ("postgres", "tansu", "streams", "alerts.engine", "ioc.tickets.intake", "ioc.web.webserver", "live-sim"):
            assert part in names, (part, names)
        wait_until(lambda: _get(f"http://127.0.0.1:{port}/healthz") == 200, 60, "the web server's /healthz")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
    time.sleep(0.5)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    assert alive == [], f"orphans after Ctrl-C: {[p.cmdline() for p in alive]}"
    assert not (data_dir / "runtime.json").exists()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status)
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
