"""Every declared source is complete: topic, table and migration, decoder, sink row, layer, rules, sites."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.rules import load_rule_config
from geodata.sites import load_sites
from ioc.sources import EVENT_CLASSES, SOURCES, SourceKind, source
from ioc.sources.ddl import rollup_ddl, storage_ddl, table_ddl
from ioc.topics import SOURCE_TOPICS, TOPIC_SOURCES
from layers.registry import LAYER_IDS
from streams.decode import decode
from streams.tables import SPECS

KINDS = list(SOURCES)


def test_sources_are_discovered_in_declared_order() -> None:
    assert KINDS[:4] == ["camera", "traffic", "air", "feedback"]
    assert [k.value for k in SourceKind] == KINDS
    assert set(EVENT_CLASSES) == set(SourceKind)
    with pytest.raises(KeyError, match="declared"):
        source("nosuchsource")


@pytest.mark.parametrize("kind", KINDS)
def test_declared_source_has_topic_table_migration_decoder_and_layer(kind: str) -> None:
    spec = source(kind)
    # topic
    assert SOURCE_TOPICS[SourceKind(kind)] == spec.topic == f"ioc.{kind}" and TOPIC_SOURCES[spec.topic] == kind
    # table and its generated migration, both flavours
    ddl = table_ddl(spec)
    assert ddl[0].startswith(f"CREATE TABLE IF NOT EXISTS {spec.table} (")
    assert all(c.name in ddl[0] for c in spec.columns)
    for timescale in (True, False):
        assert storage_ddl(spec, timescale)
        if spec.rollup is not None:
            assert any(spec.rollup.name in s for s in rollup_ddl(spec, timescale, rebuild=False))
    # decoder: the declared example goes through the edge unchanged
    example = spec.example()
    assert type(example) is spec.event and example.kind is SourceKind(kind)
    decoded = decode(SourceKind(kind), example.to_json(), known_sources={SourceKind(kind): frozenset({example.source_id})},
                     now=example.event_time + timedelta(seconds=1))
    assert decoded == example
    # sink row: one value per declared column
    assert len(SPECS[SourceKind(kind)].values(example)) == len(spec.columns)
    # its map layer, when it has a place on the map (budget revenue, say, has a panel instead)
    assert spec.layer is None or spec.layer in LAYER_IDS


@pytest.mark.parametrize("kind", KINDS)
def test_declared_rules_and_sites_exist(kind: str) -> None:
    spec = source(kind)
    rule_ids = {r.id for r in load_rule_config().rules}
    assert set(spec.rules) <= rule_ids, f"{kind}: rules {set(spec.rules) - rule_ids} are not in alerts/rules.yaml"
    if spec.site_file:
        sites = load_sites(SourceKind(kind))
        assert sites and all(s.kind is SourceKind(kind) for s in sites)
        assert spec.example().source_id in {s.source_id for s in sites}


def test_every_source_owner_is_a_configured_agency() -> None:
    """The owners the declarations name (scoping, CAP sender) load from alerts/agencies.yaml."""
    from alerts.model import AlertClass, load_agencies

    agencies = load_agencies().agencies
    assert {s.owner for s in SOURCES.values() if s.owner} <= set(agencies)
    assert {c.value for c in AlertClass} <= set(agencies)  # every alert class has its owner
