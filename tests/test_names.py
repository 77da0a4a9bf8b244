"""Names instead of codes (issue 17, item 5): the humaniser, the agencies, CAP, the clear error
messages and the dropdowns' own texts — without a browser (tests/e2e/test_names_e2e.py renders
every page in both languages)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from alerts.cap import to_cap
from alerts.model import AlertClass, load_agencies
from geodata.names import _units, humanise, site_name, times_usual, unit_name
from ioc.i18n import t
from ioc.tickets.workflow import Change, Kind, TransitionError, apply, start
from ioc.web.components import DROPDOWN_LABELS, dropdown_labels
from ioc.web.errors import message_key, user_message
from tests.names_check import code_tokens, english_words, problems

LE_CHAN_CODE = next(c for c, n in _units().items() if n.endswith("Lê Chân"))


def test_registry_ids_and_unit_codes_read_as_names() -> None:
    assert site_name("cam-lachtray-01") == "Ngã năm Lạch Tray – Cầu Đất"
    assert site_name("not-registered-9") == "not-registered-9"
    assert unit_name(LE_CHAN_CODE).endswith("Lê Chân") and unit_name("Phường X") == "Phường X"
    text = humanise("Ngập úng tại camera cam-lachtray-01")
    assert text == "Ngập úng tại camera Ngã năm Lạch Tray – Cầu Đất" and code_tokens(text) == []
    assert humanise(f"UBND {LE_CHAN_CODE}") == f"UBND {unit_name(LE_CHAN_CODE)}"
    assert humanise(f"People's Committee of {LE_CHAN_CODE}", "en").endswith("Lê Chân")


def test_statistics_become_plain_words() -> None:
    vi = humanise("12 phản ánh mới trong 30 phút, thông thường 2.0 (p = 1.4e-05)")
    assert vi == "12 phản ánh mới trong 30 phút, gấp 6 lần mức thường lệ"
    en = humanise("12 new reports in 30 min, usually 2.0 (p = 1.4e-05)", "en")
    assert en == "12 new reports in 30 min, 6 times the usual"
    assert times_usual(3, 2) == "1,5" and times_usual(25, 2) == "12"
    assert problems(vi, "vi") == []


def test_the_ward_committee_and_the_cap_sender_are_named() -> None:
    agency = load_agencies().owner(AlertClass.CITIZEN, LE_CHAN_CODE)
    assert agency.name_vi == f"UBND {unit_name(LE_CHAN_CODE)}" and LE_CHAN_CODE not in agency.name_en
    from alerts.model import Alert, Severity

    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    alert = Alert(alert_id=uuid.uuid4(), key="k", rule_id="citizen_burst", alert_class=AlertClass.CITIZEN,
                  severity=Severity.MODERATE, title_vi="Ùn tắc tại camera cam-lachtray-01",
                  title_en="Jam at camera cam-lachtray-01",
                  detail_vi="12 phản ánh mới trong 30 phút, thông thường 2.0 (p = 1.4e-05)",
                  detail_en="12 new reports in 30 min, usually 2.0 (p = 1.4e-05)", admin_unit=LE_CHAN_CODE,
                  agency=agency.model_copy(update={"name_vi": f"UBND {LE_CHAN_CODE}"}), created_at=now,
                  updated_at=now, last_seen=now)  # fmt: skip
    xml = to_cap(alert).decode()
    assert f"<senderName>UBND {unit_name(LE_CHAN_CODE)}</senderName>" in xml  # stored with the code: named
    assert "cam-lachtray-01" not in xml.split("<parameter>")[0] and "p = " not in xml
    assert "gấp 6 lần mức thường lệ" in xml


def test_a_failed_action_shows_a_clear_message_and_logs_the_detail(caplog: pytest.LogCaptureFixture) -> None:
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    state = start(Change(Kind.RECEIVED, now, "citizen"))
    state = apply(state, Change(Kind.CLASSIFIED, now, "op", category="environment"))
    state = apply(
        state, Change(Kind.ASSIGNED, now, "op", owner_kind="agency", owner_code="SXD", owner_name="Sở")
    )
    with pytest.raises(ValueError) as err:
        apply(
            state, Change(Kind.ASSIGNED, now, "op", owner_kind="agency", owner_code="CATP", owner_name="CA")
        )
    with caplog.at_level("WARNING", logger="ioc.web.errors"):
        shown = user_message(err.value, "vi")
    assert shown == "Cần nhập lý do khi giao lại cho đơn vị khác." and problems(shown, "vi") == []
    # The detail is logged, without the values.
    assert "needs a reason to reassign" in caplog.text and "got" not in caplog.text
    assert message_key(TransitionError("cannot apply 'answered'")) == "error.transition"
    assert message_key(RuntimeError("boom")) == "error.generic"
    for key in ("error.transition", "error.generic", "error.forbidden", "error.not_found"):
        assert problems(t(key, "vi"), "vi") == []


def test_dropdowns_speak_the_page_language() -> None:
    vi, en = dropdown_labels("vi"), dropdown_labels("en")
    assert set(vi) == set(DROPDOWN_LABELS) == set(en)
    assert vi["selected_count"].format(num_selected=3) == "Đã chọn 3"
    assert all(english_words(v.replace("{num_selected}", "")) == [] for v in vi.values())


def test_every_dropdown_in_the_pages_is_given_its_labels() -> None:
    """Source check: a dcc.Dropdown without ``labels=`` would draw English ("3 selected") on a Vietnamese page."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "ioc" / "web"
    missing = [f"{p.relative_to(root)}:{m.start()}" for p in root.rglob("*.py")
               for m in re.finditer(r"dcc\.Dropdown\((?!labels=)", p.read_text(encoding="utf-8"))]  # fmt: skip
    assert missing == []


@pytest.mark.parametrize(
    ("text", "found"),
    [("public_order", ["snake_case: public_order"]), ("tại camera cam-nhahatlon-01", ["registry id: cam-nhahatlon-01"]),
     ("Đơn vị: UBND 11443", ["unit code: UBND 11443"]), ("p = 1.4e-05", ["p-value: p = 1.4e-05"]),
     ("Ngã năm Lạch Tray – Cầu Đất", [])],
)  # fmt: skip
def test_the_checker_finds_codes(text: str, found: list[str]) -> None:
    assert code_tokens(text) == found


def test_the_checker_finds_english_in_vietnamese() -> None:
    assert english_words("Đã chọn 3 · 3 selected · Search") == ["Search", "selected"]
    assert english_words("Camera trực tuyến · Tổng đài 1022 · to, in, no") == []
