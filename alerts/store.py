"""Alerts in PostgreSQL (tables of ``ioc/schema/020_alerts.sql``): save, load, transition, list open.

Every function takes an open psycopg 3 connection and runs in its own transaction block (a
savepoint when the caller already has one). ``Alert`` objects carry their whole timeline; saving
appends the entries not yet stored, so a save is idempotent. Changes to one alert go through
``transition``/``apply_rule_update``, which lock the row (``FOR UPDATE``) so two operators or the
engine and an operator cannot overwrite each other's change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row

from alerts.model import Agency, AgencyMap, Alert, AlertUpdate, EscalationPolicy, TimelineEntry, apply_update

_COLUMNS: LiteralString = (
    "alert_id, alert_key, rule_id, alert_class, severity, state, active, title_vi, title_en, detail_vi, detail_en,"
    " source_id, admin_unit, lon, lat, value, agency_code, agency_vi, agency_en, assignee, silenced_until,"
    " escalation_level, created_at, updated_at, last_seen, rule_version"
)

UPSERT_ALERT: LiteralString = (
    "INSERT INTO alerts (" + _COLUMNS + ") VALUES (" + ", ".join(["%s"] * 26) + ")"
    " ON CONFLICT (alert_id) DO UPDATE SET severity = EXCLUDED.severity, state = EXCLUDED.state,"
    " active = EXCLUDED.active, title_vi = EXCLUDED.title_vi, title_en = EXCLUDED.title_en,"
    " detail_vi = EXCLUDED.detail_vi, detail_en = EXCLUDED.detail_en, source_id = EXCLUDED.source_id,"
    " admin_unit = EXCLUDED.admin_unit, lon = EXCLUDED.lon, lat = EXCLUDED.lat, value = EXCLUDED.value,"
    " agency_code = EXCLUDED.agency_code, agency_vi = EXCLUDED.agency_vi, agency_en = EXCLUDED.agency_en,"
    " assignee = EXCLUDED.assignee, silenced_until = EXCLUDED.silenced_until,"
    " escalation_level = EXCLUDED.escalation_level, updated_at = EXCLUDED.updated_at, last_seen = EXCLUDED.last_seen,"
    " rule_version = coalesce(EXCLUDED.rule_version, alerts.rule_version)"
)
INSERT_EVENT: LiteralString = (
    "INSERT INTO alert_events (alert_id, seq, at, actor, action, state, comment, severity, value)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (alert_id, seq) DO NOTHING"
)
MAX_SEQ: LiteralString = "SELECT coalesce(max(seq), 0) FROM alert_events WHERE alert_id = %s"
SELECT_BY_ID: LiteralString = "SELECT " + _COLUMNS + " FROM alerts WHERE alert_id = %s"
SELECT_BY_ID_FOR_UPDATE: LiteralString = SELECT_BY_ID + " FOR UPDATE"
SELECT_OPEN_BY_KEY_FOR_UPDATE: LiteralString = (
    "SELECT " + _COLUMNS + " FROM alerts WHERE alert_key = %s AND state <> 'resolved' FOR UPDATE"
)
SELECT_OPEN: LiteralString = (
    "SELECT " + _COLUMNS + " FROM alerts WHERE state <> 'resolved'"
    " AND (%s::timestamptz IS NULL OR silenced_until IS NULL OR silenced_until <= %s::timestamptz)"
    " ORDER BY updated_at DESC LIMIT %s"
)
SELECT_NEW_IDS: LiteralString = "SELECT alert_id FROM alerts WHERE state = 'new' AND escalation_level < %s"
SELECT_EVENTS: LiteralString = (
    "SELECT alert_id, at, actor, action, state, comment, severity, value FROM alert_events"
    " WHERE alert_id = ANY(%s) ORDER BY alert_id, seq"
)


def save_alert(conn: psycopg.Connection, alert: Alert) -> None:
    """Upsert the alert row and append its timeline entries that are not stored yet."""
    with conn.transaction():
        conn.execute(UPSERT_ALERT, _row(alert))
        row = conn.execute(MAX_SEQ, (alert.alert_id,)).fetchone()
        stored = row[0] if row else 0
        append_timeline(conn, alert.alert_id, alert.timeline[stored:], first_seq=stored + 1)


def append_timeline(
    conn: psycopg.Connection,
    alert_id: uuid.UUID,
    entries: tuple[TimelineEntry, ...] | list[TimelineEntry],
    first_seq: int,
) -> None:
    """Insert timeline entries numbered from ``first_seq`` (already stored numbers are skipped)."""
    if not entries:
        return
    with conn.cursor() as cur:
        cur.executemany(
            INSERT_EVENT,
            [
                (alert_id, first_seq + i, e.at, e.actor, e.action.value, e.state.value, e.comment,
                 e.severity.value if e.severity else None, e.value)
                for i, e in enumerate(entries)
            ],
        )  # fmt: skip


def get_alert(conn: psycopg.Connection, alert_id: uuid.UUID) -> Alert | None:
    """One alert with its timeline, or ``None``."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(SELECT_BY_ID, (alert_id,)).fetchone()
    return _load(conn, [row])[0] if row else None


def list_open_alerts(
    conn: psycopg.Connection, *, now: datetime | None = None, limit: int = 500
) -> list[Alert]:
    """Unresolved alerts, most recently changed first; with ``now``, silenced ones are left out."""
    if limit < 1:
        raise ValueError(f"limit must be ≥ 1, got {limit}")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(SELECT_OPEN, (now, now, limit)).fetchall()
    return _load(conn, rows)


def transition(conn: psycopg.Connection, alert_id: uuid.UUID, change: Callable[[Alert], Alert]) -> Alert:
    """Lock the alert, apply ``change`` (e.g. ``lambda a: a.acknowledge(user, now, comment)``), save it.

    The model's ``InvalidTransition``/``ValueError`` propagate and nothing is written.
    """
    with conn.transaction():
        current = _locked(conn, alert_id)
        if current is None:
            raise LookupError(f"no alert {alert_id}")
        changed = change(current)
        if changed.alert_id != current.alert_id:
            raise ValueError("a transition must not change the alert id")
        save_alert(conn, changed)
        return changed


def apply_rule_update(conn: psycopg.Connection, update: AlertUpdate, agencies: AgencyMap) -> Alert | None:
    """Fold a rule's update into the open alert of its key (or open one); ``None`` for a clear
    with nothing open. Returns the alert as saved (publish it on ``ioc.alerts``)."""
    with conn.transaction():
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(SELECT_OPEN_BY_KEY_FOR_UPDATE, (update.key,)).fetchone()
        current = _load(conn, [row])[0] if row else None
        result = apply_update(current, update, agencies)
        if result is not None and result is not current:
            save_alert(conn, result)
            # One incident that trips several rules or sensors is one incident with its members.
            from alerts.incidents import attach_alert

            attach_alert(conn, result, result.rule_version)
        return result


def escalate_due(conn: psycopg.Connection, now: datetime, policy: EscalationPolicy) -> list[Alert]:
    """Escalate every unacknowledged alert that waited too long (one locked transaction each);
    returns the escalated alerts, to publish."""
    ids = [r[0] for r in conn.execute(SELECT_NEW_IDS, (policy.max_level,)).fetchall()]
    out = []
    for alert_id in ids:
        with conn.transaction():
            current = _locked(conn, alert_id)
            if current is None:
                continue
            changed = current.escalate_if_due(now, policy)
            if changed is not current:
                save_alert(conn, changed)
                out.append(changed)
    return out


def _locked(conn: psycopg.Connection, alert_id: uuid.UUID) -> Alert | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(SELECT_BY_ID_FOR_UPDATE, (alert_id,)).fetchone()
    return _load(conn, [row])[0] if row else None


def _row(a: Alert) -> tuple[Any, ...]:
    return (
        a.alert_id, a.key, a.rule_id, a.alert_class.value, a.severity.value, a.state.value, a.active, a.title_vi,
        a.title_en, a.detail_vi, a.detail_en, a.source_id, a.admin_unit, a.lon, a.lat, a.value, a.agency.code,
        a.agency.name_vi, a.agency.name_en, a.assignee, a.silenced_until, a.escalation_level, a.created_at,
        a.updated_at, a.last_seen, a.rule_version,
    )  # fmt: skip


def _load(conn: psycopg.Connection, rows: list[dict[str, Any]]) -> list[Alert]:
    if not rows:
        return []
    timelines: dict[uuid.UUID, list[TimelineEntry]] = {r["alert_id"]: [] for r in rows}
    with conn.cursor(row_factory=dict_row) as cur:
        for e in cur.execute(SELECT_EVENTS, (list(timelines),)):
            alert_id = e.pop("alert_id")
            timelines[alert_id].append(TimelineEntry.model_validate(e))
    out = []
    for r in rows:
        r = dict(r)
        agency = Agency(code=r.pop("agency_code"), name_vi=r.pop("agency_vi"), name_en=r.pop("agency_en"))
        r["key"] = r.pop("alert_key")
        out.append(Alert.model_validate({**r, "agency": agency, "timeline": tuple(timelines[r["alert_id"]])}))
    return out


__all__ = [
    "append_timeline",
    "apply_rule_update",
    "get_alert",
    "list_open_alerts",
    "save_alert",
    "transition",
]
