"""SOC summary: counts only (raw security data is refused), the storm test, and the city's 2022 report."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.model import UpdateKind
from alerts.soc_rules import SocStormConfig, SocStormRule
from ioc.sources import SourceKind
from ioc.sources.soc import SocEvent
from streams.decode import Reason, Rejected, decode

T0 = datetime(2026, 6, 1, tzinfo=UTC)
KNOWN = {SourceKind.SOC: frozenset({"soc-ttdl"})}


def wire(**changes: object) -> bytes:
    msg = {"event_id": str(uuid.uuid4()), "source_id": "soc-ttdl", "event_time": "2026-06-01T01:02:00+00:00",
           "period_start": "2026-06-01T00:00:00+00:00", "origin": "servers", "raised": 2} | changes  # fmt: skip
    return json.dumps(msg).encode()


@pytest.mark.parametrize("raw", [{"src_ip": "10.1.2.3"}, {"signature": "ET TROJAN"}, {"hostname": "mail-01"},
                                 {"log": "Failed password for root"}])  # fmt: skip
def test_no_raw_soc_data_gets_in(raw: dict[str, str]) -> None:
    out = decode(SourceKind.SOC, wire(**raw), known_sources=KNOWN, now=T0 + timedelta(hours=2))
    assert isinstance(out, Rejected) and out.code is Reason.UNKNOWN_FIELD


def test_origin_is_one_of_three() -> None:
    ok = decode(SourceKind.SOC, wire(), known_sources=KNOWN, now=T0 + timedelta(hours=2))
    assert isinstance(ok, SocEvent) and ok.origin == "servers" and ok.raised == 2
    bad = decode(SourceKind.SOC, wire(origin="firewall"), known_sources=KNOWN, now=T0 + timedelta(hours=2))
    assert isinstance(bad, Rejected) and bad.field == "origin"


def hours(n: int, raised=lambda h: 0, start: datetime = T0, origin: str = "other"):  # type: ignore[no-untyped-def]
    return [SocEvent(event_id=uuid.uuid4(), source_id="soc-ttdl", event_time=start + timedelta(hours=h + 1, minutes=2),
                     period_start=start + timedelta(hours=h), origin=origin, raised=raised(h), open_new=raised(h))
            for h in range(n)]  # fmt: skip


def test_a_storm_raises_once_and_clears_an_ordinary_day_does_not() -> None:
    rule = SocStormRule(SocStormConfig(type="soc_storm", id="soc-storm"), {"soc-ttdl": "SOC TTDL"})
    normal = hours(24 * 28, lambda h: 1 if h % 22 == 0 else 0)  # about one a day, as in 2022
    assert [u for e in normal for u in rule.evaluate(e)] == []
    storm = hours(12, lambda h: 6 if 2 <= h < 6 else 0, T0 + timedelta(days=28))
    ups = [u for e in storm for u in rule.evaluate(e)]
    assert [u.kind for u in ups if u.kind is not UpdateKind.UPDATE] == [UpdateKind.RAISE, UpdateKind.CLEAR]
    r = ups[0]
    assert r.key == "soc-storm:soc-ttdl/other" and r.warning_class == "soc" and r.alert_class == "camera"
    assert "cảnh báo từ nguồn khác trong 3 giờ tại SOC TTDL" in r.detail_vi and "đang mở" in r.detail_vi
    assert r.at < T0 + timedelta(days=28, hours=5)  # within the storm's third hour


def test_the_simulator_is_calibrated_to_the_2022_report(shared_data: Path) -> None:
    from simulators.soc import PER_HOUR

    line = (shared_data / "documents" / "2022_bao-cao-CDS-6-thang-dau-nam-2022.txt").read_text(encoding="utf-8").splitlines()[52]
    assert "203 cảnh báo (trong đó 15 từ máy chủ, 1 từ hệ thống mạng nội bộ)" in line
    hours_h1 = 181 * 24
    assert round(sum(PER_HOUR.values()) * hours_h1) == 203
    assert round(PER_HOUR["servers"] * hours_h1) == 15 and round(PER_HOUR["internal_network"] * hours_h1) == 1
