"""One frozen settings object, built once from the environment (prefix ``IOC_``) and passed down."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Persistent home of the embedded services.

    Root's home is closed to the unprivileged user that runs PostgreSQL, so root gets /var/lib/ioc.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/ioc")
    return Path(platformdirs.user_data_dir("haiphong-ioc"))


class Settings(BaseSettings):
    """Everything configurable, from ``IOC_*`` environment variables (or keyword arguments in tests)."""

    model_config = SettingsConfigDict(env_prefix="IOC_", frozen=True, extra="ignore")

    # External services: when set, `ioc up` starts no embedded one.
    database_url: SecretStr | None = None
    kafka_bootstrap: str | None = None

    data_dir: Path = Field(default_factory=default_data_dir)
    topic_partitions: int = Field(default=3, ge=1, le=256)
    topic_replication: int = Field(default=1, ge=1, le=16)  # production Kafka: 3 (three brokers)
    topic_prefix: str = ""  # isolates parallel runs (tests) on one broker
    consumer_group_prefix: str = "ioc"

    # The demo city (`ioc up`): on first start the simulator publishes this many hours of the city
    # before now with their true times (0: none), plus the early-warning history and
    # `demo_dossier_days` of dossiers before that window (0: none), then runs live at 1x.
    demo_backfill_hours: float = Field(default=24.0, ge=0, le=24 * 7)
    demo_dossier_days: float = Field(default=30.0, ge=0, le=366)
    demo_warning_history: bool = True  # ~200 000 events: 3 fiscal years, 8 weeks of police counts, …
    # Incidents of every class planted within the first 30 minutes after the first start's backfill
    # (a scenario file of simulators/scenarios/; "" for none).
    demo_schedule: str = "demo_schedule"

    # Consumers
    batch_max_records: int = Field(default=5000, ge=1)
    batch_max_seconds: float = Field(default=0.5, gt=0)
    future_tolerance_seconds: float = Field(default=300.0, ge=0)
    late_after_seconds: float = Field(default=3600.0, ge=0)
    sink_mode: Literal["copy", "insert"] = "copy"  # "insert" for servers without COPY (pglite)
    # Size limits, enforced before any parsing: a larger message is dead-lettered "message_too_large".
    max_message_bytes: int = Field(default=256 * 1024, ge=1024)
    # Largest dead-letter copy put on the dead-letter topic (the broker's limit is 1 MiB by default);
    # the original is cut to this and its size sent in the "raw_size" header.
    deadletter_max_bytes: int = Field(default=900 * 1024, ge=1024)
    # Does the broker report end offsets correctly? False for the embedded tansu (its high-watermarks
    # are wrong), so no lag is derived from them; Apache Kafka reports them right.
    broker_offsets_reliable: bool = True

    # Supervision (ioc up): a child that fails `fail_after` times within `fail_window_seconds` is
    # marked failed and restarted at `failed_retry_seconds` intervals from then on.
    restart_backoff_seconds: float = Field(default=0.5, gt=0)
    restart_backoff_max_seconds: float = Field(default=30.0, gt=0)
    fail_after: int = Field(default=5, ge=1)
    fail_window_seconds: float = Field(default=60.0, gt=0)
    failed_retry_seconds: float = Field(default=60.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)  # components write their heartbeat this often
    # How old a heartbeat may be before /healthz calls the component down (several missed beats).
    heartbeat_stale_seconds: float = Field(default=30.0, gt=0)
    # Per-source freshness overrides, seconds: {"camera": [180, 600]} = late after 3 min, silent after 10.
    # Sources not named use their declaration's Freshness (ioc/sources/*.py).
    freshness_overrides: dict[str, tuple[float, float]] = Field(default_factory=dict)

    # Web
    web_host: str = "127.0.0.1"
    web_port: int = 8050
    secret_key: SecretStr | None = None
    refresh_seconds: float = Field(default=2.0, gt=0)
    # A new severe or extreme alert: the wall flies to its place for this long and sounds a tone
    # (the wall's ``?sound=0|1`` overrides; tablets keep their sound off unless asked).
    alert_focus_seconds: float = Field(default=8.0, ge=0)
    wall_alert_sound: bool = True
    tablet_alert_sound: bool = False

    # --- Security (issue 11; see SECURITY.md) ---
    # Outside development the web app refuses to start without a real IOC_SECRET_KEY.
    env: Literal["development", "production"] = "development"
    # Personal data at rest and on the feedback topic: "kid:base64(32 bytes)[,kid:…]", the first
    # encrypts. Unset: a key generated once into <data dir>/personal-data-key (embedded default).
    personal_data_key: SecretStr | None = None
    session_idle_minutes: float = Field(default=30.0, gt=0)
    session_absolute_hours: float = Field(default=12.0, gt=0)
    session_absolute_hours_display: float = Field(default=24.0 * 30, gt=0)  # the wall is a kiosk
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (JSON list of addresses).
    trusted_proxies: tuple[str, ...] = ()
    # Origins allowed to frame /wall (every other page is never framed), JSON list.
    frame_ancestors: tuple[str, ...] = ()
    max_request_bytes: int = Field(default=1_000_000, ge=1024)  # bodies over this are refused unread
    totp_required_roles: tuple[str, ...] = ()  # e.g. ["admin","leader"]: they must enrol a second factor
    audit_retention_days: int | None = Field(default=None, ge=30)  # None: keep the audit trail for good
    open311_posts_per_minute: int = Field(default=30, ge=1)  # per API key and per client address
    # Passwords of the services' database roles with an external database (ioc/db_roles.py), JSON:
    # {"ingest": "...", "alerts": "...", "intake": "...", "web": "..."}; embedded: generated files.
    db_role_passwords: dict[str, SecretStr] = Field(default_factory=dict)
    # Kafka client security (compose: SASL/SCRAM over TLS); the embedded broker is loopback-only PLAINTEXT.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None

    # Where the real public data lives (tests and benchmarks only read from it).
    shared_data_dir: Path = Field(default_factory=lambda: Path(__file__).resolve().parents[2] / "shared" / "data")

    def database_dsn(self) -> str:
        """The libpq connection string; raises when no database is configured."""
        if self.database_url is None:
            raise RuntimeError("no database configured: set IOC_DATABASE_URL or start the embedded one")
        return self.database_url.get_secret_value()


def running_settings(settings: Settings | None = None) -> Settings:
    """Settings, completed from a running ``ioc up`` (its runtime.json) where the environment is silent."""
    s = settings or Settings()
    path = Path(s.data_dir) / "runtime.json"
    if (s.database_url is not None and s.kafka_bootstrap is not None) or not path.exists():
        return s
    doc = json.loads(path.read_text())
    try:
        os.kill(int(doc["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return s  # stale file from a launcher that is gone
    updates: dict[str, object] = {}
    if s.database_url is None and doc.get("database_url"):
        updates["database_url"] = SecretStr(doc["database_url"])
    if s.kafka_bootstrap is None and doc.get("kafka_bootstrap"):
        updates["kafka_bootstrap"] = doc["kafka_bootstrap"]
    return s.model_copy(update=updates)
