"""The NAB scoring protocol on tiny hand-made files with known answers, plus a smoke run on the corpus."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from alerts import nab

NAB_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"
needs_nab = pytest.mark.skipif(
    not (NAB_ROOT / "labels" / "combined_windows.json").is_file(),
    reason=f"NAB corpus absent: {NAB_ROOT} (shared read-only data, see shared/data/README.md)",
)


def tiny(n: int = 1000, windows=((500, 599),), folder: str = "demo", name: str = "f.csv") -> nab.NabFile:
    ts = np.arange(n).astype("datetime64[m]").astype("datetime64[ns]")
    return nab.NabFile(folder, name, ts, np.zeros(n), tuple(windows))


def detections(n: int, rows) -> np.ndarray:
    s = np.zeros(n)
    s[list(rows)] = 1.0
    return s


def test_scaled_sigmoid_landmarks():
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(3.5) == -1.0


def test_probation_is_15_percent_capped_at_750_rows():
    assert nab.probationary_length(1000) == 150
    assert nab.probationary_length(4032) == 604
    assert nab.probationary_length(15902) == 750


def test_detection_at_window_start_is_worth_one_true_positive():
    f = tiny()
    res = nab.score_at([f], [detections(1000, [500])], nab.STANDARD, 0.5)
    assert res.score == pytest.approx(1.0)
    assert (res.tp, res.fn, res.fp) == (1, 0, 0)
    assert nab.normalise(res.score, [f], nab.STANDARD) == pytest.approx(100.0)


def test_later_detection_in_window_is_worth_less_and_only_the_best_counts():
    f = tiny()
    late = nab.score_at([f], [detections(1000, [580])], nab.STANDARD, 0.5).score
    both = nab.score_at([f], [detections(1000, [510, 580])], nab.STANDARD, 0.5).score
    y = -(599 - 580 + 1) / 100
    assert late == pytest.approx(nab.scaled_sigmoid(y) / nab.scaled_sigmoid(-1.0))
    assert 0 < late < both < 1.0


def test_false_positive_far_before_any_window_costs_the_full_fp_weight():
    f = tiny()
    rows = [500, 300]  # a hit plus an FP before the window (no preceding window: weight -1)
    for profile in nab.PROFILES:
        res = nab.score_at([f], [detections(1000, rows)], profile, 0.5)
        assert res.score == pytest.approx(1.0 - profile.fp)
        assert res.fp == 1


def test_false_positive_just_after_a_window_is_cheaper_than_one_far_after():
    f = tiny()
    near = nab.score_at([f], [detections(1000, [500, 601])], nab.STANDARD, 0.5).score
    far = nab.score_at([f], [detections(1000, [500, 950])], nab.STANDARD, 0.5).score
    assert far == pytest.approx(1.0 - 0.11)  # more than 3 widths past the window end
    expected_near = 1.0 + 0.11 * nab.scaled_sigmoid(abs(599 - 601) / 99)
    assert near == pytest.approx(expected_near)
    assert far < near < 1.0


def test_missed_window_costs_fn_weight():
    f = tiny(windows=((300, 399), (700, 799)))
    res = nab.score_at([f], [detections(1000, [300])], nab.REWARD_LOW_FN, 0.5)
    assert res.score == pytest.approx(1.0 - 2.0)
    assert (res.tp, res.fn) == (1, 1)


def test_probationary_rows_are_ignored():
    f = tiny()  # probation = 150 rows
    res = nab.score_at([f], [detections(1000, [10, 500])], nab.STANDARD, 0.5)
    assert res.fp == 0 and res.score == pytest.approx(1.0)


def test_null_and_perfect_detectors_normalise_to_0_and_100():
    files = [tiny(windows=((300, 399), (700, 799))), tiny(name="g.csv", windows=((500, 599),))]
    null = [np.full(1000, 0.5) for _ in files]
    perfect = [detections(1000, [a for a, _ in f.windows]) for f in files]
    for profile in nab.PROFILES:
        assert nab.score_detector(files, null, profile).normalised == pytest.approx(0.0)
        assert nab.score_detector(files, perfect, profile).normalised == pytest.approx(100.0)


def test_threshold_optimisation_finds_the_best_cut_and_matches_score_at():
    f = tiny(windows=((300, 399), (700, 799)))
    s = np.zeros(1000)
    s[300], s[700] = 0.9, 0.6  # two hits at different levels
    # Twenty FPs at 0.7 cost 20 * 0.11 = 2.2, more than the 2.0 gained by turning a miss into a hit.
    s[160:300:7] = 0.7
    best = nab.optimise_threshold([f], [s], nab.STANDARD)
    assert best.threshold == 0.9
    assert best.score == pytest.approx(1.0 - 1.0)
    for thr in (0.6, 0.7, 0.9):
        brute = nab.score_at([f], [s], nab.STANDARD, thr).score
        assert brute <= best.score + 1e-12
    # With a low FP weight the twenty FPs become worth paying for the second window.
    cheap = nab.Profile("cheap", tp=1.0, fp=0.05, fn=1.0)
    assert nab.optimise_threshold([f], [s], cheap).threshold == 0.6


def test_optimiser_agrees_with_brute_force_on_random_scores():
    rng = np.random.default_rng(4)
    files = [tiny(windows=((300, 349), (800, 899))), tiny(name="g.csv", windows=((600, 700),))]
    scores = [np.round(rng.random(1000), 2) for _ in files]
    for profile in nab.PROFILES:
        best = nab.optimise_threshold(files, scores, profile)
        grid = np.unique(np.concatenate(scores))
        brute = max(nab.score_at(files, scores, profile, t).score for t in grid)
        assert best.score == pytest.approx(max(brute, nab.null_score(files, profile)))


def test_bad_scores_are_rejected_with_the_file_named():
    f = tiny()
    with pytest.raises(ValueError, match="demo/f.csv: 3 scores for 1000 rows"):
        nab.score_at([f], [np.zeros(3)], nab.STANDARD, 0.5)
    bad = np.zeros(1000)
    bad[7] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        nab.optimise_threshold([f], [bad], nab.STANDARD)


@needs_nab
def test_corpus_loads_with_windows_matched_to_rows():
    files = nab.load_corpus(NAB_ROOT)
    assert len(files) == 45
    assert sum(len(f.windows) for f in files) == 83
    speed = next(f for f in files if f.key == "realTraffic/speed_7578.csv")
    assert len(speed.values) == 1127 and len(speed.windows) == 4
    for f in files:
        for a, b in f.windows:
            assert f.probation <= a <= b < len(f.values)


@needs_nab
def test_smoke_evaluation_writes_nab_layout_and_report(tmp_path):
    from alerts.evaluate_nab import evaluate

    results = evaluate(
        NAB_ROOT, tmp_path, ["seasonal"], folders=["realTraffic"], limit_files=2, progress=False
    )
    files = nab.load_corpus(NAB_ROOT, folders=["realTraffic"], limit_files=2)
    for f in files:
        path = tmp_path / "results" / "seasonal" / f.folder / f"seasonal_{f.name}"
        header = path.read_text().splitlines()[0]
        assert header == "timestamp,value,anomaly_score,label"
    assert [p.profile for p in results[0].profiles] == [p.name for p in nab.PROFILES]
    report = (tmp_path / "REPORT.md").read_text()
    assert "| seasonal |" in report and "held out" in report
    assert (tmp_path / "plots" / "scores.png").stat().st_size > 1000
    # Rebuilding the report from the written results scores exactly the same.
    again = evaluate(
        NAB_ROOT, tmp_path, ["seasonal"], folders=["realTraffic"], limit_files=2, progress=False, reuse=True
    )
    assert again[0].profiles == results[0].profiles


def _cli():
    import typer

    from alerts.cli_evaluate import register

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A stand-in for the ``ioc`` app."""

    register(app)
    return app


def test_cli_rejects_unknown_detector_by_name(tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        _cli(), ["evaluate", "nab", "--detectors", "seasonal,bogus", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "bogus" in result.output


def test_cli_reports_a_missing_corpus(tmp_path):
    from typer.testing import CliRunner

    args = ["evaluate", "nab", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 2
    assert "NAB corpus not found" in result.output


@needs_nab
def test_cli_smoke_run_on_one_traffic_file(tmp_path):
    from typer.testing import CliRunner

    args = ["evaluate", "nab", "--detectors", "likelihood", "--folders", "realTraffic", "--limit-files", "1"]
    result = CliRunner().invoke(_cli(), [*args, "--out", str(tmp_path), "--data", str(NAB_ROOT)])
    assert result.exit_code == 0, result.output
    assert "likelihood: standard" in result.output
    assert (tmp_path / "results" / "likelihood" / "realTraffic" / "likelihood_TravelTime_387.csv").is_file()


# --------------------------------------------------------------------------- files as NAB reads them


def _corpus(tmp_path: Path, rows: list[tuple[str, float]], windows: list[list[str]]) -> Path:
    import json

    root = tmp_path / "nab"
    (root / "data" / "demo").mkdir(parents=True)
    (root / "labels").mkdir()
    lines = ["timestamp,value", *(f"{t},{v}" for t, v in rows)]
    (root / "data" / "demo" / "dst.csv").write_text("\n".join(lines) + "\n")
    (root / "labels" / "combined_windows.json").write_text(json.dumps({"demo/dst.csv": windows}))
    return root


def _fall_back_rows() -> list[tuple[str, float]]:
    """Hourly rows of two days where 01:00 of the second night repeats (a daylight-saving fall-back)."""
    rows = [(f"2013-11-02 {h:02d}:00:00", float(h)) for h in range(24)]
    rows += [("2013-11-03 00:00:00", 100.0), ("2013-11-03 01:00:00", 101.0), ("2013-11-03 01:00:00", 102.0)]
    rows += [(f"2013-11-03 {h:02d}:00:00", 100.0 + h) for h in range(2, 24)]
    return rows


def test_repeated_hour_file_is_read_in_file_order_with_windows_at_first_matching_rows(tmp_path):
    rows = _fall_back_rows()
    root = _corpus(tmp_path, rows, [["2013-11-03 01:00:00", "2013-11-03 03:00:00"]])
    (f,) = nab.load_corpus(root)
    assert len(f.values) == len(rows) == 49
    np.testing.assert_array_equal(f.values, [v for _, v in rows])  # nothing dropped, merged or sorted
    # NAB enters the window at the first 01:00 row (25) and its right edge is the first 03:00 row (28).
    assert f.windows == ((25, 28),)
    assert f.labels[25:29].tolist() == [1, 1, 1, 1] and f.labels.sum() == 4


def test_out_of_order_timestamps_keep_file_order(tmp_path):
    rows = [(f"2014-01-01 {h:02d}:00:00", float(h)) for h in range(20)]
    rows[10], rows[11] = rows[11], rows[10]  # 11:00 before 10:00
    root = _corpus(tmp_path, rows, [["2014-01-01 10:00:00", "2014-01-01 12:00:00"]])
    (f,) = nab.load_corpus(root)
    assert f.values[10] == 11.0 and f.values[11] == 10.0
    assert f.windows == ((11, 12),)  # 10:00 is row 11; 12:00 is row 12


def test_windows_nab_cannot_match_are_dropped_or_refused_as_nab_does(tmp_path):
    rows = _fall_back_rows()
    root = _corpus(tmp_path, rows, [["2013-11-02 05:30:00", "2013-11-02 08:00:00"]])
    with pytest.warns(UserWarning, match="NAB never scores it"):
        (f,) = nab.load_corpus(root)
    assert f.windows == ()
    root2 = _corpus(tmp_path / "b", rows, [["2013-11-02 05:00:00", "2013-11-02 08:30:00"]])
    with pytest.raises(ValueError, match="does not match"):
        nab.load_corpus(root2)


def test_results_of_a_repeated_hour_file_keep_every_row_and_refuse_underscored_names(tmp_path):
    import pandas as pd

    from alerts.evaluate_nab import evaluate, write_results

    rows = _fall_back_rows()
    root = _corpus(tmp_path, rows, [["2013-11-03 01:00:00", "2013-11-03 03:00:00"]])
    evaluate(root, tmp_path / "out", ["resonance", "seasonal_dedup"], progress=False)
    for name in ("resonance", "seasonaldedup"):  # the old name runs under the new one
        df = pd.read_csv(tmp_path / "out" / "results" / name / "demo" / f"{name}_dst.csv")
        assert list(df.columns) == ["timestamp", "value", "anomaly_score", "label"]
        assert df["timestamp"].tolist() == [t for t, _ in rows]
        assert df["label"].sum() == 4
    files = nab.load_corpus(root)
    with pytest.raises(ValueError, match="no '_'"):
        write_results(tmp_path, "my_detector", files, [np.zeros(49)])


# --------------------------------------------------------------------------- leave-one-folder-out


def test_lofo_chooses_on_the_other_folders_and_scores_the_held_out_one():
    from alerts.nab_lofo import grid_points, lofo

    files = [
        tiny(folder="a", name="a1.csv"),
        tiny(folder="b", name="b1.csv"),
        tiny(folder="b", name="b2.csv"),
        tiny(folder="c", name="c1.csv"),
        tiny(folder="c", name="c2.csv"),
    ]
    hit = detections(1000, [500])  # the first row of the window
    # p=0 is perfect on folder a only, p=1 on b and c only.
    good = {0: {"a"}, 1: {"b", "c"}}
    runs = []

    def run(params):
        runs.append(params)
        return [hit if f.folder in good[params["p"]] else np.zeros(1000) for f in files]

    res = lofo("demo", files, run, grid_points({"p": (0, 1)}))
    assert runs == [{"p": 0}, {"p": 1}]  # each grid point runs once
    chosen = {r.folder: r.params["p"] for r in res.folds if r.profile == "standard"}
    # Held out, folder a would score 100 with p=0, but the choice is made on b and c: p=1.
    assert chosen == {"a": 1, "b": 1, "c": 1}
    held = {r.folder: r.normalised for r in res.folds if r.profile == "standard"}
    assert held == {"a": pytest.approx(0.0), "b": pytest.approx(100.0), "c": pytest.approx(100.0)}
    # pooled: raw -1 + 2 + 2 over 5 windows -> 100 * (3 + 5) / 10
    assert res.pooled["standard"] == pytest.approx(80.0)
    assert res.in_sample[0]["standard"] == pytest.approx(20.0)  # p=0 in sample: 1 of 5 windows
    # Out of sample p=0 never gets a threshold that detects anything where it matters.
    assert res.out_of_sample[0]["standard"] == pytest.approx(0.0)
    assert res.out_of_sample[1]["standard"] == pytest.approx(80.0)
    assert res.recommended == {"p": 1}


def test_lofo_reports_a_folder_without_windows_by_its_raw_cost():
    from alerts.nab_lofo import lofo

    files = [tiny(folder="a", name="a1.csv"), tiny(folder="z", name="z1.csv", windows=())]
    s = detections(1000, [500, 800])  # a hit, and a false positive far after the window

    res = lofo("demo", files + [tiny(folder="b", name="b1.csv")], lambda p: [s, s, s], [{}])
    z = next(r for r in res.folds if r.folder == "z" and r.profile == "standard")
    assert math.isnan(z.normalised) and z.fp == 2 and z.raw == pytest.approx(-0.22)


def test_cli_rejects_a_lofo_detector_without_a_grid(tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(_cli(), ["evaluate", "nab", "--lofo", "hst", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "no LOFO grid" in result.output


@needs_nab
def test_cli_lofo_writes_the_table_into_the_report(tmp_path):
    import json

    from typer.testing import CliRunner

    args = ["evaluate", "nab", "--detectors", "likelihood", "--lofo", "likelihood", "--limit-files", "7"]
    args += ["--folders", "artificialNoAnomaly,realTraffic", "--out", str(tmp_path), "--data", str(NAB_ROOT)]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Leave-one-folder-out: `likelihood`" in report and "| realTraffic |" in report
    assert "| ARTime (published) | all 58 | 74.9 | 65.1 | 80.4 |" in report
    data = json.loads((tmp_path / "lofo_likelihood.json").read_text())
    assert len(data["points"]) == 8 and {f["folder"] for f in data["folds"]} == {
        "artificialNoAnomaly",
        "realTraffic",
    }
    assert (tmp_path / "plots" / "lofo_likelihood.png").stat().st_size > 1000


def test_a_window_inside_the_probationary_period_is_neither_rewarded_nor_charged():
    # NAB names every probationary row "probationary", so such a window never enters its score.
    f = tiny(windows=((50, 99), (500, 599)))  # probation = 150 rows
    assert f.scored_windows == ((500, 599),)
    assert nab.null_score([f], nab.STANDARD) == -1.0 and nab.perfect_score([f], nab.STANDARD) == 1.0
    res = nab.score_at([f], [detections(1000, [500])], nab.STANDARD, 0.5)
    assert (res.score, res.tp, res.fn) == (pytest.approx(1.0), 1, 0)
    assert nab.optimise_threshold([f], [detections(1000, [500])], nab.STANDARD).score == pytest.approx(1.0)
    # ... but its end still discounts a false positive shortly after it, as in NAB's sweeper
    near = nab.score_at([f], [detections(1000, [500, 160])], nab.STANDARD, 0.5).score
    assert near == pytest.approx(1.0 + 0.11 * nab.scaled_sigmoid(abs(99 - 160) / 49))
