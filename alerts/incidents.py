"""One incident, many alerts: alerts of one family, place and time are members of one incident.

A storm surge raises a level alert at five gauges, a rain-and-tide alert and a street-flooding
cluster; a disorder wave trips the count test in two units, the cluster test and a camera's crowd
detection. Operators should see one incident with its members, not ten alerts. Alerts join an
incident when they are of the same **family** (the warning class for the early warnings — budget,
public order, floods, SOC — else the alert class), close enough in **place** (the family's rule: the
same revenue series, the same or a nearby unit, the same storm) and in **time** (the newest member
no longer ago than the family's gap).

:func:`group_alarms` does it in memory (the scenario evaluation); :func:`attach_alert` in the
``incidents`` / ``incident_members`` tables (``ioc/schema/070_warning_alerts.sql``), called by the
alert store for each alert it saves, in the same transaction.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, LiteralString, Protocol

import psycopg

from alerts.model import Alert, Severity

FAMILY_PREFIXES = (("budget-", "budget"), ("public-order-", "public_order"), ("flood-", "flood"), ("soc-", "soc"))


@dataclass(frozen=True, slots=True)
class Policy:
    """When two alerts of one family are the same incident."""

    gap: timedelta  # the newest member is at most this old
    radius_m: float | None  # positions within this distance (None: place keys must match)
    by_key: bool = False  # the same place key (budget: the revenue series)


POLICIES: dict[str, Policy] = {
    "budget": Policy(timedelta(days=366), None, by_key=True),  # one series, one fiscal year
    "public_order": Policy(timedelta(hours=3), 10_000.0),  # neighbouring communes
    "flood": Policy(timedelta(hours=12), 40_000.0),  # one storm over the city is one incident
    "soc": Policy(timedelta(hours=12), None, by_key=True),
}
DEFAULT_POLICY = Policy(timedelta(hours=1), 1_500.0)


class AlarmLike(Protocol):
    key: str
    rule_id: str
    alert_class: str
    source_id: str | None
    admin_unit: str | None
    lon: float | None
    lat: float | None


def family(rule_id: str, alert_class: str, key: str = "") -> str:
    """The grouping family: the warning class of the early-warning rules, else the alert class
    (a camera's flooding detection joins the floods, its crowd detection public order)."""
    for prefix, fam in FAMILY_PREFIXES:
        if rule_id.startswith(prefix):
            return fam
    if rule_id == "camera-detection" and key.endswith(":flooding"):
        return "flood"
    return alert_class


def place_key(rule_id: str, key: str, source_id: str | None, admin_unit: str | None) -> str:
    """What members of a family share: the budget series, the SOC, else the unit or the source."""
    fam = family(rule_id, "", key)
    if fam == "budget":
        parts = key.split(":")
        return ":".join(parts[1:3]) if len(parts) >= 3 else (source_id or "city")
    if fam == "soc":
        return source_id or "soc"
    return admin_unit or source_id or "city"


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, (lat2 - lat1) * 111_320)


def _same_place(policy: Policy, key_a: str, key_b: str, pos_a: tuple[float | None, float | None],
                pos_b: tuple[float | None, float | None]) -> bool:  # fmt: skip
    if policy.by_key or policy.radius_m is None:
        return key_a == key_b
    if key_a == key_b and key_a != "city":
        return True
    if None in pos_a or None in pos_b:
        return key_a == key_b
    return distance_m(pos_a[0], pos_a[1], pos_b[0], pos_b[1]) <= policy.radius_m  # type: ignore[arg-type]


@dataclass
class Grouped:
    """An incident built in memory: its family, place and members (the alarms' keys)."""

    family: str
    place_key: str
    lon: float | None
    lat: float | None
    first: datetime
    last: datetime
    members: list[Any]


def group_alarms(alarms: Iterable[Any]) -> list[Grouped]:
    """Group raised alarms (with ``raised_at``) into incidents, in time order."""
    out: list[Grouped] = []
    for a in sorted(alarms, key=lambda x: x.raised_at):
        fam = family(a.rule_id, a.alert_class, a.key)
        pk = place_key(a.rule_id, a.key, a.source_id, a.admin_unit)
        policy = POLICIES.get(fam, DEFAULT_POLICY)
        match = next((g for g in reversed(out) if g.family == fam and a.raised_at - g.last <= policy.gap
                      and _same_place(policy, pk, g.place_key, (a.lon, a.lat), (g.lon, g.lat))), None)  # fmt: skip
        if match is None:
            out.append(Grouped(fam, pk, a.lon, a.lat, a.raised_at, a.raised_at, [a]))
        else:
            match.members.append(a)
            match.last = max(match.last, a.raised_at)
    return out


# --- in the database -----------------------------------------------------------------------------

_MEMBER_OF: LiteralString = "SELECT incident_id FROM incident_members WHERE alert_id = %s"
_CANDIDATES: LiteralString = (
    "SELECT incident_id, place_key, lon, lat, severity FROM incidents WHERE family = %s AND last_member_at >= %s"
    " ORDER BY last_member_at DESC LIMIT 50 FOR UPDATE"
)
_NEW: LiteralString = (
    "INSERT INTO incidents (incident_id, family, alert_class, place_key, admin_unit, lon, lat, severity, title_vi,"
    " title_en, opened_at, last_member_at, members) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)"
)
_JOIN: LiteralString = (
    "INSERT INTO incident_members (incident_id, alert_id, rule_id, rule_version, source_id, admin_unit, joined_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_GROW: LiteralString = (
    "UPDATE incidents SET members = members + 1, last_member_at = GREATEST(last_member_at, %s),"
    " severity = CASE WHEN %s > (CASE severity WHEN 'minor' THEN 0 WHEN 'moderate' THEN 1 WHEN 'severe' THEN 2"
    " ELSE 3 END) THEN %s ELSE severity END WHERE incident_id = %s"
)
_LOCK: LiteralString = "SELECT pg_advisory_xact_lock(hashtext(%s))"


def attach_alert(conn: psycopg.Connection, alert: Alert, rule_version: str | None = None) -> uuid.UUID:
    """The incident of ``alert``: the one it already belongs to, a matching open one it joins, or a new
    one. Idempotent; runs in the caller's transaction (a savepoint), locking its family meanwhile."""
    with conn.transaction():
        row = conn.execute(_MEMBER_OF, (alert.alert_id,)).fetchone()
        if row is not None:
            return row[0]  # type: ignore[no-any-return]
        fam = family(alert.rule_id, alert.alert_class.value, alert.key)
        pk = place_key(alert.rule_id, alert.key, alert.source_id, alert.admin_unit)
        policy = POLICIES.get(fam, DEFAULT_POLICY)
        at = alert.created_at
        conn.execute(_LOCK, ("incidents:" + fam,))
        found = None
        for incident_id, key, lon, lat, _sev in conn.execute(_CANDIDATES, (fam, at - policy.gap)).fetchall():
            if _same_place(policy, pk, key, (alert.lon, alert.lat), (lon, lat)):
                found = incident_id
                break
        if found is None:
            found = uuid.uuid4()
            conn.execute(_NEW, (found, fam, alert.alert_class.value, pk, alert.admin_unit, alert.lon, alert.lat,
                                alert.severity.value, alert.title_vi, alert.title_en, at, at))  # fmt: skip
        joined = conn.execute(_JOIN, (found, alert.alert_id, alert.rule_id, rule_version, alert.source_id,
                                      alert.admin_unit, at))  # fmt: skip
        if joined.rowcount:
            conn.execute(_GROW, (at, alert.severity.rank, alert.severity.value, found))
        return found


@dataclass(frozen=True, slots=True)
class IncidentRow:
    incident_id: uuid.UUID
    family: str
    alert_class: str
    place_key: str
    admin_unit: str | None
    lon: float | None
    lat: float | None
    severity: Severity
    title_vi: str
    title_en: str
    opened_at: datetime
    last_member_at: datetime
    members: int
    rules: tuple[str, ...]


_LIST: LiteralString = (
    "SELECT i.incident_id, i.family, i.alert_class, i.place_key, i.admin_unit, i.lon, i.lat, i.severity, i.title_vi,"
    " i.title_en, i.opened_at, i.last_member_at, i.members,"
    " coalesce(array_agg(DISTINCT m.rule_id) FILTER (WHERE m.rule_id IS NOT NULL), '{}')"
    " FROM incidents i LEFT JOIN incident_members m USING (incident_id)"
    " WHERE i.last_member_at >= %s AND (%s::text[] IS NULL OR i.family = ANY(%s::text[]))"
    " GROUP BY i.incident_id ORDER BY i.last_member_at DESC LIMIT %s"
)


def recent_incidents(conn: psycopg.Connection, since: datetime, families: Sequence[str] | None = None,
                     limit: int = 100) -> list[IncidentRow]:  # fmt: skip
    """Incidents with a member since ``since`` (one query)."""
    fams = list(families) if families is not None else None
    rows = conn.execute(_LIST, (since, fams, fams, limit)).fetchall()
    return [IncidentRow(*r[:7], Severity(r[7]), *r[8:13], tuple(sorted(r[13]))) for r in rows]


__all__ = [
    "POLICIES",
    "IncidentRow",
    "Policy",
    "attach_alert",
    "family",
    "group_alarms",
    "place_key",
    "recent_incidents",
]
