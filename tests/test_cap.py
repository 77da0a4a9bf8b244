"""CAP 1.2 export: every lifecycle stage validates against the OASIS schema and carries the alert."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import xmlschema

from alerts.cap import CAP_NS, cap_time, to_cap, validate_cap
from alerts.model import Alert, AlertClass, AlertUpdate, Severity, UpdateKind, load_agencies

T0 = datetime(2026, 11, 23, 1, 30, 15, 123456, tzinfo=UTC)
NS = {"cap": CAP_NS}


def alert(alert_class=AlertClass.CITIZEN, severity=Severity.SEVERE) -> Alert:
    u = AlertUpdate(
        kind=UpdateKind.RAISE, key="citizen-burst:phường Lê Chân", rule_id="citizen-burst", alert_class=alert_class,
        severity=severity, at=T0, admin_unit="phường Lê Chân", lon=106.6812, lat=20.8561, value=9.0,
        title_vi="Phản ánh của người dân tăng đột biến tại phường Lê Chân", title_en="Burst of citizen reports in phường Lê Chân",
        detail_vi="9 phản ánh mới trong 60 phút, thông thường 0.5 (p = 1.2e-09) <&>", detail_en="9 new reports in 60 min",
    )  # fmt: skip
    return Alert.raise_from(u, load_agencies())


def parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


def test_new_alert_is_a_valid_cap_alert_message():
    a = alert()
    xml = to_cap(a)
    validate_cap(xml)
    root = parse(xml)
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:sent", namespaces=NS) == "2026-11-23T08:30:15+07:00"
    assert root.find("cap:references", NS) is None
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["vi-VN", "en-US"]
    vi = infos[0]
    assert vi.findtext("cap:severity", namespaces=NS) == "Severe"
    assert vi.findtext("cap:urgency", namespaces=NS) == "Immediate"
    assert vi.findtext("cap:senderName", namespaces=NS) == "UBND phường Lê Chân"
    assert vi.findtext("cap:description", namespaces=NS).endswith("<&>")  # escaped, round-trips
    assert vi.findtext("cap:area/cap:circle", namespaces=NS) == "20.856100,106.681200 0.5"
    assert vi.findtext("cap:area/cap:areaDesc", namespaces=NS) == "phường Lê Chân"


@pytest.mark.parametrize("alert_class", list(AlertClass))
def test_every_stage_and_class_validates(alert_class):
    a = alert(alert_class, Severity.MINOR)
    stages = [a]
    stages.append(a := a.acknowledge("op", T0 + timedelta(minutes=2), "Đã nhận"))
    stages.append(a := a.assign("op", T0 + timedelta(minutes=3), "ubnd.lechan"))
    stages.append(a.resolve("op", T0 + timedelta(hours=1), "Đã xử lý"))
    for s in stages:
        validate_cap(to_cap(s))
    last = parse(to_cap(stages[-1]))
    assert last.findtext("cap:msgType", namespaces=NS) == "Update"
    ref = last.findtext("cap:references", namespaces=NS)
    assert ref == f"ioc@haiphong.gov.vn,vn.haiphong.ioc.{a.alert_id}.1,2026-11-23T08:30:15+07:00"
    assert last.findtext("cap:info/cap:responseType", namespaces=NS) == "AllClear"
    ids = {parse(to_cap(s)).findtext("cap:identifier", namespaces=NS) for s in stages}
    assert len(ids) == len(stages)  # one identifier per message


def test_schema_rejects_what_cap_forbids():
    xml = to_cap(alert()).decode()
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate_cap(xml.replace("<severity>Severe</severity>", "<severity>Bad</severity>"))
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate_cap(
            xml.replace("2026-11-23T08:30:15+07:00", "2026-11-23T01:30:15Z", 1)
        )  # CAP needs an offset
    with pytest.raises(xmlschema.XMLSchemaValidationError):  # elements out of order
        validate_cap(
            xml.replace(
                "<status>Actual</status><msgType>Alert</msgType>",
                "<msgType>Alert</msgType><status>Actual</status>",
            )
        )


def test_bad_sender_and_naive_time_are_refused():
    with pytest.raises(ValueError, match="a b"):
        to_cap(alert(), sender="a b")
    with pytest.raises(ValueError, match="time zone"):
        cap_time(datetime(2026, 1, 1))
