"""Overdue tickets raise alerts: one alert per owner (agency, ward committee, or the triage desk for
tickets not yet assigned), carrying how many of its tickets are past their deadline.

One alert per owner rather than per ticket, so a backlog shows as one growing incident on the
wall instead of thousands of lines. The alert is raised when an owner's first ticket goes overdue,
updated when the count changes (a timeline entry only when the severity changes), and cleared when
none is left. Alerts go through ``alerts.store.apply_rule_update`` like every rule's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import LiteralString

import psycopg
from psycopg.rows import class_row

from alerts.model import AgencyMap, Alert, AlertUpdate, UpdateKind, load_agencies
from alerts.store import apply_rule_update
from ioc.tickets.workflow import OPEN_STATUSES

RULE_ID = "ticket_overdue"
TRIAGE_KEY = "triage-desk"
SEVERE_AFTER = timedelta(days=1)  # the oldest overdue ticket waited a day past its deadline


@dataclass(frozen=True)
class OwnerOverdue:
    owner_code: str | None
    owner_name: str | None
    admin_unit: str | None
    overdue: int
    oldest_deadline: datetime


_BY_OWNER: LiteralString = (
    "SELECT owner_code, min(owner_name) AS owner_name,"
    " CASE WHEN count(DISTINCT admin_unit) = 1 THEN min(admin_unit) END AS admin_unit,"
    " count(*) AS overdue, min(deadline) AS oldest_deadline FROM tickets"
    " WHERE status = ANY(%s) AND deadline < %s GROUP BY owner_code ORDER BY owner_code NULLS FIRST"
)


def overdue_by_owner(conn: psycopg.Connection, now: datetime) -> list[OwnerOverdue]:
    """Open tickets past their deadline, counted per owner (``None``: still at the triage desk)."""
    with conn.cursor(row_factory=class_row(OwnerOverdue)) as cur:
        return cur.execute(_BY_OWNER, ([s.value for s in OPEN_STATUSES], now)).fetchall()


def _key(owner_code: str | None) -> str:
    return f"{RULE_ID}:{owner_code or TRIAGE_KEY}"


def _update(kind: UpdateKind, key: str, now: datetime, g: OwnerOverdue | None) -> AlertUpdate:
    if g is None:
        return AlertUpdate(kind=kind, key=key, rule_id=RULE_ID, alert_class="citizen_reports", severity="minor",
                           at=now, value=0, title_vi="Hết phản ánh quá hạn", title_en="No overdue reports left")  # fmt: skip
    owner_vi = g.owner_name or "Bộ phận tiếp nhận"
    owner_en = g.owner_name or "the triage desk"
    severity = "severe" if now - g.oldest_deadline > SEVERE_AFTER else "moderate"
    return AlertUpdate(
        kind=kind,
        key=key,
        rule_id=RULE_ID,
        alert_class="citizen_reports",
        severity=severity,
        at=now,
        admin_unit=g.admin_unit,
        value=float(g.overdue),
        title_vi=f"{g.overdue} phản ánh quá hạn – {owner_vi}",
        title_en=f"{g.overdue} overdue citizen reports – {owner_en}",
        detail_vi=f"Phản ánh quá hạn lâu nhất: hạn {g.oldest_deadline:%d/%m/%Y %H:%M} UTC",
        detail_en=f"Oldest overdue report was due {g.oldest_deadline:%Y-%m-%d %H:%M} UTC",
    )


def sync_overdue_alerts(
    conn: psycopg.Connection, now: datetime, agencies: AgencyMap | None = None
) -> list[Alert]:
    """Raise, update or clear the per-owner overdue alerts; returns the alerts that changed."""
    agencies = agencies or load_agencies()
    current = {
        key: (active, value, severity)
        for key, active, value, severity in conn.execute(
            "SELECT alert_key, active, value, severity FROM alerts WHERE rule_id = %s AND state <> 'resolved'",
            (RULE_ID,),
        ).fetchall()
    }
    changed: list[Alert] = []
    seen: set[str] = set()
    for g in overdue_by_owner(conn, now):
        key = _key(g.owner_code)
        seen.add(key)
        state = current.get(key)
        update = _update(UpdateKind.RAISE if state is None else UpdateKind.UPDATE, key, now, g)
        if state is not None and state == (True, update.value, update.severity):
            continue  # nothing new: no write
        alert = apply_rule_update(conn, update, agencies)
        if alert is not None:
            changed.append(alert)
    for key, (active, _value, _severity) in current.items():
        if active and key not in seen:
            alert = apply_rule_update(conn, _update(UpdateKind.CLEAR, key, now, None), agencies)
            if alert is not None:
                changed.append(alert)
    return changed
