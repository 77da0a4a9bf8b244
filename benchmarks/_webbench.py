"""Shared set-up for the dashboard benchmarks: an embedded PostgreSQL with the schema and a user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from pydantic import SecretStr

from benchmarks._scratch import make_scratch, remove_tree
from ioc import accounts, db
from ioc.launcher import Stack
from ioc.settings import Settings

USER, PASSWORD = "viewer", "do-thi-thong-minh-do-tai"  # not built on the user name (check_password)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def database(dsn: str | None = None) -> Iterator[Settings]:
    """Settings for a migrated database with the benchmark user: ``dsn``, or an embedded server."""
    root: Path = make_scratch()  # removed below, at exit and on SIGTERM, secrets first
    stack = None
    try:
        if dsn is None:
            # No broker is needed: a placeholder bootstrap keeps the launcher from starting one.
            stack = Stack(Settings(data_dir=root, database_url=None, kafka_bootstrap="127.0.0.1:9"))
            settings = stack.start_services()
        else:
            settings = Settings(data_dir=root, database_url=SecretStr(dsn), kafka_bootstrap="127.0.0.1:9")
        db.migrate(settings.database_dsn())
        from datetime import UTC, datetime

        from geodata.admin import AdminAssigner
        from geodata.boundaries import boundary_set_for
        from geodata.registry import sync_sources
        from geodata.sites import load_sites

        assign = AdminAssigner(boundary_set_for(datetime.now(UTC).date())).assign
        with psycopg.connect(settings.database_dsn(), autocommit=True) as conn:
            sync_sources(conn, load_sites(), assign)
            accounts.add_user(conn, USER, PASSWORD, "leader", replace=True)
        yield settings
    finally:
        if stack is not None:
            stack.stop()
        remove_tree(root)
