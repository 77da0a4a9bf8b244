"""A running dashboard in headless Debian Chromium, fed through the real spine.

Events go to the broker, the stack's consumers store them, and the app (waitress, a free port)
reads the database. Playwright drives ``/usr/bin/chromium`` (never ``playwright install``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from ioc import accounts
from ioc.kafka import make_producer
from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.topics import topic_for
from ioc.web.app import create_app
from tests.conftest import _unavailable
from tests.streamutil import table_counts
from tests.webclient import PASSWORD
from tests.webdata import city_events, insert_alert

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
INGESTED_CAMERAS = 6


@dataclass
class Dashboard:
    base: str
    stack: Stack
    ingested_cameras: int


@dataclass
class Watch:
    """Console errors and requests that left the machine, for one page."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def e2e_stack(services: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Like ``tests.conftest.stack`` (fresh database and topic prefix) but shared by a module's
    browser tests: starting consumers and ingesting once keeps the e2e suite short."""
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    admin_dsn = services.settings.database_dsn()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    settings = services.settings.model_copy(
        update={
            "database_url": SecretStr(admin_dsn.rsplit("/", 1)[0] + "/" + name),
            "topic_prefix": f"{name}.",
            "data_dir": tmp_path_factory.mktemp("e2e"),
            "batch_max_records": 2000,
            "batch_max_seconds": 0.3,
        }
    )
    st = Stack(settings)
    st.start_services()
    st.prepare()
    yield st
    st.stop()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def dashboard(e2e_stack: Stack) -> Iterator[Dashboard]:
    stack = e2e_stack
    events = city_events(hours=0.5, step_min=10, cameras=INGESTED_CAMERAS, reports=12)
    producer = make_producer(stack.settings.kafka_bootstrap or "")
    for e in events:
        producer.send(topic_for(e.kind, stack.settings.topic_prefix), key=e.key(), value=e.to_json())
    producer.flush()
    producer.close()
    stack.start_consumers()
    dsn = stack.settings.database_dsn()
    wait_until(
        lambda: sum(v for k, v in table_counts(dsn).items() if k != "deadletter") >= len(events),
        120,
        f"{len(events)} events stored by the consumers",
    )
    insert_alert(
        dsn,
        "e2e-jam",
        "severe",
        "new",
        "Ùn tắc nghiêm trọng cầu Bính",
        "Severe jam on Bính bridge",
        106.675,
        20.87,
    )
    insert_alert(
        dsn, "e2e-cam", "minor", "acknowledged", "Camera mất kết nối", "Camera offline", 106.69, 20.85
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "lan", PASSWORD, "leader", "Nguyễn Thị Lan")
        accounts.add_user(conn, "tuong", PASSWORD, "display")
    from waitress import create_server

    # The seeded city is frozen at start-up while the browser tests run for minutes: a day of freshness
    # keeps its cameras "online" (each camera's own heartbeat decides that, and it ages like real data).
    day = (86_400.0, 86_400.0)
    settings = stack.settings.model_copy(update={"refresh_seconds": 1.0, "freshness_overrides": {
        k: day for k in ("camera", "traffic", "air", "feedback")}})
    app = create_app(settings)
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Dashboard(f"http://127.0.0.1:{server.effective_port}", stack, INGESTED_CAMERAS)  # type: ignore[union-attr]
    finally:
        server.task_dispatcher.shutdown()  # finish in-flight requests before the sockets close
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def watch(page: Any, base: str) -> Watch:
    w = Watch()
    page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    page.on(
        "request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else w.external.append(r.url)
    )
    return w


def log_in(page: Any, base: str, path: str, user: str = "lan") -> None:
    page.goto(base + path)
    page.wait_for_selector("#login-form")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(base + path.split("?")[0] + "*")
    if page.url.split("?")[0] != base + path.split("?")[0]:  # "/" lands each role on its home (leaders: /leader)
        page.goto(base + path)


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
