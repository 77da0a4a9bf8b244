"""The floors of the code base keep their direction (see tests/import_rules.py): CI fails on a wrong arrow."""

from __future__ import annotations

from tests.import_rules import edges, floor


def _violations(rule) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(f"{e.source}:{e.line} imports {e.target}" for e in edges() if rule(e.source, e.target))


def test_vocabulary_imports_nothing_above_it() -> None:
    assert _violations(lambda s, t: floor(s) == "vocabulary" and floor(t) != "vocabulary") == []


def test_streams_and_alerts_never_import_the_web_app() -> None:
    assert _violations(lambda s, t: floor(s) in ("streams", "alerts") and floor(t) == "web") == []


def test_geodata_imports_only_the_vocabulary() -> None:
    assert _violations(lambda s, t: floor(s) == "geodata" and floor(t) not in ("vocabulary", "geodata")) == []


def test_only_the_web_app_and_the_composition_root_import_the_web_app() -> None:
    assert _violations(lambda s, t: floor(t) == "web" and floor(s) not in ("web", "root")) == []


def test_layers_draw_from_the_vocabulary_not_the_web_snapshot() -> None:
    assert _violations(lambda s, t: floor(s) == "layers" and floor(t) in ("web", "root", "streams")) == []


def test_nothing_but_the_composition_root_imports_the_composition_root() -> None:
    assert _violations(lambda s, t: floor(t) == "root" and floor(s) != "root") == []


def test_the_rules_see_real_imports() -> None:
    """The checker itself: it finds imports inside functions and ``from pkg import module`` forms."""
    found = {(e.source, e.target) for e in edges()}
    assert ("ioc.web.app", "ioc.web.auth") in found  # "from ioc.web import auth"
    assert ("ioc.db", "ioc.sources.ddl") in found  # imported inside migrate()
    assert floor("ioc.web.pages.map") == "web" and floor("ioc.sources.camera") == "vocabulary"
