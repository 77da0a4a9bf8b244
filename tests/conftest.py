"""Real services for the tests, started through the product's own launcher (never mocks).

One embedded PostgreSQL server and one broker per session; each test that needs them gets a fresh
database and a unique topic prefix, so tests are isolated without paying for new servers.
With ``CI=true`` a service that cannot start fails the run instead of skipping.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from ioc.launcher import Stack
from ioc.settings import Settings

# One personal-data key for the test session (and the child processes the launcher starts, which
# inherit the environment), so no test writes a key file outside its temporary directories.
os.environ.setdefault("IOC_PERSONAL_DATA_KEY", "test:dGVzdC1rZXktZm9yLXBlcnNvbmFsLWRhdGEtMzJieSE")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data beside the project (skip with a reason when absent)."""
    if not SHARED_DATA.is_dir():
        _unavailable(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def services() -> Iterator[Stack]:
    """The embedded PostgreSQL and broker, started once per session by the launcher."""
    root = Path(tempfile.mkdtemp(prefix="ioc-test-"))
    stack = Stack(Settings(data_dir=root, database_url=None, kafka_bootstrap=None))
    try:
        stack.start_services()
    except Exception as exc:  # noqa: BLE001 - reported as skip/fail with the reason
        stack.stop()
        _unavailable(f"could not start embedded services: {exc}")
    yield stack
    stack.stop()


@pytest.fixture
def stack(services: Stack, tmp_path: Path) -> Iterator[Stack]:
    """A fresh database and topic namespace on the session's services, schema and sources ready."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin_dsn = services.settings.database_dsn()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    settings = services.settings.model_copy(update={
        "database_url": SecretStr(dsn), "topic_prefix": f"{name}.", "data_dir": tmp_path,
        "batch_max_records": 2000, "batch_max_seconds": 0.3,
    })
    st = Stack(settings)
    st.start_services()  # nothing embedded to start: both services are configured
    st.prepare()
    yield st
    st.stop()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_dsn(stack: Stack) -> str:
    return stack.settings.database_dsn()


@pytest.fixture
def kafka_bootstrap(stack: Stack) -> str:
    return stack.settings.kafka_bootstrap or ""
