"""Alerts and their lifecycle: typed, immutable, every change on a timeline with who and when.

States: ``new → acknowledged (with a comment) → assigned → resolved``. Independently of the state
an alert can be *silenced until* a time (hidden from the wall, still listed) and *escalated* when
nobody acknowledges it in time. While the condition behind it lasts the rule keeps *updating* it
(one incident, one alert); when the condition ends it is *cleared* (``active = False``) and waits
for an operator to resolve it. Each method returns a new ``Alert``; invalid transitions raise
``InvalidTransition`` naming the state and the action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from geodata.names import unit_name

SYSTEM_ACTOR = "system"


class Severity(StrEnum):
    """Ordered like CAP 1.2's severity (``Minor`` … ``Extreme``)."""

    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"
    EXTREME = "extreme"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class AlertClass(StrEnum):
    TRAFFIC = "traffic"
    ENVIRONMENT = "environment"
    CAMERA = "camera"  # camera / infrastructure
    PUBLIC_ORDER = "public_order"
    CITIZEN = "citizen_reports"
    BUDGET = "budget"  # thu ngân sách: year-to-date, same period, forecast against the plan
    FLOOD = "flood"  # ngập úng: water levels, rise, rain with high tide, flooded streets
    SOC = "soc"  # an toàn thông tin: the security operations centre's alert counts


class AlertState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Action(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    CLEARED = "cleared"
    REACTIVATED = "reactivated"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    SILENCED = "silenced"
    ESCALATED = "escalated"


class UpdateKind(StrEnum):
    RAISE = "raise"
    UPDATE = "update"
    CLEAR = "clear"


class InvalidTransition(ValueError):
    """An operator action the alert's current state does not allow."""


_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TimelineEntry(BaseModel):
    """One change: when, who (an operator's login or ``system``), what, and an optional comment."""

    model_config = _FROZEN
    at: AwareDatetime
    actor: str = Field(min_length=1, max_length=128)
    action: Action
    state: AlertState  # the state after the change
    comment: str | None = Field(default=None, max_length=2000)
    severity: Severity | None = None
    value: float | None = None


class AlertUpdate(BaseModel):
    """What a rule says about an incident: raise it, update it while it lasts, or clear it.

    ``key`` identifies the incident (``rule_id`` plus the source or admin unit), so repeated
    updates land on one alert.
    """

    model_config = _FROZEN
    kind: UpdateKind
    key: str = Field(min_length=1, max_length=200)
    rule_id: str
    rule_version: str | None = None  # "<declared>+<digest of the thresholds>" (alerts.rules.rule_versions)
    alert_class: AlertClass
    severity: Severity
    at: AwareDatetime
    source_id: str | None = None
    admin_unit: str | None = None
    lon: float | None = None
    lat: float | None = None
    value: float | None = None
    title_vi: str
    title_en: str
    detail_vi: str = ""
    detail_en: str = ""


class Agency(BaseModel):
    model_config = _FROZEN
    code: str
    name_vi: str
    name_en: str


class AgencyMap(BaseModel):
    """Alert class → owning agency; ``{admin_unit}`` in a name is filled from the alert. Keys are alert
    classes or the owner names sources declare (``SourceSpec.owner``, e.g. ``public_services`` for the
    dossiers, whose KPIs raise no alert class of their own)."""

    model_config = _FROZEN
    agencies: dict[str, Agency]
    unknown_unit_vi: str = "phường, xã nơi phát sinh"
    unknown_unit_en: str = "the ward or commune concerned"

    def owner(self, alert_class: AlertClass, admin_unit: str | None = None) -> Agency:
        if alert_class not in self.agencies:
            raise KeyError(f"no agency configured for alert class {alert_class.value!r}")
        a = self.agencies[alert_class]
        # "UBND Phường Lê Chân", never "UBND 11443".
        admin_unit = unit_name(admin_unit) if admin_unit else None
        return a.model_copy(
            update={
                "name_vi": a.name_vi.format(admin_unit=admin_unit or self.unknown_unit_vi),
                "name_en": a.name_en.format(admin_unit=admin_unit or self.unknown_unit_en),
            }
        )


def load_agencies(path: Path | None = None) -> AgencyMap:
    """Read the class → agency map (default: the packaged ``alerts/agencies.yaml``)."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("alerts").joinpath("agencies.yaml").read_text("utf-8")
    )
    return AgencyMap.model_validate(yaml.safe_load(text))


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Escalate a ``new`` alert every ``after`` without acknowledgement, up to ``max_level``."""

    after: timedelta = timedelta(minutes=15)
    max_level: int = 3


class Alert(BaseModel):
    """One incident as operators see it."""

    model_config = _FROZEN
    alert_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    key: str
    rule_id: str
    rule_version: str | None = None
    alert_class: AlertClass
    severity: Severity
    state: AlertState = AlertState.NEW
    active: bool = True
    title_vi: str
    title_en: str
    detail_vi: str = ""
    detail_en: str = ""
    source_id: str | None = None
    admin_unit: str | None = None
    lon: float | None = None
    lat: float | None = None
    value: float | None = None
    agency: Agency
    assignee: str | None = None
    silenced_until: AwareDatetime | None = None
    escalation_level: int = 0
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_seen: AwareDatetime
    timeline: tuple[TimelineEntry, ...] = ()

    # --- construction and rule updates ---

    @classmethod
    def raise_from(cls, update: AlertUpdate, agencies: AgencyMap) -> Alert:
        if update.kind is not UpdateKind.RAISE:
            raise InvalidTransition(f"a new alert needs a raise update, got {update.kind.value!r}")
        fields = _update_fields(update)
        entry = TimelineEntry(
            at=update.at, actor=SYSTEM_ACTOR, action=Action.RAISED, state=AlertState.NEW,
            severity=update.severity, value=update.value, comment=update.detail_vi or None,
        )  # fmt: skip
        return cls(
            **fields,
            key=update.key,
            rule_id=update.rule_id,
            alert_class=update.alert_class,
            agency=agencies.owner(update.alert_class, update.admin_unit),
            created_at=update.at,
            updated_at=update.at,
            last_seen=update.at,
            timeline=(entry,),
        )

    def apply(self, update: AlertUpdate) -> Alert:
        """Fold a rule's update into this (open) alert: refresh, clear or reactivate it.

        Monotonic whatever the order events arrive in: no timestamp ever moves backwards; a clear
        older than the condition last seen, or a reading older than the latest clear, is stale and
        changes nothing. A late update of an open alert still brings the rule's newest judgement
        (a count, a severity) and keeps the newest times.
        """
        if update.key != self.key:
            raise ValueError(f"update for {update.key!r} applied to alert {self.key!r}")
        if self.state is AlertState.RESOLVED:
            raise InvalidTransition(f"alert {self.key} is resolved: a new incident needs a new alert")
        if update.kind is UpdateKind.CLEAR:
            if not self.active or update.at < self.last_seen:
                return self  # already clear, or a clear older than the condition last seen: stale
            return self._change(
                update.at, SYSTEM_ACTOR, Action.CLEARED, active=False, comment=update.detail_vi or None
            )
        if not self.active:
            cleared = self.cleared_at
            if cleared is not None and update.at < cleared:
                return self  # a reading from before the clear must not reopen the incident
        fields = _update_fields(update)
        action = Action.UPDATED if self.active else Action.REACTIVATED
        # Only a change of severity (or reactivation) goes on the timeline; value refreshes do not.
        if action is Action.UPDATED and update.severity is self.severity:
            return self.model_copy(update={**fields, "last_seen": max(self.last_seen, update.at),
                                           "updated_at": max(self.updated_at, update.at)})
        return self._change(update.at, SYSTEM_ACTOR, action, **fields, active=True,
                            last_seen=max(self.last_seen, update.at))

    @property
    def cleared_at(self) -> datetime | None:
        """Event time of the latest clear, if the alert was ever cleared."""
        return next((e.at for e in reversed(self.timeline) if e.action is Action.CLEARED), None)

    # --- operator actions ---

    def acknowledge(self, actor: str, at: datetime, comment: str) -> Alert:
        if not comment or not comment.strip():
            raise ValueError("acknowledging needs a comment")
        self._require(Action.ACKNOWLEDGED, AlertState.NEW)
        return self._change(
            at, actor, Action.ACKNOWLEDGED, state=AlertState.ACKNOWLEDGED, comment=comment.strip()
        )

    def assign(self, actor: str, at: datetime, assignee: str, comment: str | None = None) -> Alert:
        if not assignee or not assignee.strip():
            raise ValueError("assigning needs an assignee")
        self._require(Action.ASSIGNED, AlertState.ACKNOWLEDGED, AlertState.ASSIGNED)
        return self._change(
            at, actor, Action.ASSIGNED, state=AlertState.ASSIGNED, assignee=assignee.strip(),
            comment=comment or f"→ {assignee.strip()}",
        )  # fmt: skip

    def resolve(self, actor: str, at: datetime, comment: str | None = None) -> Alert:
        self._require(Action.RESOLVED, AlertState.ACKNOWLEDGED, AlertState.ASSIGNED)
        return self._change(at, actor, Action.RESOLVED, state=AlertState.RESOLVED, comment=comment)

    def silence(self, actor: str, at: datetime, until: datetime, comment: str | None = None) -> Alert:
        self._require(Action.SILENCED, AlertState.NEW, AlertState.ACKNOWLEDGED, AlertState.ASSIGNED)
        if until <= at:
            raise ValueError(f"silence-until {until.isoformat()} must be after {at.isoformat()}")
        return self._change(at, actor, Action.SILENCED, silenced_until=until, comment=comment)

    def escalate_if_due(self, now: datetime, policy: EscalationPolicy) -> Alert:
        """Escalate one level when a ``new`` alert waited ``policy.after`` since creation or the last
        escalation; silenced alerts wait until the silence ends."""
        if self.state is not AlertState.NEW or self.escalation_level >= policy.max_level:
            return self
        if self.is_silenced(now):
            return self
        since = next((e.at for e in reversed(self.timeline) if e.action is Action.ESCALATED), self.created_at)
        if now - since < policy.after:
            return self
        level = self.escalation_level + 1
        return self._change(
            now, SYSTEM_ACTOR, Action.ESCALATED, escalation_level=level,
            comment=f"chưa được xác nhận sau {_minutes(now - since)} phút: cấp {level}",
        )  # fmt: skip

    # --- views ---

    def is_silenced(self, now: datetime) -> bool:
        return self.silenced_until is not None and now < self.silenced_until

    @property
    def is_open(self) -> bool:
        return self.state is not AlertState.RESOLVED

    def pinned(self, now: datetime) -> bool:
        """On the wall: new (unacknowledged) and not silenced."""
        return self.state is AlertState.NEW and not self.is_silenced(now)

    def title(self, lang: str = "vi") -> str:
        return self.title_vi if lang == "vi" else self.title_en

    # --- internals ---

    def _require(self, action: Action, *allowed: AlertState) -> None:
        if self.state not in allowed:
            raise InvalidTransition(
                f"cannot mark alert {self.key} {action.value}: it is {self.state.value} "
                f"(allowed from {', '.join(s.value for s in allowed)})"
            )

    def _change(
        self, at: datetime, actor: str, action: Action, comment: str | None = None, **changes: object
    ) -> Alert:
        if at.tzinfo is None:
            raise ValueError(f"timeline times must be timezone-aware, got {at!r}")
        if not actor or not actor.strip():
            raise ValueError("every change needs an actor")
        state = changes.get("state", self.state)
        severity = changes.get("severity", self.severity)
        value = changes.get("value", self.value)
        entry = TimelineEntry(
            at=at, actor=actor.strip(), action=action, state=state, comment=comment,  # type: ignore[arg-type]
            severity=severity, value=value,  # type: ignore[arg-type]
        )  # fmt: skip
        # Event times may arrive out of order: updated_at never moves backwards (CHECK updated_at >= created_at).
        return self.model_copy(
            update={**changes, "updated_at": max(self.updated_at, at), "timeline": (*self.timeline, entry)})


def _update_fields(update: AlertUpdate) -> dict[str, object]:
    return {
        "severity": update.severity,
        "title_vi": update.title_vi,
        "title_en": update.title_en,
        "detail_vi": update.detail_vi,
        "detail_en": update.detail_en,
        "source_id": update.source_id,
        "admin_unit": update.admin_unit,
        "lon": update.lon,
        "lat": update.lat,
        "value": update.value,
        "rule_version": update.rule_version,
    }


def _minutes(d: timedelta) -> int:
    return int(d.total_seconds() // 60)


def apply_update(current: Alert | None, update: AlertUpdate, agencies: AgencyMap) -> Alert | None:
    """The alert after a rule update: a new one for a raise with no open alert, ``None`` for a clear
    with nothing open, else ``current.apply(update)``. The engine keeps ``current`` per key."""
    if current is None or not current.is_open:
        if update.kind is UpdateKind.CLEAR:
            return None
        return Alert.raise_from(update.model_copy(update={"kind": UpdateKind.RAISE}), agencies)
    return current.apply(update)


__all__ = [
    "Action",
    "Agency",
    "AgencyMap",
    "Alert",
    "AlertClass",
    "AlertState",
    "AlertUpdate",
    "EscalationPolicy",
    "InvalidTransition",
    "Severity",
    "TimelineEntry",
    "UpdateKind",
    "apply_update",
    "load_agencies",
]
