"""The audit trail: the one place that writes (and verifies) who did what, when.

Every desk (web logins, the alert lifecycle, the ticket desk, the CLI) appends through :func:`audit`,
in the caller's transaction, so an action and its audit row commit together or not at all.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def audit(
    conn: psycopg.Connection, actor: str, action: str, target: str | None, details: dict[str, Any]
) -> None:
    """Append one row to ``audit_log`` (in the caller's transaction)."""
    conn.execute(
        "INSERT INTO audit_log (actor, action, target, details) VALUES (%s, %s, %s, %s)",
        (actor, action, target, Jsonb(details)),
    )
