"""Boundary sets, validation/import, admin assignment and the bundled sets (geodata/)."""

from __future__ import annotations

import copy
import csv
import json
import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import shapely
import typer
from typer.testing import CliRunner

from geodata import attribution, build_default
from geodata.admin import AdminAssigner, DatedAdminAssigner
from geodata.boundaries import (
    DEFAULT_SETS_DIR,
    SHARED_PRE2025_ID,
    BoundarySet,
    boundary_set_for,
    install_boundary_file,
    installed_sets_dir,
    load_boundary_set,
    load_boundary_sets,
    shared_boundary_sets,
    to_geojson,
)
from geodata.cli import register
from geodata.validate import BoundaryValidationError, validate_features
from ioc.settings import Settings

SHARED = Settings().shared_data_dir
REAL_DISTRICTS = SHARED / "boundaries" / "haiphong_pre2025_districts.geojson"
REAL_HD_DISTRICTS = SHARED / "boundaries" / "haiduong_pre2025_districts.geojson"
COMMUNES_2025 = SHARED / "boundaries" / build_default.COMMUNES_NAME
LANDMARKS = SHARED / "landmarks" / "haiphong_landmarks.csv"
needs_shared = pytest.mark.skipif(
    not (REAL_DISTRICTS.is_file() and REAL_HD_DISTRICTS.is_file()),
    reason=f"shared real data absent: {REAL_DISTRICTS} (read at run time, GPL-3.0)",
)
needs_mit_source = pytest.mark.skipif(
    not COMMUNES_2025.is_file(), reason=f"shared MIT source absent: {COMMUNES_2025}"
)
PRE, POST = date(2024, 5, 1), date(2025, 8, 1)
BLV = (107.7323, 20.1346)  # on Bạch Long Vĩ island
CAT_BA_TOWN = (107.048, 20.727)


@pytest.fixture(scope="module")
def defaults() -> list[BoundarySet]:
    return load_boundary_sets(DEFAULT_SETS_DIR)


@pytest.fixture(scope="module")
def pre(defaults) -> BoundarySet:
    return boundary_set_for(PRE, defaults)


@pytest.fixture(scope="module")
def post(defaults) -> BoundarySet:
    return boundary_set_for(POST, defaults)


@pytest.fixture()
def data_dir(tmp_path, monkeypatch) -> Path:
    """A private IOC data dir so installs never touch the user's real one."""
    monkeypatch.setenv("IOC_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture()
def no_shared(tmp_path, monkeypatch) -> None:
    """A machine without shared/data (a fresh clone on a customer's server)."""
    monkeypatch.setenv("IOC_SHARED_DATA_DIR", str(tmp_path / "no-shared"))


@pytest.fixture(scope="module")
def real_pre() -> BoundarySet:
    if not (REAL_DISTRICTS.is_file() and REAL_HD_DISTRICTS.is_file()):
        pytest.skip(f"shared real data absent: {REAL_DISTRICTS} (read at run time, GPL-3.0)")
    (bs,) = shared_boundary_sets()
    return bs


def square(x0: float, y0: float, d: float = 0.01) -> list[list[list[float]]]:
    return [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]


def collection(*features: dict, crs: str | None = None) -> dict:
    doc: dict = {"type": "FeatureCollection", "features": list(features)}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def feature(props: dict, coords: list, kind: str = "Polygon") -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coords}}


# --- the bundled sets ------------------------------------------------------------------------


def test_bundled_sets_are_the_two_hierarchies(pre, post):
    assert pre.id == "haiphong-pre2025-approx" and post.id == "haiphong-2025-communes"
    assert (pre.effective_from, pre.effective_to) == (None, date(2025, 7, 1))
    assert (post.effective_from, post.effective_to) == (date(2025, 7, 1), None)
    assert pre.levels == ("province", "district") and post.levels == ("city", "commune")
    assert pre.counts() == {"province": 2, "district": 27}
    assert sum(u.parent_code == "31" for u in pre.units("district")) == 15
    assert sum(u.parent_code == "30" for u in pre.units("district")) == 12
    assert post.counts() == {"city": 1, "commune": 114}
    kinds = [u.kind for u in post.units("commune")]
    assert (kinds.count("Phường"), kinds.count("Xã"), kinds.count("Đặc khu")) == (45, 67, 2)
    names = {u.full_name for u in pre.units("district")}
    assert {"Quận Hồng Bàng", "Thành phố Thuỷ Nguyên", "Huyện Cát Hải", "Huyện Bạch Long Vĩ"} <= names
    assert {"Thành phố Hải Dương", "Thành phố Chí Linh", "Thị xã Kinh Môn"} <= names
    assert {"Đặc khu Cát Hải", "Đặc khu Bạch Long Vĩ"} <= {u.full_name for u in post.units("commune")}


def test_2025_set_is_real_and_keeps_the_pre2025_links(post):
    assert not post.approximate and post.attribution == attribution.COMMUNES_2025
    assert "MIT" in post.licence
    codes = [u.code for u in post.units("commune")]
    assert all(len(c) == 5 and c.isdigit() for c in codes) and len(set(codes)) == 114
    for u in post.units("commune"):
        p = u.properties
        assert not u.approximate and p["approximate"] is False, u.code
        assert p["full_name"] == u.full_name and p["type"] in ("phuong", "xa", "dac_khu"), u.code
        assert p["name_en"] and p["merged_from"] and p["old_districts"], u.code
        assert len(p["old_district_codes"]) == len(p["old_districts"]), u.code
        assert {m["old_district_code"] for m in p["merged_from"]} == set(p["old_district_codes"]), u.code
    chi_linh = [u for u in post.units("commune") if "Thành phố Chí Linh" in u.properties["old_districts"]]
    assert len(chi_linh) >= 6 and all("290" in u.properties["old_district_codes"] for u in chi_linh)
    notice = (DEFAULT_SETS_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "Copyright (c) 2025 dvhcvn" in notice and "Copyright (c) 2021 Thang Le Quoc" in notice
    assert " ".join(attribution.COMMUNES_2025.split()) in " ".join(notice.split())


@needs_mit_source
def test_2025_codes_are_the_gso_codes_of_the_merge_table(post):
    merges = json.loads((SHARED / "boundaries" / build_default.MERGES_NAME).read_text(encoding="utf-8"))
    assert {m["level2_id"] for m in merges["level2s"]} == {u.code for u in post.units("commune")}


def test_attribution_matches_the_shared_readme():
    readme = SHARED / "README.md"
    if not readme.is_file():
        pytest.skip(f"shared data absent: {readme}")
    text = " ".join(readme.read_text(encoding="utf-8").split())
    for credit in (attribution.COMMUNES_2025, attribution.OSM, attribution.GSHHG, attribution.DVHCVN_PRE2025):
        assert " ".join(credit.split()) in text, credit


def test_approximate_set_is_labelled_approximate(pre):
    assert pre.approximate and "approximate" not in pre.licence.lower() and "MIT" in pre.licence
    assert "APPROXIMATE" in pre.attribution
    for u in pre.features:
        assert u.approximate and u.properties["approximate"] is True, u.code
        assert "approximate" in u.properties["source"], u.code


@pytest.mark.parametrize("when", [PRE, POST])
def test_bundled_leaves_tile_the_city(defaults, when):
    bs = boundary_set_for(when, defaults)
    leaves = [u.geometry for u in bs.leaves()]
    union = shapely.union_all(leaves)
    # The 2025 source has 0.001 km² of overlap (of 3 195 km²); the approximate set none.
    assert sum(g.area for g in leaves) == pytest.approx(union.area, rel=1e-6)
    top = bs.units(bs.levels[0])
    assert union.symmetric_difference(shapely.union_all([u.geometry for u in top])).area < 1e-6 * union.area
    for u in bs.features:
        assert u.geometry.is_valid and not u.geometry.is_empty, u.code


def test_approximate_districts_lie_in_their_province(pre):
    for u in pre.units("district"):
        parent = pre.unit(u.parent_code)
        assert parent.level == "province"
        assert u.geometry.difference(parent.geometry).area < 1e-9, (u.code, u.parent_code)
    assert pre.unit("318") in pre.leaves()  # Bạch Long Vĩ


@needs_shared
def test_real_pre2025_districts_are_loaded_at_run_time(real_pre, defaults):
    assert real_pre.id == SHARED_PRE2025_ID and not real_pre.approximate and "GPL-3.0" in real_pre.licence
    assert real_pre.counts() == {"province": 2, "district": 27}
    assert {u.code for u in real_pre.units("district")} == {
        u.code for u in boundary_set_for(PRE, defaults).units("district")
    }
    assert "dvhcvn" in real_pre.attribution
    sets = load_boundary_sets()
    assert boundary_set_for(PRE, sets).id == SHARED_PRE2025_ID  # real beats approximate on equal dates
    assert boundary_set_for(POST, sets).id == "haiphong-2025-communes"


def test_without_shared_data_the_bundled_sets_serve(no_shared, data_dir):
    assert shared_boundary_sets() == []
    sets = load_boundary_sets()
    assert [s.id for s in sets] == ["haiphong-2025-communes", "haiphong-pre2025-approx"]
    assert boundary_set_for(PRE, sets).approximate and not boundary_set_for(POST, sets).approximate


@needs_shared
def test_bad_shared_file_names_the_feature(tmp_path, monkeypatch):
    folder = tmp_path / "shared" / "boundaries"
    folder.mkdir(parents=True)
    doc = json.loads(REAL_HD_DISTRICTS.read_text(encoding="utf-8"))
    rings = doc["features"][3]["geometry"]["coordinates"][0]
    rings[0] = rings[0][:3]  # a ring of 3 positions
    (folder / REAL_HD_DISTRICTS.name).write_text(json.dumps(doc), encoding="utf-8")
    (folder / REAL_DISTRICTS.name).write_bytes(REAL_DISTRICTS.read_bytes())
    monkeypatch.setenv("IOC_SHARED_DATA_DIR", str(tmp_path / "shared"))
    with pytest.raises(BoundaryValidationError, match=r"feature #3 \(code='292', name='Kinh Môn'\).*ring"):
        shared_boundary_sets()


@needs_shared
def test_approximate_districts_agree_with_the_real_ones(pre, real_pre):
    """The approximate set is never tuned to the GPL polygons; this only measures it."""
    approx = AdminAssigner(pre, "district")
    for u in real_pre.units("district"):  # each real district's label point
        lon, lat = u.properties["label_lon"], u.properties["label_lat"]
        assert approx.assign(lon, lat) == u.code, u.full_name
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = real_pre.unit("31").geometry.union(real_pre.unit("30").geometry).bounds
    lons, lats = rng.uniform(minx, maxx, 20_000), rng.uniform(miny, maxy, 20_000)
    truth = AdminAssigner(real_pre, "district", snap_m=0).assign_many(lons, lats)
    got = approx.assign_many(lons, lats)
    pairs = [(t, a) for t, a in zip(truth, got, strict=True) if t is not None]
    assert len(pairs) > 2000 and np.mean([t == a for t, a in pairs]) > 0.93


@needs_shared
def test_2025_units_and_real_districts_agree_with_the_merge_table(post, real_pre):
    """Two independent sources: the 2025 unit at a point must list the real pre-2025 district at
    that point among its ``old_district_codes`` (borders differ by metres, so not everywhere)."""
    old_of = {u.code: set(u.properties["old_district_codes"]) for u in post.units("commune")}
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = post.unit("31").geometry.bounds
    lons, lats = rng.uniform(minx, maxx, 20_000), rng.uniform(miny, maxy, 20_000)
    new = AdminAssigner(post, snap_m=0).assign_many(lons, lats)
    old = AdminAssigner(real_pre, "district", snap_m=0).assign_many(lons, lats)
    pairs = [(o, n) for o, n in zip(old, new, strict=True) if o is not None and n is not None]
    assert len(pairs) > 2000 and np.mean([o in old_of[n] for o, n in pairs]) > 0.97


@needs_mit_source
def test_bundled_files_are_reproducible_from_the_generator():
    assert build_default.main(["--check", "--out", str(DEFAULT_SETS_DIR)]) == 0


@needs_mit_source
def test_generator_names_a_bad_source_feature(tmp_path):
    for name in (build_default.CSV_NAME, build_default.MERGES_NAME):
        (tmp_path / name).write_bytes((SHARED / "boundaries" / name).read_bytes())
    doc = json.loads(COMMUNES_2025.read_text(encoding="utf-8"))
    doc["features"][5]["properties"]["type"] = "thi_tran"
    (tmp_path / build_default.COMMUNES_NAME).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, name = doc["features"][5]["properties"]["code"], doc["features"][5]["properties"]["name"]
    with pytest.raises(
        BoundaryValidationError, match=rf"feature #5 \(code='{code}', name='{name}'\): type 'thi_tran'"
    ):
        build_default.main(["--source-dir", str(tmp_path), "--out", str(tmp_path / "out")])


# --- selection by date -----------------------------------------------------------------------


def test_boundary_set_for_picks_the_set_in_force(defaults):
    assert boundary_set_for(date(2025, 6, 30), defaults).id == "haiphong-pre2025-approx"
    assert boundary_set_for(date(2025, 7, 1), defaults).id == "haiphong-2025-communes"
    assert boundary_set_for(date(1990, 1, 1), defaults).id == "haiphong-pre2025-approx"


def test_newer_and_exact_sets_win(defaults):
    pre = boundary_set_for(PRE, defaults)
    exact_same_period = replace(pre, id="exact", approximate=False)
    newer = replace(pre, id="newer", effective_from=date(2020, 1, 1), effective_to=None)
    sets = [*defaults, exact_same_period, newer]
    assert boundary_set_for(date(2019, 1, 1), sets).id == "exact"
    assert boundary_set_for(date(2024, 1, 1), sets).id == "newer"
    assert boundary_set_for(date(2026, 1, 1), sets).id == "haiphong-2025-communes"  # 2025-07-01 > 2020-01-01


def test_no_set_in_force_names_the_date(defaults):
    post = boundary_set_for(POST, defaults)
    with pytest.raises(LookupError, match="2020-01-01"):
        boundary_set_for(date(2020, 1, 1), [post])


def test_effective_to_must_follow_effective_from(pre):
    with pytest.raises(ValueError, match="effective_to 2020-01-01 is not after effective_from 2021-01-01"):
        replace(pre, effective_from=date(2021, 1, 1), effective_to=date(2020, 1, 1))


def test_loader_falls_back_to_defaults_and_prefers_installed(data_dir, no_shared, pre):
    assert {s.id for s in load_boundary_sets()} == {"haiphong-pre2025-approx", "haiphong-2025-communes"}
    exact = replace(pre, id="exact-pre", approximate=False)
    from geodata.boundaries import save_boundary_set

    save_boundary_set(exact, installed_sets_dir() / "exact-pre.geojson")
    sets = load_boundary_sets()
    assert sets[0].id == "exact-pre" and boundary_set_for(PRE, sets).id == "exact-pre"
    assert boundary_set_for(POST, sets).id == "haiphong-2025-communes"


def test_stored_file_without_metadata_is_rejected(tmp_path):
    path = tmp_path / "plain.geojson"
    path.write_text(json.dumps(collection(feature({"code": "1", "name": "A"}, square(106.6, 20.8)))))
    with pytest.raises(BoundaryValidationError, match="no 'boundary_set' metadata"):
        load_boundary_set(path)


# --- validation ------------------------------------------------------------------------------

GOOD = feature({"code": "901", "name": "Thử Nghiệm"}, square(106.60, 20.80))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            feature(
                {"level2_id": "902", "name": "Nơ Bướm"},
                [[[106.6, 20.8], [106.7, 20.9], [106.7, 20.8], [106.6, 20.9], [106.6, 20.8]]],
            ),
            r"feature #1 \(code='902', name='Nơ Bướm'\): invalid geometry: Self-intersection",
        ),
        (feature({"level2_id": "903"}, square(106.7, 20.8)), r"feature #1 \(code='903'\): missing name"),
        (feature({"name": "Không Mã"}, square(106.7, 20.8)), r"feature #1 \(name='Không Mã'\): missing code"),
        (
            feature({"code": "904", "name": "Mét"}, square(11874000.0, 2377000.0, 1000.0)),
            r"feature #1 \(code='904', name='Mét'\): polygon 0 ring 0: position 0 \(1.1874e\+07, 2.377e\+06\) is not lon/lat.*EPSG:3857",
        ),
        (
            feature(
                {"code": "905", "name": "Hở"}, [[[106.6, 20.8], [106.7, 20.8], [106.7, 20.9], [106.6, 20.9]]]
            ),
            r"feature #1 \(code='905', name='Hở'\): polygon 0 ring 0: ring is not closed",
        ),
        (
            feature({"code": "906", "name": "Điểm"}, [106.6, 20.8], kind="Point"),
            r"feature #1 \(code='906', name='Điểm'\): geometry must be Polygon or MultiPolygon, got 'Point'",
        ),
        (
            feature({"code": "901", "name": "Trùng"}, square(106.7, 20.8)),
            r"feature #1 .*code '901' already used by feature #0",
        ),
    ],
    ids=[
        "invalid-ring",
        "missing-name",
        "missing-code",
        "metres-undeclared",
        "unclosed-ring",
        "point",
        "duplicate-code",
    ],
)
def test_bad_feature_is_named(bad, message):
    with pytest.raises(BoundaryValidationError, match=message):
        validate_features(collection(GOOD, bad), source="bad.geojson")


@pytest.mark.parametrize("crs", ["EPSG:3857", "urn:ogc:def:crs:EPSG::32648"])
def test_projected_crs_is_rejected_by_name(crs):
    with pytest.raises(BoundaryValidationError, match=rf"bad.geojson: CRS '{crs}' is not EPSG:4326"):
        validate_features(collection(GOOD, crs=crs), source="bad.geojson")


@pytest.mark.parametrize(
    "crs", [None, "EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326"]
)
def test_wgs84_crs_spellings_are_accepted(crs):
    (unit,) = validate_features(collection(GOOD, crs=crs), source="ok.geojson")
    assert (unit.code, unit.name, unit.level) == ("901", "Thử Nghiệm", "district")


# --- import and CLI ----------------------------------------------------------------------------


@pytest.fixture()
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps `geodata` a sub-command, as in the real `ioc` app
        pass

    return app


@needs_shared
def test_import_real_districts_and_assign_landmarks(data_dir, cli):
    result = CliRunner().invoke(
        cli,
        [
            "geodata",
            "import",
            str(REAL_DISTRICTS),
            "--effective-from",
            "2019-10-18",
            "--set-id",
            "hp-real",
            "--licence",
            "GPL-3.0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "installed 'hp-real' (15 district)" in result.output
    installed = installed_sets_dir() / "hp-real.geojson"
    bs = load_boundary_set(installed)
    assert bs.effective_from == date(2019, 10, 18) and bs.licence == "GPL-3.0" and not bs.approximate
    assert (
        bs.unit("303").name == "Hồng Bàng"
        and bs.unit("303").kind == "Quận"
        and bs.unit("303").parent_code == "31"
    )
    assert boundary_set_for(PRE, load_boundary_sets()).id == "hp-real"
    assigner = AdminAssigner(bs)
    with LANDMARKS.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if not r["district_pre2025_check"].startswith("outside")]
    assert rows
    for r in rows:
        code = assigner.assign(float(r["lon"]), float(r["lat"]))
        assert code is not None and assigner.unit(code).full_name == r["district_pre2025_check"], r["id"]
    listing = CliRunner().invoke(cli, ["geodata", "list"])
    assert listing.exit_code == 0
    line = next(ln for ln in listing.output.splitlines() if "hp-real" in ln)
    assert "[2019-10-18, …)" in line and "15 district" in line and "installed" in line


def test_cli_import_bad_file_names_the_feature(data_dir, cli, tmp_path):
    bad = tmp_path / "bad.geojson"
    doc = collection(GOOD, feature({"code": "907"}, square(106.7, 20.8)))
    bad.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(cli, ["geodata", "import", str(bad)])
    assert result.exit_code == 1
    assert "feature #1 (code='907'): missing name" in result.output
    assert not installed_sets_dir().exists() or not any(installed_sets_dir().iterdir())


def test_cli_import_refuses_to_overwrite_and_bad_dates(data_dir, cli, tmp_path):
    good = tmp_path / "wards.geojson"
    good.write_text(json.dumps(collection(GOOD)), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["geodata", "import", str(good), "--level", "commune"]).exit_code == 0
    again = runner.invoke(cli, ["geodata", "import", str(good)])
    assert again.exit_code == 1 and "already installed" in again.output
    assert runner.invoke(cli, ["geodata", "import", str(good), "--replace"]).exit_code == 0
    bad_date = runner.invoke(
        cli, ["geodata", "import", str(good), "--replace", "--effective-from", "1/7/2025"]
    )
    assert bad_date.exit_code == 2 and "'1/7/2025' is not a date" in bad_date.output


def test_install_keeps_level_and_period(data_dir, tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text(json.dumps(collection(GOOD)), encoding="utf-8")
    bs = install_boundary_file(
        path, effective_from=date(2025, 7, 1), effective_to=date(2026, 1, 1), level="commune"
    )
    assert (bs.id, bs.levels, bs.effective_from, bs.effective_to) == (
        "x",
        ("commune",),
        date(2025, 7, 1),
        date(2026, 1, 1),
    )
    with pytest.raises(ValueError, match="set id 'bad id!'"):
        install_boundary_file(path, set_id="bad id!")


# --- assignment --------------------------------------------------------------------------------


def test_assign_known_points(pre, post):
    district = AdminAssigner(pre, "district")
    assert district.assign(*CAT_BA_TOWN) == "317"  # Cát Bà town, on the island
    assert district.assign(*BLV) == "318"  # Bạch Long Vĩ
    assert district.assign(106.90, 20.50) is None  # Gulf of Tonkin
    assert district.assign(math.nan, 20.8) is None
    assert district.name("303") == "Hồng Bàng" and district.unit("303").full_name == "Quận Hồng Bàng"
    leaves = AdminAssigner(pre)  # the pre-2025 finest level is the district: no made-up communes
    assert leaves.assign(*BLV) == "318"
    code = leaves.assign(106.680, 20.862)
    assert leaves.unit(code).level == "district" and [a.code for a in pre.ancestors(code)] == ["31"]
    new = AdminAssigner(post)
    assert new.unit(new.assign(*BLV)).full_name == "Đặc khu Bạch Long Vĩ"
    assert new.unit(new.assign(*CAT_BA_TOWN)).full_name == "Đặc khu Cát Hải"
    assert new.unit(new.assign(106.68142, 20.8585)).full_name == "Phường Hồng Bàng"  # Nhà hát lớn
    assert [a.code for a in post.ancestors(new.assign(106.68142, 20.8585))] == ["31"]


@pytest.mark.parametrize(
    ("lon", "lat", "old_district"),
    [
        (106.3250, 20.9400, "Thành phố Hải Dương"),  # Hải Dương city centre
        (106.3900, 21.1050, "Thành phố Chí Linh"),  # Sao Đỏ
        (106.5100, 21.0000, "Thị xã Kinh Môn"),
        (106.4950, 20.9350, "Huyện Kim Thành"),  # along QL5
    ],
)
def test_former_hai_duong_points_get_their_2025_unit(post, pre, lon, lat, old_district):
    new = AdminAssigner(post)
    code = new.assign(lon, lat)
    assert code is not None and old_district in new.unit(code).properties["old_districts"]
    assert AdminAssigner(pre).unit(AdminAssigner(pre).assign(lon, lat)).full_name == old_district


def test_gap_and_shore_points_snap_to_the_nearest_unit(post):
    gap = (106.79235, 20.69342)  # inside the source's one internal gap (0.056 km²), ~60 m from units
    assert AdminAssigner(post, snap_m=0).assign(*gap) is None
    snapping = AdminAssigner(post)
    assert snapping.unit(snapping.assign(*gap)).full_name == "Phường Đồ Sơn"
    assert snapping.assign_many([gap[0]], [gap[1]]) == [snapping.assign(*gap)]
    west_of_blv = (107.7250, 20.1350)  # ~100 m off Bạch Long Vĩ's west shore
    assert snapping.assign(*west_of_blv) == "11948"
    assert snapping.assign(107.70, 20.135) is None  # 2 km offshore: outside the city
    with pytest.raises(ValueError, match="snap_m must be >= 0 metres, got -1"):
        AdminAssigner(post, snap_m=-1)


def test_overlapping_sliver_goes_to_the_first_unit(post):
    """The source has one 0.001 km² overlap (Lưu Kiếm / Thuỷ Nguyên): no crash, a deterministic answer."""
    units = post.units("commune")
    a, b = next(
        (u, v) for i, u in enumerate(units) for v in units[i + 1 :] if u.geometry.overlaps(v.geometry)
    )
    p = a.geometry.intersection(b.geometry).representative_point()
    assigner = AdminAssigner(post)
    assert assigner.assign(p.x, p.y) == a.code and assigner.assign_many([p.x], [p.y]) == [a.code]


@pytest.mark.parametrize("when", [PRE, POST])
def test_assign_many_matches_assign(defaults, when):
    assigner = AdminAssigner(boundary_set_for(when, defaults))
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(106.0, 107.8, 3000), rng.uniform(20.1, 21.3, 3000)
    lons[:5], lats[:5] = np.nan, 20.8
    many = assigner.assign_many(lons, lats)
    assert many == [assigner.assign(x, y) for x, y in zip(lons, lats, strict=True)]
    assert many[:5] == [None] * 5
    assert 0 < sum(c is not None for c in many) < len(many)
    assert assigner.names(many[5:8]) == [None if c is None else assigner.name(c) for c in many[5:8]]


def test_point_on_a_shared_border_goes_to_the_first_unit():
    units = validate_features(
        collection(
            feature({"code": "B", "name": "Bên phải"}, square(106.61, 20.8)),
            feature({"code": "A", "name": "Bên trái"}, square(106.60, 20.8)),
        ),
        source="t",
    )
    bs = BoundarySet("t", None, None, ("district",), "test", "none", tuple(units))
    assigner = AdminAssigner(bs)
    assert assigner.assign(106.61, 20.805) == "B"
    assert assigner.assign_many([106.61, 106.605, 106.615], [20.805] * 3) == ["B", "A", "B"]


def test_assign_many_rejects_mismatched_input(pre):
    assigner = AdminAssigner(pre)
    with pytest.raises(ValueError, match=r"shapes \(2,\) and \(3,\)"):
        assigner.assign_many([106.6, 106.7], [20.8, 20.8, 20.8])
    assert assigner.assign_many([], []) == []
    with pytest.raises(ValueError, match="unknown level 'ward'"):
        AdminAssigner(pre, "ward")


# --- GeoJSON for the map -----------------------------------------------------------------------


def test_to_geojson_simplifies_and_rounds(pre):
    doc = to_geojson(pre, "district", tolerance=0.001)  # coverage (VW) tolerance: ≈ 0.002 Douglas-Peucker
    assert len(doc["features"]) == 27 and doc["boundary_set"] == pre.id and doc["approximate"] is True
    json.dumps(doc)  # plain lists and strings only
    full = {u.code: u.geometry for u in pre.units("district")}
    for f in doc["features"]:
        p = f["properties"]
        assert p["level"] == "district" and p["approximate"] is True and p["name"]
        coords = np.array([c for ring in _rings(f["geometry"]) for c in ring])
        assert np.allclose(coords * 1e5, np.round(coords * 1e5), atol=1e-6)
        shown = shapely.geometry.shape(f["geometry"])
        assert shapely.get_num_coordinates(shown) <= shapely.get_num_coordinates(full[p["code"]])
        assert shown.symmetric_difference(full[p["code"]]).area < 0.05 * full[p["code"]].area
    with pytest.raises(ValueError, match="unknown level 'ward'"):
        to_geojson(pre, "ward")


def _rings(geometry: dict) -> list:
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for poly in polys for ring in poly]


def test_to_geojson_does_not_mutate_the_set(post):
    before = copy.deepcopy([u.geometry.wkb for u in post.units("commune")])
    to_geojson(post, "commune")
    assert [u.geometry.wkb for u in post.units("commune")] == before


def test_dated_assigner_uses_the_set_in_force_on_the_local_date(defaults):
    dated = DatedAdminAssigner(defaults)
    # 2025-06-30 17:30 UTC is already 2025-07-01 00:30 in Hải Phòng: the new set applies.
    before, after = datetime(2025, 6, 30, 16, 30, tzinfo=UTC), datetime(2025, 6, 30, 17, 30, tzinfo=UTC)
    hd = (106.330, 20.940)  # old Hải Dương: TP Hải Dương before the merger, a ward of Hải Phòng after
    got = dated.assign_many([hd[0], hd[0], BLV[0]], [hd[1], hd[1], BLV[1]], [before, after, date(2024, 1, 1)])
    assert got[0] == ("haiphong-pre2025-approx", "288")
    assert got[1][0] == "haiphong-2025-communes" and got[1][1] is not None and got[1][1] != "288"
    assert got[2] == ("haiphong-pre2025-approx", "318")
    assert dated.for_date(after) is dated.for_date(date(2026, 1, 1))  # one index per set
    with pytest.raises(ValueError, match="naive datetime 2025-07-01T00:00:00"):
        dated.for_date(datetime(2025, 7, 1))
    assert (
        dated.for_date(datetime(2025, 7, 1, tzinfo=timezone(timedelta(hours=7)))).boundary_set.id
        == "haiphong-2025-communes"
    )


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"level3_id": "11311", "level2_id": "303", "name": "Minh Khai"}, ("11311", "303")),
        ({"level2_id": "303", "level1_id": "31", "name": "Hồng Bàng"}, ("303", "31")),
        ({"level2_id": "303", "province_id_pre2025": "31", "name": "Hồng Bàng"}, ("303", "31")),
        ({"level1_id": "31", "name": "Thành phố Hải Phòng"}, ("31", None)),
        ({"code": "x1", "parent_code": "p", "level2_id": "303", "name": "X"}, ("x1", "p")),
    ],
)
def test_dvhcvn_style_ids_give_code_and_parent(props, expected):
    (unit,) = validate_features(collection(feature(props, square(106.6, 20.8))), source="t")
    assert (unit.code, unit.parent_code) == expected
