"""Simulation layers and flood areas: validated at the boundary, stored, drawn hatched and labelled
MÔ PHỎNG in every view and export, and never a live alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from geodata import overlays
from ioc.state import Boundaries, CityState
from ioc.warnings import FloodAreaView, FloodView, SimulationView
from layers import simulation, water

SQUARE = {"type": "Polygon", "coordinates": [[[106.66, 20.83], [106.70, 20.83], [106.70, 20.86], [106.66, 20.86],
                                              [106.66, 20.83]]]}  # fmt: skip
T = datetime(2026, 9, 13, 15, tzinfo=UTC)


def fc(*features: dict) -> dict:  # type: ignore[type-arg]
    return {"type": "FeatureCollection", "features": list(features)}


def feat(geometry: dict, **props: object) -> dict:  # type: ignore[type-arg]
    return {"type": "Feature", "geometry": geometry, "properties": props}


@pytest.mark.parametrize(("doc", "message"), [
    ({"type": "Feature"}, "expected a GeoJSON FeatureCollection"),
    (fc(), "has no features"),
    (fc(feat({"type": "Polygon", "coordinates": [[[11870000, 2370000], [11875000, 2370000], [11875000, 2375000],
                                                  [11870000, 2370000]]]}, name="Lê Chân")),
     "feature #0 ('Lê Chân'): lies outside Hải Phòng"),
    (fc(feat(SQUARE), feat({"type": "Polygon", "coordinates": [[[106.6, 20.8], [106.7, 20.9], [106.7, 20.8],
                                                                  [106.6, 20.9], [106.6, 20.8]]]})),
     "feature #1: invalid geometry: Self-intersection"),
    (fc(feat({"type": "GeometryCollection", "geometries": []})), "geometry must be one of"),
    ({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "features": [feat(SQUARE)]},
     "is not EPSG:4326"),
])  # fmt: skip
def test_bad_files_are_refused_naming_the_feature(doc: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(overlays.OverlayError, match=message.replace("(", r"\(").replace(")", r"\)")):
        overlays.check_features(doc, source="x.geojson")


def test_flood_areas_need_a_depth_and_a_time() -> None:
    with pytest.raises(overlays.OverlayError, match="no time"):
        overlays.add_flood_areas(None, fc(feat(SQUARE, depth_cm=30)), author="a", source="x")  # type: ignore[arg-type]
    with pytest.raises(overlays.OverlayError, match="no depth"):
        overlays.add_flood_areas(None, fc(feat(SQUARE, time=T.isoformat())), author="a", source="x")  # type: ignore[arg-type]
    with pytest.raises(overlays.OverlayError, match="has no time zone"):
        overlays.add_flood_areas(None, fc(feat(SQUARE, depth_cm=3, time="2026-09-13T15:00")), author="a", source="x")  # type: ignore[arg-type]
    with pytest.raises(overlays.OverlayError, match="must be one of Polygon, MultiPolygon"):
        overlays.add_flood_areas(None, fc(feat({"type": "Point", "coordinates": [106.68, 20.85]})), author="a",  # type: ignore[arg-type]
                                 source="x", observed_at=T, depth_cm=10)


def state(parts: dict) -> CityState:  # type: ignore[type-arg]
    b = Boundaries("t", False, "commune", MappingProxyType({"type": "FeatureCollection", "features": []}), MappingProxyType({}))
    return CityState(asof=T, sources={}, boundaries=b, parts=MappingProxyType(parts))


def test_the_layer_is_hatched_and_labelled_in_both_languages() -> None:
    sim = SimulationView("00000000-0000-0000-0000-000000000001", "Ngập Lê Chân, mưa 300 mm", T, "Digital Twin", 2,
                         T, fc(feat(SQUARE, depth_m=0.6), feat({"type": "Point", "coordinates": [106.69, 20.84]})))  # fmt: skip
    for lang, label in (("vi", "MÔ PHỎNG"), ("en", "SIMULATION")):
        data = simulation.build(state({"warnings.simulation": (sim,)}), lang)  # type: ignore[arg-type]
        feats = data.features["features"]
        assert all(f["properties"]["layer"] == "simulation" and f["properties"]["simulation"] for f in feats)
        assert all(f["properties"]["tooltip"].startswith(label) for f in feats)
        labels = [f for f in feats if f["properties"].get("label")]
        assert [f["properties"]["label"] for f in labels] == [f"{label}: Ngập Lê Chân, mưa 300 mm"]
        assert data.legend.title.startswith(label)
    polygon = next(f for f in feats if f["geometry"]["type"] == "Polygon")
    assert polygon["properties"]["status"] == "sim"  # → class ioc-st-sim, hatched by 20_warnings.css
    css = (Path(__file__).resolve().parents[1] / "ioc" / "web" / "assets" / "20_warnings.css").read_text()
    assert "path.ioc-simulation { fill: url(#ioc-hatch)" in css
    # Live layers never carry it: the flood layer of the same state draws no simulated feature.
    flood = water.build_areas(state({"warnings.simulation": (sim,), "warnings.floods": FloodView(T, areas=(
        FloodAreaView("a1", "Tô Hiệu", 35.0, T, "vanhanh", "drawn", False, SQUARE),))}), "vi")  # type: ignore[arg-type]
    assert [f["properties"]["layer"] for f in flood.features["features"]] == ["flood_areas"]
    assert "ngập 35 cm" in flood.features["features"][0]["properties"]["tooltip"]


@pytest.mark.integration
def test_import_store_export_and_no_live_alert(stack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from alerts.rules import load_rule_config, warning_rules
    from geodata.cli_overlays import register

    dsn = stack.settings.database_dsn()
    path = tmp_path / "dt-flood.geojson"
    path.write_text(json.dumps(fc(feat(SQUARE, depth_m=0.6, name="Lê Chân"))), encoding="utf-8")
    app = typer.Typer()
    register(app)
    env = {"IOC_DATABASE_URL": dsn, "IOC_DATA_DIR": str(tmp_path)}
    res = CliRunner().invoke(app, ["simulation", "import", str(path), "--name", "Ngập Lê Chân", "--time",
                                   "2026-09-13T22:00+07:00", "--author", "Digital Twin"], env=env)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "MÔ PHỎNG: Ngập Lê Chân (1 features)" in res.output
    layer_id = res.output.split()[0]
    bad = CliRunner().invoke(app, ["simulation", "import", str(path), "--name", "x", "--time", "2026-09-13T22:00",
                                   "--author", "a"], env=env)  # fmt: skip
    assert bad.exit_code != 0 and "time zone" in bad.output
    out = tmp_path / "export.geojson"
    res = CliRunner().invoke(app, ["simulation", "export", layer_id, "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["name"].startswith("MÔ PHỎNG") and doc["simulation"]["label"] == "MÔ PHỎNG"
    assert all(f["properties"]["label"] == "MÔ PHỎNG" and f["properties"]["simulation"] for f in doc["features"])
    areas = tmp_path / "areas.geojson"
    areas.write_text(json.dumps(fc(feat(SQUARE, name="Tô Hiệu", depth_cm=40))), encoding="utf-8")
    res = CliRunner().invoke(app, ["flood", "import", str(areas), "--author", "vanhanh", "--time",
                                   "2026-09-13T22:00+07:00"], env=env)  # fmt: skip
    assert res.exit_code == 0 and "1 flood area(s) stored" in res.output
    with psycopg.connect(dsn) as conn:
        sims = overlays.simulation_layers(conn)
        floods = overlays.flood_areas(conn, T - timedelta(days=1))
        # Nothing live: no event table gained a row and no alert exists.
        alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
        events = conn.execute("SELECT (SELECT count(*) FROM water_events) + (SELECT count(*) FROM feedback_events)"
                              " + (SELECT count(*) FROM camera_events)").fetchone()
    assert [s.name for s in sims] == ["Ngập Lê Chân"] and sims[0].author == "Digital Twin"
    assert [(a.name, a.depth_cm, a.origin) for a in floods] == [("Tô Hiệu", 40.0, "imported")]
    assert alerts == (0,) and events == (0,)
    # No rule consumes a stored simulation: every rule's input is a live event class.
    from ioc.sources import EVENT_CLASSES

    for rule in warning_rules(load_rule_config()):
        assert rule.evaluate(sims[0]) == []  # type: ignore[arg-type]
    assert not any(cls.__name__.lower().startswith("simulation") for cls in EVENT_CLASSES.values())
    res = CliRunner().invoke(app, ["simulation", "remove", layer_id], env=env)
    assert res.exit_code == 0
    with psycopg.connect(dsn) as conn:
        assert overlays.simulation_layers(conn) == []
