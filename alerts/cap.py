"""Export an alert as an OASIS Common Alerting Protocol 1.2 message, valid against CAP-v1.2.xsd.

One message per export, in Vietnamese and English ``info`` blocks. The first export of an alert
(only its ``raised`` entry on the timeline) is ``msgType=Alert``; later ones are ``Update``s that
reference it, and a resolved alert is an ``Update`` with ``responseType=AllClear``.
Times are given in Vietnam time (``+07:00``), as CAP requires an explicit offset.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import xmlschema

from alerts.model import Alert, AlertClass, AlertState, Severity
from geodata.names import humanise, site_name, unit_name

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_SENDER = "ioc@haiphong.gov.vn"
IDENTIFIER_PREFIX = "vn.haiphong.ioc"

_CATEGORY = {
    AlertClass.ENVIRONMENT: ("Env", "Health"),
    AlertClass.TRAFFIC: ("Transport",),
    AlertClass.CAMERA: ("Infra",),
    AlertClass.PUBLIC_ORDER: ("Security",),
    AlertClass.CITIZEN: ("Other",),
    AlertClass.BUDGET: ("Other",),
    AlertClass.FLOOD: ("Met", "Safety"),
    AlertClass.SOC: ("Security", "Infra"),
}
_SEVERITY = {
    Severity.MINOR: "Minor",
    Severity.MODERATE: "Moderate",
    Severity.SEVERE: "Severe",
    Severity.EXTREME: "Extreme",
}
_CIRCLE_KM = 0.5  # an alert's point, drawn as a small circle (CAP has no point geometry)

ET.register_namespace("", CAP_NS)


def cap_time(t: datetime) -> str:
    """CAP dateTime: seconds precision with a numeric offset (``Z`` is not allowed)."""
    if t.tzinfo is None:
        raise ValueError(f"CAP times need a time zone, got {t!r}")
    return t.astimezone(VN_TZ).replace(microsecond=0).isoformat()


def identifier(alert: Alert, version: int | None = None) -> str:
    """Unique message id: the alert id and the timeline length at export (no spaces or commas)."""
    return f"{IDENTIFIER_PREFIX}.{alert.alert_id}.{version or len(alert.timeline)}"


def to_cap(
    alert: Alert, *, sender: str = DEFAULT_SENDER, status: str = "Actual", web: str | None = None
) -> bytes:
    """The CAP 1.2 XML (UTF-8) of the alert as it stands."""
    if not sender or any(c in sender for c in " ,<&"):
        raise ValueError(f"CAP sender must be non-empty without spaces, commas, '<' or '&', got {sender!r}")
    first = len(alert.timeline) <= 1
    root = ET.Element(_q("alert"))
    _sub(root, "identifier", identifier(alert))
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(alert.updated_at))
    _sub(root, "status", status)
    _sub(root, "msgType", "Alert" if first else "Update")
    _sub(root, "source", f"Trung tâm IOC Hải Phòng / {alert.rule_id}")
    _sub(root, "scope", "Public")
    _sub(root, "code", "IOC-HP")
    if not first:
        _sub(root, "references", f"{sender},{identifier(alert, 1)},{cap_time(alert.created_at)}")
    _sub(root, "incidents", str(alert.alert_id))
    for lang in ("vi", "en"):
        _info(root, alert, lang, web)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _info(root: ET.Element, alert: Alert, lang: str, web: str | None) -> None:
    vi = lang == "vi"
    resolved = alert.state is AlertState.RESOLVED
    info = _sub(root, "info")
    _sub(info, "language", "vi-VN" if vi else "en-US")
    for cat in _CATEGORY[alert.alert_class]:
        _sub(info, "category", cat)
    _sub(info, "event", humanise(alert.title_vi if vi else alert.title_en, lang))
    _sub(info, "responseType", "AllClear" if resolved else "Monitor")
    urgent = alert.severity.rank >= Severity.SEVERE.rank
    _sub(info, "urgency", "Past" if resolved else ("Immediate" if urgent else "Expected"))
    _sub(info, "severity", _SEVERITY[alert.severity])
    _sub(info, "certainty", "Observed")
    code = _sub(info, "eventCode")
    _sub(code, "valueName", "IOC-rule")
    _sub(code, "value", alert.rule_id)
    _sub(info, "effective", cap_time(alert.created_at))
    _sub(info, "senderName", humanise(alert.agency.name_vi if vi else alert.agency.name_en, lang))
    _sub(info, "headline", humanise(alert.title_vi if vi else alert.title_en, lang))
    detail = alert.detail_vi if vi else alert.detail_en
    if detail:
        _sub(info, "description", humanise(detail, lang))
    if web:
        _sub(info, "web", web)
    params = {
        "alert_key": alert.key,
        "state": alert.state.value,
        "active": "true" if alert.active else "false",
        "escalation_level": str(alert.escalation_level),
    }
    if alert.value is not None:
        params["value"] = f"{alert.value:g}"
    for name, value in params.items():
        p = _sub(info, "parameter")
        _sub(p, "valueName", name)
        _sub(p, "value", value)
    area = _sub(info, "area")
    place = unit_name(alert.admin_unit) or site_name(alert.source_id)
    _sub(area, "areaDesc", place or ("Hải Phòng" if vi else "Hai Phong"))
    if alert.lat is not None and alert.lon is not None:
        _sub(area, "circle", f"{alert.lat:.6f},{alert.lon:.6f} {_CIRCLE_KM}")
    if alert.admin_unit:
        g = _sub(area, "geocode")
        _sub(g, "valueName", "admin_unit")
        _sub(g, "value", alert.admin_unit)


def _q(name: str) -> str:
    return f"{{{CAP_NS}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, _q(name))
    if text is not None:
        el.text = text
    return el


@cache
def cap_schema() -> xmlschema.XMLSchema:
    """The OASIS CAP 1.2 schema shipped in ``alerts/schemas``."""
    with resources.as_file(resources.files("alerts").joinpath("schemas/CAP-v1.2.xsd")) as path:
        return xmlschema.XMLSchema(str(path))


def validate_cap(xml: bytes | str) -> None:
    """Raise ``xmlschema.XMLSchemaValidationError`` (with the failing path) when ``xml`` is not CAP 1.2."""
    cap_schema().validate(xml.decode("utf-8") if isinstance(xml, bytes) else xml)


# --- public warnings (any message, not only an alert's export) --------------------------------------


@dataclass(frozen=True, slots=True)
class CapArea:
    """One ``area``: a description, polygons (rings of (lat, lon), closed) and geocodes."""

    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CapInfo:
    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    description: str
    sender_name: str
    expires: datetime
    areas: tuple[CapArea, ...]
    effective: datetime | None = None
    instruction: str | None = None
    response_types: tuple[str, ...] = ()
    web: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CapMessage:
    """A whole CAP 1.2 message; ``references`` are ``sender,identifier,sent`` triples (Cancel, Update)."""

    identifier: str
    sender: str
    sent: datetime
    msg_type: str  # Alert | Update | Cancel
    infos: tuple[CapInfo, ...]
    status: str = "Actual"
    scope: str = "Public"
    source: str | None = None
    note: str | None = None
    references: tuple[str, ...] = ()
    incidents: str | None = None


def cap_polygon(ring: tuple[tuple[float, float], ...]) -> str:
    """CAP polygon text: ``lat,lon`` pairs separated by spaces, first point repeated last."""
    pts = list(ring)
    if pts and pts[0] != pts[-1]:
        pts.append(pts[0])
    if len(pts) < 4:
        raise ValueError(f"a CAP polygon needs at least 4 points (closed), got {len(pts)}")
    return " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in pts)


def message_to_cap(msg: CapMessage) -> bytes:
    """The CAP 1.2 XML (UTF-8) of ``msg``, elements in the schema's order."""
    for name, value in (("sender", msg.sender), ("identifier", msg.identifier)):
        if not value or any(c in value for c in " ,<&"):
            raise ValueError(f"CAP {name} must be non-empty without spaces, commas, '<' or '&', got {value!r}")
    root = ET.Element(_q("alert"))
    _sub(root, "identifier", msg.identifier)
    _sub(root, "sender", msg.sender)
    _sub(root, "sent", cap_time(msg.sent))
    _sub(root, "status", msg.status)
    _sub(root, "msgType", msg.msg_type)
    if msg.source:
        _sub(root, "source", msg.source)
    _sub(root, "scope", msg.scope)
    if msg.note:
        _sub(root, "note", msg.note)
    if msg.references:
        _sub(root, "references", " ".join(msg.references))
    if msg.incidents:
        _sub(root, "incidents", msg.incidents)
    for info in msg.infos:
        el = _sub(root, "info")
        _sub(el, "language", info.language)
        for cat in info.categories:
            _sub(el, "category", cat)
        _sub(el, "event", info.event)
        for rt in info.response_types:
            _sub(el, "responseType", rt)
        _sub(el, "urgency", info.urgency)
        _sub(el, "severity", info.severity)
        _sub(el, "certainty", info.certainty)
        if info.effective:
            _sub(el, "effective", cap_time(info.effective))
        _sub(el, "expires", cap_time(info.expires))
        _sub(el, "senderName", info.sender_name)
        _sub(el, "headline", info.headline)
        _sub(el, "description", info.description)
        if info.instruction:
            _sub(el, "instruction", info.instruction)
        if info.web:
            _sub(el, "web", info.web)
        for name, value in info.parameters:
            p = _sub(el, "parameter")
            _sub(p, "valueName", name)
            _sub(p, "value", value)
        for area in info.areas:
            a = _sub(el, "area")
            _sub(a, "areaDesc", area.description)
            for ring in area.polygons:
                _sub(a, "polygon", cap_polygon(ring))
            for name, value in area.geocodes:
                g = _sub(a, "geocode")
                _sub(g, "valueName", name)
                _sub(g, "value", value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
