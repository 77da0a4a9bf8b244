"""The supervisor: a child that exits is restarted with backoff, one that keeps failing is marked failed
and still retried at a slower pace, and the others are never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg
import pytest

from ioc.services.proc import wait_until
from ioc.services.supervisor import (
    ChildSpec,
    ChildStatus,
    ProcessHandle,
    RestartPolicy,
    Supervisor,
    describe_exit,
)

FAST = RestartPolicy(backoff=0.05, backoff_max=0.4, fail_after=3, window=60.0, failed_retry=1.0)


def _python(code: str) -> ChildSpec:
    def start() -> ProcessHandle:
        return ProcessHandle(subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL))

    return ChildSpec(code[:20], "process", start=start)


def test_a_child_killed_is_restarted_and_the_others_are_untouched():
    seen: list[ChildStatus] = []
    sup = Supervisor(FAST, on_change=seen.append)
    sleeper = ChildSpec("sleeper", "process", start=_python("import time; time.sleep(120)").start)
    other = ChildSpec("other", "process", start=_python("import time; time.sleep(120)").start)
    sup.add(sleeper)
    sup.add(other)
    other_pid = sup.handle("other").pid  # type: ignore[union-attr]
    try:
        for n in range(1, 3):
            pid = sup.handle("sleeper").pid  # type: ignore[union-attr]
            os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]

            def restarted(old: int | None = pid) -> bool:
                sup.check()
                h = sup.handle("sleeper")
                return h is not None and h.pid != old and sup.status()["sleeper"].state == "running"

            wait_until(restarted, 20, f"restart {n}")
        st = sup.status()
        assert st["sleeper"].restarts == 2 and st["sleeper"].last_exit == "killed by SIGKILL"
        assert st["other"].restarts == 0 and sup.handle("other").pid == other_pid  # type: ignore[union-attr]
        assert [s.state for s in seen if s.name == "sleeper"] == ["running", "restarting", "running",
                                                                   "restarting", "running"]
    finally:
        sup.stop_all()
    assert sup.names() == []


def test_a_child_that_keeps_failing_is_marked_failed_and_still_retried():
    sup = Supervisor(FAST)
    failing = ChildSpec("failing", "process", start=_python("raise SystemExit(3)").start)
    sup.add(failing)
    try:
        def failed() -> bool:
            sup.check()
            return sup.status()["failing"].state == "failed"

        wait_until(failed, 20, "the failed state")
        st = sup.status()["failing"]
        assert st.last_exit == "exit 3"
        assert st.restarts == FAST.fail_after - 1  # started once, restarted twice, failed on the third exit
        # Still retried, at the slower pace (failed_retry).
        wait_until(lambda: (sup.check(), sup.status()["failing"].restarts > st.restarts)[1], 20, "a retry")
    finally:
        sup.stop_all()


def test_a_start_that_raises_counts_as_a_failure():
    calls = []

    def start() -> ProcessHandle:
        calls.append(1)
        if len(calls) > 1:
            raise OSError("address already in use")
        return ProcessHandle(subprocess.Popen([sys.executable, "-c", "pass"]))

    sup = Supervisor(FAST)
    sup.add(ChildSpec("web", "process", start=start))
    wait_until(lambda: (sup.check(), sup.status()["web"].state == "failed")[1], 20, "failed")
    assert "address already in use" in (sup.status()["web"].last_exit or "")
    sup.stop_all()


def test_exit_descriptions():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(0) == "exit 0"


@pytest.mark.integration
def test_consumer_killed_repeatedly_is_marked_failed_on_healthz_and_others_untouched(stack):
    """Issue 10 (item 7): a child killed repeatedly is restarted, marked failed after the threshold,
    the others untouched; component_health says so, and the health report is ``down``."""
    from ioc import health
    from ioc.launcher import Stack, policy_of

    st = Stack(stack.settings.model_copy(update={
        "restart_backoff_seconds": 0.1, "fail_after": 3, "fail_window_seconds": 120.0,
        "failed_retry_seconds": 1.0, "heartbeat_seconds": 0.5}))
    st.start_services()
    st._prepared = True  # the fixture prepared this database
    assert policy_of(st.settings).fail_after == 3
    dsn = st.settings.database_dsn()
    thread, stop = st.supervise_in_background()
    try:
        st.start_consumers()
        others = {n: p.pid for n, p in st.children.items() if n != "stream-air"}
        kills = 0
        while kills < 3:
            pid = st.children["stream-air"].pid
            os.kill(pid, signal.SIGKILL)
            kills += 1
            if kills < 3:
                wait_until(lambda p=pid: "stream-air" in st.children and st.children["stream-air"].pid != p
                           and st.supervisor.status()["stream-air"].state == "running", 30, f"restart {kills}")

        def row() -> tuple | None:
            with psycopg.connect(dsn) as conn:
                return conn.execute("SELECT state, restarts, last_exit FROM component_health"
                                    " WHERE component = 'stream-air'").fetchone()

        wait_until(lambda: (row() or ("",))[0] == "failed", 30, "stream-air marked failed")
        failed_row = row()
        with psycopg.connect(dsn) as conn:
            rep = health.report(conn, st.settings)
        # Still retried at the slower pace: running again within failed_retry.
        wait_until(lambda: st.supervisor.status()["stream-air"].state == "running", 30, "retry after failed")
        assert {n: p.pid for n, p in st.children.items() if n != "stream-air"} == others
        assert all(p.poll() is None for p in st.children.values())
    finally:
        stop.set()
        thread.join(5)
        st.stop()
    comp = {c.name: c for c in rep.components}
    assert failed_row[0] == "failed" and failed_row[2] == "killed by SIGKILL"
    assert comp["stream-air"].status == "down" and rep.status == "down"
    assert all(comp[n].status == "ok" for n in others)
    print(f"\nchild killed repeatedly: stream-air SIGKILLed {kills}×, restarted {failed_row[1]}×, marked failed"
          f" after {kills} exits (component_health {failed_row}); {len(others)} other consumers untouched;"
          f" /healthz overall {rep.status}")


@pytest.mark.integration
def test_a_web_child_that_cannot_bind_is_failed_and_the_centre_keeps_running(stack):
    """Issue 10: one web child that could not bind its port stopped every other child and `ioc up`."""
    import socket

    from ioc.launcher import Stack

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    st = Stack(stack.settings.model_copy(update={
        "web_port": taken.getsockname()[1], "restart_backoff_seconds": 0.1, "fail_after": 3,
        "failed_retry_seconds": 30.0}))
    st.start_services()
    thread, stop = st.supervise_in_background()
    try:
        st.start_consumers()
        pids = {n: p.pid for n, p in st.children.items()}
        st.spawn("web", ["-m", "ioc.web.webserver"])
        wait_until(lambda: st.supervisor.status()["web"].state == "failed", 120, "web marked failed")
        web = st.supervisor.status()["web"]
        consumers = {n: p.pid for n, p in st.children.items() if n != "web"}
        alive = all(st.children[n].poll() is None for n in consumers)
    finally:
        stop.set()
        thread.join(5)
        st.stop()
        taken.close()
    assert consumers == pids and alive, "the other children were not touched"
    assert web.restarts == 2 and web.last_exit is not None and web.last_exit.startswith("exit")
    print(f"\nweb cannot bind: {web.restarts + 1} starts, marked {web.state} ({web.last_exit}); {len(consumers)}"
          " consumers untouched")
