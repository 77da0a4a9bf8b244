"""What the dashboard reads about alerts and the operator actions it performs, in one place.

``list_alerts`` filters the alerts table for the ``/alerts`` page; ``wall_alerts`` is what the wall
pins (new, not silenced). ``act`` performs one operator action: it asks the one policy
(:mod:`ioc.access`) whether this user may act on this alert (role, then the alert's unit and agency
against the user's scope), changes the alert through :func:`alerts.store.transition` (locked row,
timeline entry with who and when) and writes the audit log, all in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import LiteralString

import psycopg
from psycopg.rows import dict_row

from alerts.model import Alert, AlertClass, AlertState, Severity
from alerts.store import _COLUMNS, _load, transition
from ioc.access import RESTRICTED_ALERT_CLASSES, Action, Principal, Resource, decide
from ioc.sources.spec import DataClass


class OperatorAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    SILENCE = "silence"


class NotAllowed(PermissionError):
    """The policy refuses this user the action on this alert (the message says why)."""


def alert_resource(a: Alert) -> Resource:
    """An alert as the policy sees it: its unit, its agency (sector) and whether its class is restricted."""
    restricted = a.alert_class.value in RESTRICTED_ALERT_CLASSES
    return Resource.obj("alert", admin_unit=a.admin_unit, sector=a.agency.code,
                        data_class=DataClass.RESTRICTED if restricted else DataClass.INTERNAL)  # fmt: skip


_LIST: LiteralString = (
    "SELECT " + _COLUMNS + " FROM alerts"
    " WHERE (%(states)s::text[] IS NULL OR state = ANY(%(states)s))"
    " AND (%(classes)s::text[] IS NULL OR alert_class = ANY(%(classes)s))"
    " AND (%(severities)s::text[] IS NULL OR severity = ANY(%(severities)s))"
    " ORDER BY (state = 'new') DESC, updated_at DESC LIMIT %(limit)s"
)


def list_alerts(
    conn: psycopg.Connection,
    *,
    states: Sequence[AlertState] | None = None,
    classes: Sequence[AlertClass] | None = None,
    severities: Sequence[Severity] | None = None,
    limit: int = 200,
) -> list[Alert]:
    """Alerts matching the filters (empty or None = any), unacknowledged first, then newest change."""
    if limit < 1:
        raise ValueError(f"limit must be ≥ 1, got {limit}")

    def values(xs: Sequence[StrEnum] | None) -> list[str] | None:
        return [x.value for x in xs] if xs else None

    params = {
        "states": values(states),
        "classes": values(classes),
        "severities": values(severities),
        "limit": limit,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_LIST, params).fetchall()
    return _load(conn, rows)


def wall_alerts(conn: psycopg.Connection, now: datetime, limit: int = 50) -> list[Alert]:
    """Alerts pinned on the wall: new (unacknowledged) and not silenced at ``now``."""
    return [a for a in list_alerts(conn, states=[AlertState.NEW], limit=limit) if a.pinned(now)]


def act(
    conn: psycopg.Connection,
    alert_id: uuid.UUID,
    *,
    principal: Principal,
    action: OperatorAction,
    at: datetime,
    comment: str | None = None,
    assignee: str | None = None,
    until: datetime | None = None,
) -> Alert:
    """One operator action, with its timeline entry and audit row in the same transaction.

    Raises :class:`NotAllowed` when the policy refuses (decided on the locked row, so a reassigned
    alert cannot slip through), ``InvalidTransition``/``ValueError`` for an action the alert's state
    or the input does not allow (nothing is written then)."""
    from ioc.audit import audit

    actor = principal.username
    comment = (comment or "").strip() or None

    def change(a: Alert) -> Alert:
        d = decide(principal, alert_resource(a), Action.ACT)
        if not d:
            raise NotAllowed(f"{actor} may not {action.value} alert {a.alert_id}: {d.reason}")
        match action:
            case OperatorAction.ACKNOWLEDGE:
                return a.acknowledge(actor, at, comment or "")
            case OperatorAction.ASSIGN:
                return a.assign(actor, at, assignee or "", comment)
            case OperatorAction.RESOLVE:
                return a.resolve(actor, at, comment)
            case OperatorAction.SILENCE:
                if until is None:
                    raise ValueError("silencing needs a time to silence until")
                return a.silence(actor, at, until, comment)

    with conn.transaction():
        alert = transition(conn, alert_id, change)
        details: dict[str, object] = {"state": alert.state.value}
        if comment:
            details["comment"] = comment
        if assignee:
            details["assignee"] = assignee
        if until:
            details["until"] = until.isoformat()
        audit(conn, actor, f"alert.{action.value}", str(alert_id), details)
    return alert


__all__ = ["NotAllowed", "alert_resource", "OperatorAction", "act", "list_alerts", "wall_alerts"]
