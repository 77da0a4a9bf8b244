"""One check suite run on every registered detector (river's idea), plus detector-specific checks."""

from __future__ import annotations

import doctest
import json
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

import alerts.detectors.dedup
import alerts.detectors.hst
import alerts.detectors.iforest
import alerts.detectors.likelihood
import alerts.detectors.resonance
import alerts.detectors.seasonal
from alerts.detectors import REGISTRY, Detector, make_detector
from alerts.detectors.iforest import _Compiled

NAB_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"
T0 = datetime(2026, 1, 5, 0, 0)  # a Monday, local time


def cases() -> Iterator[tuple[str, dict]]:
    for name, cls in sorted(REGISTRY.items()):
        for params in cls._test_params():
            yield name, params


CASES = list(cases())
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


def traffic_stream(n: int = 900, seed: int = 0) -> list[tuple[datetime, dict[str, float]]]:
    """Five-minute speed/volume with a daily shape, noise and one jam from row 700 to 720."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        t = T0 + timedelta(minutes=5 * i)
        day = math.sin(2 * math.pi * (t.hour * 60 + t.minute) / 1440)
        speed = 40 + 8 * day + rnd.gauss(0, 2)
        volume = 600 - 150 * day + rnd.gauss(0, 25)
        if 700 <= i < 720:
            speed, volume = 9 + rnd.gauss(0, 1), 180 + rnd.gauss(0, 10)
        out.append((t, {"speed": speed, "volume": volume}))
    return out


def event_auc(scores: np.ndarray, windows: list[tuple[int, int]], start: int) -> float:
    """ROC AUC with each labelled window counted once, by its highest score, against every normal row.

    Alerting detectors de-duplicate (one alarm per incident), so rows after the first inside an
    incident are not expected to score high; the claim checked is that incidents outrank normal rows.
    """
    inside = np.zeros(len(scores), dtype=bool)
    for a, b in windows:
        inside[a : b + 1] = True
    normal = scores[start:][~inside[start:]]
    peaks = np.array([scores[a : b + 1].max() for a, b in windows])
    labels = np.concatenate([np.zeros(len(normal)), np.ones(len(peaks))])
    return float(roc_auc_score(labels, np.concatenate([normal, peaks])))


def run(det: Detector, stream) -> list[float]:
    scores = []
    for t, x in stream:
        scores.append(det.score_one(x, t=t))
        det.learn_one(x, t=t)
    return scores


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_scores_are_floats_in_unit_interval(name, params):
    scores = run(make_detector(name, seed=1, **params), traffic_stream(400))
    assert all(type(s) is float for s in scores)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(set(scores)) > 10, "a detector that always says the same thing is no detector"


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_same_seed_same_scores(name, params):
    stream = traffic_stream(500)
    assert run(make_detector(name, seed=7, **params), stream) == run(
        make_detector(name, seed=7, **params), stream
    )


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_state_restore_gives_identical_subsequent_scores(name, params):
    stream = traffic_stream(800)
    det = make_detector(name, seed=3, **params)
    run(det, stream[:450])
    restored = type(det).from_state(det.state())
    assert run(restored, stream[450:]) == run(det, stream[450:])


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_state_is_plain_data_that_survives_json(name, params):
    stream = traffic_stream(800)
    det = make_detector(name, seed=3, **params)
    run(det, stream[:450])
    text = json.dumps(det.state(), allow_nan=False)  # only JSON types: no pickle, no objects, no inf
    assert "pickle" not in text
    restored = type(det).from_state(json.loads(text))
    assert run(restored, stream[450:]) == run(det, stream[450:])
    # state taken between score_one and learn_one resumes identically too
    t, x = stream[450]
    a = make_detector(name, seed=3, **params)
    run(a, stream[:450])
    a.score_one(x, t=t)
    b = type(a).from_state(json.loads(json.dumps(a.state())))
    assert run(b, stream[450:]) == run(a, stream[450:])


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_state_of_another_detector_or_version_is_refused(name, params):
    det = make_detector(name, seed=0, **params)
    other = next(n for n in sorted(REGISTRY) if n != name)
    with pytest.raises(ValueError, match="not a"):
        type(det).from_state(make_detector(other).state())
    with pytest.raises(ValueError, match="version"):
        type(det).from_state({**det.state(), "version": 99})
    with pytest.raises(ValueError, match="not a"):
        type(det).from_state(b"\x80\x04K\x01.")  # a pickle is not accepted


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_scores_are_causal_future_values_do_not_change_past_scores(name, params):
    stream = traffic_stream(600)
    changed = stream[:400] + [(t, {k: v * 3 + 50 for k, v in x.items()}) for t, x in stream[400:]]
    assert (
        run(make_detector(name, seed=4, **params), stream)[:400]
        == run(make_detector(name, seed=4, **params), changed)[:400]
    )


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_clone_is_untrained_with_same_parameters(name, params):
    stream = traffic_stream(500)
    det = make_detector(name, seed=2, **params)
    run(det, stream)
    assert run(det.clone(), stream) == run(make_detector(name, seed=2, **params), stream)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_planted_jam_ranks_above_normal_traffic(name, params):
    scores = np.array(run(make_detector(name, seed=0, **params), traffic_stream()))
    assert event_auc(scores, [(700, 719)], start=300) > 0.95


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_explanation_names_the_feature_in_both_languages(name, params):
    stream = traffic_stream()
    det = make_detector(name, seed=0, **params)
    run(det, stream[:700])
    t, x = stream[700]
    en, vi = det.explain(x, t=t), det.explain(x, t=t, lang="vi")
    assert isinstance(en, str) and isinstance(vi, str) and en != vi
    with pytest.raises(ValueError, match="lang"):
        det.explain(x, t=t, lang="fr")


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_bad_input_is_rejected_naming_the_value(name, params):
    det = make_detector(name, seed=0, **params)
    with pytest.raises(ValueError, match="'speed'.*nan"):
        det.score_one({"speed": math.nan}, t=T0)
    with pytest.raises(ValueError, match="non-empty mapping"):
        det.learn_one({}, t=T0)


def test_registered_names_have_no_underscore_and_old_names_still_work():
    from alerts.detectors import ALIASES

    assert all("_" not in n for n in REGISTRY)  # NAB cuts detector names at the first underscore
    for old, new in ALIASES.items():
        assert type(make_detector(old)) is REGISTRY[new]


def test_unknown_detector_and_bad_seed():
    with pytest.raises(ValueError, match="unknown detector 'nope'"):
        make_detector("nope")
    with pytest.raises(TypeError, match="seed must be an int"):
        make_detector("seasonal", seed="1")  # type: ignore[arg-type]


@pytest.mark.skipif(
    not (NAB_ROOT / "labels" / "combined_windows.json").is_file(),
    reason=f"NAB corpus absent: {NAB_ROOT} (shared read-only data)",
)
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_roc_auc_above_chance_on_nab_real_traffic(name):
    from alerts import nab
    from alerts.evaluate_nab import run_file

    # Two labelled realTraffic series (the fastest ones); one default parameter set for both.
    files = nab.load_corpus(NAB_ROOT, folders=["realTraffic"])
    picks = [f for f in files if f.name in ("occupancy_6005.csv", "speed_7578.csv")]
    aucs = [event_auc(run_file(name, f, seed=0), list(f.windows), start=f.probation) for f in picks]
    assert np.mean(aucs) > 0.5


# --------------------------------------------------------------------------- detector-specific


def test_seasonal_needs_time_and_falls_back_while_sparse():
    det = make_detector("seasonal")
    with pytest.raises(ValueError, match="needs t="):
        det.learn_one({"speed": 40.0})
    for i in range(10):  # Monday 08:xx only
        det.learn_one({"speed": 40.0 + i % 3}, t=T0 + timedelta(hours=8, minutes=i))
    # Ten values from one week: a first-week incident must not become its own baseline.
    assert det.baseline("speed", T0 + timedelta(hours=8)).level == "day"
    for i in range(10):  # the next Monday 08:xx
        det.learn_one({"speed": 40.0 + i % 3}, t=T0 + timedelta(weeks=1, hours=8, minutes=i))
    assert det.baseline("speed", T0 + timedelta(hours=8)).level == "week"
    assert det.baseline("speed", T0 + timedelta(days=1, hours=8)).level == "day"
    assert det.baseline("speed", T0 + timedelta(days=1, hours=17)).level == "all"
    assert det.baseline("volume", T0) is None


def test_seasonal_explanation_reads_like_an_operator_sentence():
    det = make_detector("seasonal")
    for week in range(4):
        for k, v in enumerate((40.0, 44.0, 42.0, 38.0, 46.0)):
            det.learn_one({"speed": v}, t=T0 + timedelta(weeks=week, hours=8, minutes=5 * k))
    t = T0 + timedelta(weeks=4, hours=8)
    assert det.explain({"speed": 18.0}, t=t) == "speed 18 km/h, usual for Monday 08:00 is 42 ± 3"
    assert (
        det.explain({"speed": 18.0}, t=t, lang="vi")
        == "tốc độ 18 km/h, mức thường lệ vào Thứ Hai 08:00 là 42 ± 3"
    )


def test_compiled_forest_equals_sklearn_score_samples():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    X[:4] *= 6
    forest = IsolationForest(n_estimators=40, random_state=5).fit(X)
    compiled = _Compiled(forest)
    ours = np.array([compiled.score(x) for x in X])
    np.testing.assert_allclose(ours, -forest.score_samples(X), rtol=0, atol=1e-12)


def test_iforest_protective_filter_keeps_incident_out_of_window():
    stream = traffic_stream()
    guarded = make_detector("iforest", seed=0, window=1024, refit_every=128, n_estimators=24, protect=0.6)
    open_ = make_detector("iforest", seed=0, window=1024, refit_every=128, n_estimators=24, protect=1.0)
    run(guarded, stream[:720])
    run(open_, stream[:720])
    jam_rows = lambda det: sum(v[0] < 20 for v in det._buf)  # noqa: E731  (column 0 is speed)
    assert jam_rows(guarded) < jam_rows(open_) == 20


def test_likelihood_refractory_gives_one_alarm_per_incident():
    stream = traffic_stream()
    plain = run(make_detector("likelihood", refractory=0, damping=1.0), stream)
    damped = run(make_detector("likelihood"), stream)
    alarms = lambda s: sum(v >= 0.2 for v in s[700:720])  # noqa: E731
    assert alarms(plain) > 10
    assert alarms(damped) == 1 and damped[700] == plain[700] >= 0.5


def test_resonance_gates_a_spike_whose_shape_recurs_but_not_a_new_one():
    # A daily spike of the same height at the same phase: after the first, its shape is known.
    def scores(gate: float) -> list[float]:
        det = make_detector("resonance", refractory=0, gate=gate)
        out = []
        for i in range(3000):
            v = 10.0 + math.sin(2 * math.pi * i / 288) + (6.0 if i % 288 == 100 else 0.0)
            v += 15.0 if i == 2800 else 0.0  # a jump never seen before
            out.append(det.score_one({"value": v}))
            det.learn_one({"value": v})
        return out

    gated, plain = scores(0.5), scores(1.0)
    for k in range(2, 10):
        i = k * 288 + 100
        assert plain[i] > 0.5 > gated[i] == pytest.approx(0.5 * plain[i])
    assert gated[2800] == plain[2800] >= 0.99


def test_resonance_warmup_and_refractory():
    det = make_detector("resonance", warmup=300)
    scores = run(det, traffic_stream())
    assert max(scores[:300]) == 0.0
    jam = scores[700:720]
    assert jam[0] >= 0.5 and max(jam[1:]) == 0.0  # one alarm per incident
    plain = run(make_detector("resonance", warmup=300, refractory=0, damping=1.0), traffic_stream())
    assert sum(v >= 0.5 for v in plain[700:720]) > 1


def test_resonance_context_signal_flags_a_shape_never_seen():
    # A square wave that suddenly stays mid-level (NAB's "flatmiddle" kind): values stay in range,
    # so only the context signal can see it.
    det = make_detector("resonance")
    scores = []
    for i in range(4000):
        v = 0.0 if (i // 50) % 2 else 10.0
        if 3000 <= i < 3300:
            v = 5.0
        scores.append(det.score_one({"value": v}))
        det.learn_one({"value": v})
    assert max(scores[3000:3300]) >= 0.5
    assert max(scores[1000:3000]) < 0.25  # well under the alarm level (0.5)
    assert det.explain({"value": 5.0}).endswith(")")


@pytest.mark.parametrize(
    "module",
    [
        alerts.detectors.seasonal,
        alerts.detectors.iforest,
        alerts.detectors.hst,
        alerts.detectors.likelihood,
        alerts.detectors.resonance,
        alerts.detectors.dedup,
    ],
)
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


def test_resonance_defaults_are_a_point_of_the_declared_lofo_grid():
    # The defaults are the grid point that scored best out of sample (python -m alerts.nab_lofo).
    from alerts.nab_lofo import GRIDS, grid_points

    params = make_detector("resonance")._params()
    points = grid_points(GRIDS["resonance"])
    assert any(
        all(params[k] == (list(v) if isinstance(v, tuple) else v) for k, v in p.items()) for p in points
    )
