"""Public warnings to the wards' loudspeakers through the information-source system (hệ thống
thông tin nguồn), as CAP 1.2 messages.

The city's information-source system reaches 1 037 of its 1 459 digital loudspeaker clusters
(``2024-04-24_phat-bieu-chu-tich-UBND_UBQG-CDS-phien-8.txt``, lines 77–79: "kết nối 1037 cụm loa
kỹ thuật số … (1037/1459 cụm loa)"). An operator or a leader turns an alert (or nothing) into a
warning for chosen communes: Vietnamese text, the units' polygons from the boundary set in force,
severity, urgency, expiry. ``Extreme`` and ``Severe`` warnings wait for a second person's approval
(a different user; the database refuses ``approved_by = created_by`` too). Every message is
validated against the CAP 1.2 schema before it leaves, POSTed to the configured endpoint, and kept
with its XML and the endpoint's answer; a sent warning is withdrawn by a ``Cancel`` message that
references it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, LiteralString

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from alerts.cap import CapArea, CapInfo, CapMessage, message_to_cap, validate_cap
from ioc.audit import audit
from ioc.directives.delivery import http_endpoint
from ioc.directives.settings import DirectiveSettings

WARNING_ROLES = frozenset({"operator", "leader", "admin"})
"""Roles that compose, approve, send and cancel public warnings."""
NEEDS_APPROVAL = frozenset({"Extreme", "Severe"})
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor")
URGENCIES = ("Immediate", "Expected", "Future")
CERTAINTIES = ("Observed", "Likely", "Possible")
IDENTIFIER_PREFIX = "vn.haiphong.ioc.warning"
SENDER_NAME = "Trung tâm Giám sát, điều hành đô thị thông minh thành phố Hải Phòng"
SIMPLIFY_DEG = 0.0003  # ≈ 30 m: loudspeaker areas need no finer outline, and messages stay small


class WarningStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    READY = "ready"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WarningError(ValueError):
    """A warning action refused (the message says why)."""


@dataclass(frozen=True, slots=True)
class WarningDraft:
    units: tuple[str, ...]  # boundary-set unit codes
    headline_vi: str
    description_vi: str
    severity: str
    urgency: str
    certainty: str
    expires_at: datetime
    instruction_vi: str | None = None
    alert_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if not self.units:
            raise WarningError("choose at least one commune")
        if not self.headline_vi.strip() or not self.description_vi.strip():
            raise WarningError("a warning needs a headline and a text")
        for name, value, allowed in (("severity", self.severity, SEVERITIES), ("urgency", self.urgency, URGENCIES),
                                     ("certainty", self.certainty, CERTAINTIES)):  # fmt: skip
            if value not in allowed:
                raise WarningError(f"{name} must be one of {allowed}, got {value!r}")
        if self.expires_at.tzinfo is None:
            raise WarningError("expiry must be timezone-aware")


@dataclass(frozen=True)
class WarningRow:
    warning_id: uuid.UUID
    identifier: str
    msg_type: str
    references_id: uuid.UUID | None
    alert_id: uuid.UUID | None
    units: list[str]
    headline_vi: str
    description_vi: str
    instruction_vi: str | None
    severity: str
    urgency: str
    certainty: str
    expires_at: datetime
    status: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_at: datetime | None
    cap_xml: str | None
    http_status: int | None
    last_error: str | None


@dataclass(frozen=True)
class LogRow:
    warning_id: uuid.UUID
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


_COLUMNS: LiteralString = (
    "warning_id, identifier, msg_type, references_id, alert_id, units, headline_vi, description_vi,"
    " instruction_vi, severity, urgency, certainty, expires_at, status, created_by, created_at, approved_by,"
    " approved_at, sent_at, cap_xml, http_status, last_error"
)


def _allowed(role: str) -> None:
    if role not in WARNING_ROLES:
        raise WarningError(f"role {role!r} may not issue public warnings")


def _log(conn: psycopg.Connection, wid: uuid.UUID, at: datetime, actor: str, action: str, details: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO public_warning_log (warning_id, at, actor, action, details) VALUES (%s, %s, %s, %s, %s)",
        (wid, at, actor, action, Jsonb(details)),
    )
    audit(conn, actor, f"warning.{action}", f"warning:{wid}", details)


def draft_from_alert(conn: psycopg.Connection, alert_id: uuid.UUID, expires_at: datetime) -> WarningDraft:
    """A draft prefilled from an alert: its Vietnamese title and text, severity and unit."""
    from alerts.store import get_alert

    a = get_alert(conn, alert_id)
    if a is None:
        raise WarningError(f"no alert {alert_id}")
    if not a.admin_unit:
        raise WarningError(f"alert {a.alert_id} has no commune: choose the communes by hand")
    sev = {"minor": "Minor", "moderate": "Moderate", "severe": "Severe", "extreme": "Extreme"}[a.severity.value]
    return WarningDraft(
        units=(a.admin_unit,), headline_vi=a.title_vi, description_vi=a.detail_vi or a.title_vi, severity=sev,
        urgency="Immediate" if sev in NEEDS_APPROVAL else "Expected", certainty="Observed",
        expires_at=expires_at, alert_id=a.alert_id,
    )  # fmt: skip


def compose(conn: psycopg.Connection, draft: WarningDraft, actor: str, role: str, now: datetime) -> WarningRow:
    """Store a new warning: ``ready`` to send, or ``awaiting_approval`` for Extreme and Severe ones."""
    _allowed(role)
    if draft.expires_at <= now:
        raise WarningError("the expiry must be in the future")
    bset = _boundaries(now)
    for code in draft.units:
        bset.unit(code)  # KeyError naming an unknown unit
    wid = uuid.uuid4()
    status = WarningStatus.AWAITING_APPROVAL if draft.severity in NEEDS_APPROVAL else WarningStatus.READY
    with conn.transaction():
        conn.execute(
            "INSERT INTO public_warnings (warning_id, identifier, msg_type, alert_id, units, headline_vi,"
            " description_vi, instruction_vi, severity, urgency, certainty, expires_at, status, created_by,"
            " created_at) VALUES (%s, %s, 'Alert', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (wid, f"{IDENTIFIER_PREFIX}.{wid}", draft.alert_id, list(draft.units), draft.headline_vi.strip(),
             draft.description_vi.strip(), draft.instruction_vi, draft.severity, draft.urgency, draft.certainty,
             draft.expires_at, status.value, actor, now),
        )  # fmt: skip
        _log(conn, wid, now, actor, "composed", {"severity": draft.severity, "units": list(draft.units),
                                                 "status": status.value})  # fmt: skip
    return get_warning(conn, wid)


def approve(conn: psycopg.Connection, warning_id: uuid.UUID, actor: str, role: str, now: datetime) -> WarningRow:
    """A second person approves an Extreme or Severe warning (never its author)."""
    _allowed(role)
    with conn.transaction():
        w = _locked(conn, warning_id)
        if w.status != WarningStatus.AWAITING_APPROVAL:
            raise WarningError(f"warning is {w.status}, not awaiting approval")
        if w.created_by == actor:
            raise WarningError("a different person must approve this warning")
        conn.execute(
            "UPDATE public_warnings SET status = 'ready', approved_by = %s, approved_at = %s WHERE warning_id = %s",
            (actor, now, warning_id),
        )
        _log(conn, warning_id, now, actor, "approved", {"author": w.created_by})
    return get_warning(conn, warning_id)


def _boundaries(now: datetime) -> Any:
    from geodata.boundaries import boundary_set_for

    return boundary_set_for(now.date() if isinstance(now, datetime) else date.today())


def _rings(geom: Any) -> tuple[tuple[tuple[float, float], ...], ...]:
    simple = geom.simplify(SIMPLIFY_DEG, preserve_topology=True)
    parts = list(getattr(simple, "geoms", [simple]))
    return tuple(tuple((float(y), float(x)) for x, y in p.exterior.coords) for p in parts if not p.is_empty)


def to_message(w: WarningRow, settings: DirectiveSettings, *, original: WarningRow | None = None) -> CapMessage:
    """The CAP message of a warning (or of the cancellation of ``original``)."""
    bset = _boundaries(w.created_at)
    areas = tuple(
        CapArea(bset.unit(code).full_name, _rings(bset.unit(code).geometry), (("admin_unit", code),))
        for code in w.units
    )
    info = CapInfo(
        language="vi-VN", categories=("Safety",), event=w.headline_vi, urgency=w.urgency, severity=w.severity,
        certainty=w.certainty, headline=w.headline_vi, description=w.description_vi, sender_name=SENDER_NAME,
        expires=w.expires_at, areas=areas, effective=w.created_at, instruction=w.instruction_vi,
        response_types=("Shelter",) if w.severity in NEEDS_APPROVAL else ("Monitor",),
        parameters=(("boundary_set", bset.id),),
    )  # fmt: skip
    refs: tuple[str, ...] = ()
    if original is not None:
        assert original.sent_at is not None
        refs = (f"{settings.cap_sender},{original.identifier},{_cap_sent(original.sent_at)}",)
    return CapMessage(
        identifier=w.identifier, sender=settings.cap_sender, sent=w.sent_at or w.created_at,
        msg_type=w.msg_type, infos=(info,), source="Trung tâm IOC Hải Phòng", references=refs,
        incidents=str(w.alert_id) if w.alert_id else None,
        note="Hủy bản tin đã phát" if w.msg_type == "Cancel" else None,
    )  # fmt: skip


def _cap_sent(t: datetime) -> str:
    from alerts.cap import cap_time

    return cap_time(t)


def _post(settings: DirectiveSettings, xml: bytes) -> tuple[int | None, str | None]:
    if not settings.cap_endpoint:
        return None, "IOC_CAP_ENDPOINT is not set"
    if not http_endpoint(settings.cap_endpoint):
        return None, "IOC_CAP_ENDPOINT must be an http(s) URL"
    headers = {"Content-Type": "application/cap+xml; charset=utf-8", "User-Agent": "haiphong-ioc-warnings/1"}
    if settings.cap_endpoint_token:
        headers["Authorization"] = "Bearer " + settings.cap_endpoint_token.get_secret_value()
    req = urllib.request.Request(settings.cap_endpoint, data=xml, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=settings.cap_timeout_seconds) as resp:  # noqa: S310
            return resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


def _transmit(conn: psycopg.Connection, w: WarningRow, actor: str, now: datetime, settings: DirectiveSettings,
              original: WarningRow | None = None) -> WarningRow:  # fmt: skip
    """Build, validate, POST and record one message (its row is locked by the caller)."""
    from dataclasses import replace

    sent = replace(w, sent_at=now)
    xml = message_to_cap(to_message(sent, settings, original=original))
    validate_cap(xml)  # never send what the schema refuses
    status, error = _post(settings, xml)
    ok = error is None
    conn.execute(
        "UPDATE public_warnings SET status = %s, sent_at = %s, cap_xml = %s, http_status = %s, last_error = %s"
        " WHERE warning_id = %s",
        ("sent" if ok else "failed", now if ok else None, xml.decode("utf-8"), status, error, w.warning_id),
    )
    _log(conn, w.warning_id, now, actor, "sent" if ok else "send_failed",
         {"http_status": status, "error": error, "msg_type": w.msg_type, "bytes": len(xml)})  # fmt: skip
    return get_warning(conn, w.warning_id)


def send(conn: psycopg.Connection, warning_id: uuid.UUID, actor: str, role: str, now: datetime,
         settings: DirectiveSettings) -> WarningRow:  # fmt: skip
    """Send a ready (or approved, or previously failed) warning to the information-source system."""
    _allowed(role)
    with conn.transaction():
        w = _locked(conn, warning_id)
        if w.msg_type != "Alert":
            raise WarningError("a cancellation is sent by cancel()")
        if w.status == WarningStatus.AWAITING_APPROVAL:
            raise WarningError("this warning waits for a second person's approval")
        if w.status not in (WarningStatus.READY, WarningStatus.FAILED):
            raise WarningError(f"warning is {w.status}")
        if w.expires_at <= now:
            raise WarningError("the warning has expired")
        return _transmit(conn, w, actor, now, settings)


def cancel(conn: psycopg.Connection, warning_id: uuid.UUID, actor: str, role: str, reason: str, now: datetime,
           settings: DirectiveSettings) -> WarningRow:  # fmt: skip
    """Withdraw a sent warning: a ``Cancel`` message referencing it; returns the cancellation's row."""
    _allowed(role)
    if not reason.strip():
        raise WarningError("say why the warning is cancelled")
    with conn.transaction():
        w = _locked(conn, warning_id)
        if w.status != WarningStatus.SENT or w.msg_type != "Alert":
            raise WarningError(f"only a sent warning can be cancelled (this one is {w.status})")
        cid = uuid.uuid4()
        conn.execute(
            "INSERT INTO public_warnings (warning_id, identifier, msg_type, references_id, alert_id, units,"
            " headline_vi, description_vi, instruction_vi, severity, urgency, certainty, expires_at, status,"
            " created_by, created_at) SELECT %s, %s, 'Cancel', warning_id, alert_id, units, headline_vi, %s,"
            " NULL, severity, urgency, certainty, expires_at, 'ready', %s, %s FROM public_warnings"
            " WHERE warning_id = %s",
            (cid, f"{IDENTIFIER_PREFIX}.{cid}", f"Hủy bản tin: {reason.strip()}", actor, now, warning_id),
        )
        _log(conn, cid, now, actor, "composed", {"cancels": str(warning_id), "reason": reason.strip()})
        c = _transmit(conn, _locked(conn, cid), actor, now, settings, original=w)
        if c.status == WarningStatus.SENT:
            conn.execute("UPDATE public_warnings SET status = 'cancelled' WHERE warning_id = %s", (warning_id,))
            _log(conn, warning_id, now, actor, "cancelled", {"by": str(cid), "reason": reason.strip()})
    return c


def _locked(conn: psycopg.Connection, warning_id: uuid.UUID) -> WarningRow:
    with conn.cursor(row_factory=class_row(WarningRow)) as cur:
        w = cur.execute("SELECT " + _COLUMNS + " FROM public_warnings WHERE warning_id = %s FOR UPDATE",
                        (warning_id,)).fetchone()  # fmt: skip
    if w is None:
        raise WarningError(f"no warning {warning_id}")
    return w


def get_warning(conn: psycopg.Connection, warning_id: uuid.UUID) -> WarningRow:
    with conn.cursor(row_factory=class_row(WarningRow)) as cur:
        w = cur.execute("SELECT " + _COLUMNS + " FROM public_warnings WHERE warning_id = %s",
                        (warning_id,)).fetchone()  # fmt: skip
    if w is None:
        raise WarningError(f"no warning {warning_id}")
    return w


def list_warnings(conn: psycopg.Connection, limit: int = 100) -> list[WarningRow]:
    with conn.cursor(row_factory=class_row(WarningRow)) as cur:
        return cur.execute("SELECT " + _COLUMNS + " FROM public_warnings ORDER BY created_at DESC LIMIT %s",
                           (limit,)).fetchall()  # fmt: skip


def warning_log(conn: psycopg.Connection, warning_id: uuid.UUID | None = None, limit: int = 200) -> list[LogRow]:
    with conn.cursor(row_factory=class_row(LogRow)) as cur:
        return cur.execute(
            "SELECT warning_id, at, actor, action, details FROM public_warning_log"
            " WHERE (%(w)s::uuid IS NULL OR warning_id = %(w)s) ORDER BY id DESC LIMIT %(n)s",
            {"w": warning_id, "n": limit},
        ).fetchall()
