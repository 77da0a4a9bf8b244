"""Routing table: precedence of rules, thresholds, and validation of the configuration."""

from __future__ import annotations

import pytest

from ioc.triage.classifier import Suggestion
from ioc.triage.routing import RoutingStatus, RoutingTable


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
