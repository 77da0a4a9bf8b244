"""The directive desk's own settings, from ``IOC_*`` environment variables (secrets never stored).

Kept apart from :mod:`ioc.settings` so the shared file stays untouched; the same ``IOC_`` prefix.
"""

from __future__ import annotations

import os

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DirectiveSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOC_", frozen=True, extra="ignore")

    # E-mail (SMTP). No host: e-mail deliveries stay pending and say why.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "ioc@haiphong.gov.vn"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    # Links in messages point here (the dashboard as the recipients reach it).
    public_url: str = "http://127.0.0.1:8050"

    # Webhooks: the default HMAC key (a channel may name another variable in secret_env).
    directives_webhook_secret: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)

    # Retries: attempt n waits retry_base * 2**(n-1) seconds (capped), failed after max_attempts.
    delivery_max_attempts: int = Field(default=6, ge=1, le=50)
    delivery_retry_base_seconds: float = Field(default=30.0, gt=0)
    delivery_retry_cap_seconds: float = Field(default=3600.0, gt=0)

    # Worker
    directives_tick_seconds: float = Field(default=15.0, gt=0)

    # The information-source system (hệ thống thông tin nguồn): where public warnings go.
    cap_endpoint: str | None = None
    cap_endpoint_token: SecretStr | None = None
    cap_sender: str = "ioc@haiphong.gov.vn"
    cap_timeout_seconds: float = Field(default=10.0, gt=0)

    # Attachments
    max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    def webhook_key(self, secret_env: str | None) -> bytes | None:
        """The HMAC key of a channel: its own variable, else the default one; ``None`` if unset."""
        if secret_env:
            value = os.environ.get(secret_env)
            if value:
                return value.encode()
        return self.directives_webhook_secret.get_secret_value().encode() if self.directives_webhook_secret else None

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        return min(self.delivery_retry_cap_seconds, self.delivery_retry_base_seconds * 2 ** max(0, attempts - 1))
