"""Routing table and category configuration: rule precedence, thresholds, validation."""

from __future__ import annotations

import pytest

from ioc.tickets.categories import load_catalog, parse_catalog
from ioc.tickets.classifier import Suggestion
from ioc.tickets.routing import RoutingStatus, RoutingTable


@pytest.fixture(scope="module")
def table() -> RoutingTable:
    return RoutingTable.load()


def config(**overrides: object) -> dict:
    base: dict = {
        "auto_apply_threshold": 0.8,
        "agencies": {"so_xd": {"name_vi": "Sở Xây dựng", "name_en": "Department of Construction"}},
        "rules": [
            {"category": "road_infra", "unit": "*", "owner": "so_xd"},
            {"category": "*", "unit": "*", "owner": "ward"},
        ],
    }
    base.update(overrides)
    return base


def test_category_default_goes_to_the_agency(table: RoutingTable) -> None:
    owner = table.owner_for("road_infra", "Phường Lê Chân")
    assert (owner.kind, owner.code) == ("agency", "so_xay_dung")
    assert table.owner_for("traffic", "Phường Hải An").code == "cong_an_tp"


def test_ward_owner_is_the_units_people_committee(table: RoutingTable) -> None:
    owner = table.owner_for("urban_order", "Phường Lê Chân")
    assert owner.kind == "ward_committee"
    assert owner.code == "ubnd:Phường Lê Chân"
    assert owner.name_vi == "UBND Phường Lê Chân"


def test_unit_rule_beats_category_default(table: RoutingTable) -> None:
    # (category, unit) for Cát Hải; (*, unit) for Bạch Long Vĩ beats (road_infra, *).
    assert table.owner_for("road_infra", "Đặc khu Cát Hải").kind == "ward_committee"
    assert table.owner_for("traffic", "Đặc khu Cát Hải").code == "cong_an_tp"
    assert table.owner_for("road_infra", "Đặc khu Bạch Long Vĩ").kind == "ward_committee"
    # Units match regardless of case, spacing and Unicode composition.
    decomposed = "đặc khu  ca\u0301t ha\u0309i"
    assert table.owner_for("environment", decomposed).kind == "ward_committee"


def test_auto_apply_only_at_or_above_threshold(table: RoutingTable) -> None:
    high = table.decide(Suggestion("road_infra", "Hạ tầng giao thông", 0.91), "Phường An Biên")
    low = table.decide(Suggestion("road_infra", "Hạ tầng giao thông", 0.60), "Phường An Biên")
    assert high.auto_applied and high.status is RoutingStatus.ASSIGNED
    assert not low.auto_applied and low.status is RoutingStatus.TRIAGE_QUEUE
    assert low.owner == high.owner  # the queue still shows where it would go
    # public_order has a stricter threshold (0.9) than the default (0.85).
    assert not table.decide(
        Suggestion("public_order", "An ninh trật tự", 0.88), "Phường An Biên"
    ).auto_applied
    assert table.decide(Suggestion("environment", "Môi trường", 0.88), "Phường An Biên").auto_applied


def test_threshold_is_configuration() -> None:
    strict = RoutingTable.from_dict(config(auto_apply_threshold=0.99))
    suggestion = Suggestion("road_infra", "Hạ tầng giao thông", 0.95)
    assert not strict.decide(suggestion, "Phường An Biên").auto_applied
    assert RoutingTable.from_dict(config()).decide(suggestion, "Phường An Biên").auto_applied


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"auto_apply_threshold": 1.5}, "1.5"),
        ({"rules": [{"category": "potholes", "unit": "*", "owner": "ward"}]}, "potholes"),
        ({"rules": [{"category": "*", "unit": "*", "owner": "so_giao_thong"}]}, "so_giao_thong"),
        ({"rules": [{"category": "traffic", "unit": "*", "owner": "ward"}]}, "default rule"),
        ({"category_thresholds": {"noise": 0.9}}, "noise"),
        (
            {
                "rules": [
                    {"category": "*", "unit": "*", "owner": "ward"},
                    {"category": "*", "unit": "*", "owner": "so_xd"},
                ]
            },
            "duplicate",
        ),
    ],
)
def test_bad_config_names_the_value(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoutingTable.from_dict(config(**overrides))


def test_unknown_category_or_empty_unit(table: RoutingTable) -> None:
    with pytest.raises(KeyError, match="noise"):
        table.owner_for("noise", "Phường Lê Chân")
    with pytest.raises(ValueError, match="admin unit"):
        table.owner_for("traffic", "  ")


def test_shipped_categories() -> None:
    catalog = load_catalog()
    assert catalog.codes == (
        "traffic",
        "road_infra",
        "environment",
        "urban_order",
        "utilities",
        "public_order",
        "other",
    )
    assert catalog.get("utilities").name_vi == "Điện – nước – chiếu sáng"
    assert catalog.get("road_infra").name("en") == "Road infrastructure"
    assert {c.urgency: c.deadline_working_days for c in catalog} == {"urgent": 1, "on_site": 3}


def _categories(**category: object) -> dict:
    return {
        "urgency_classes": {
            "urgent": {"name_vi": "Khẩn cấp", "name_en": "Urgent", "deadline_working_days": 1},
            "on_site": {"name_vi": "Kiểm tra hiện trường", "name_en": "On-site", "deadline_working_days": 3},
        },
        "categories": [
            {"code": "flood", "name_vi": "Ngập úng", "name_en": "Flooding", "urgency": "urgent", **category}
        ],
    }


def test_category_config_overrides_and_errors() -> None:
    assert parse_catalog(_categories(deadline_working_days=2)).get("flood").deadline_working_days == 2
    with pytest.raises(ValueError, match="'soon'"):
        parse_catalog(_categories(urgency="soon"))
    with pytest.raises(ValueError, match="-1"):
        parse_catalog(_categories(deadline_working_days=-1))
    with pytest.raises(ValueError, match="Flood Zone"):
        parse_catalog(_categories(code="Flood Zone"))
    with pytest.raises(KeyError, match="noise"):
        load_catalog().get("noise")
