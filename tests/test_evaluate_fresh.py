"""Out-of-sample scenario evaluation: fresh seeds only, incidents drawn anew, intervals, report, CLI.

The drawing is checked on the real site registry; the runner on a cut-down day (the full run is
``ioc evaluate scenarios --seeds K``, minutes of CPU per seed).
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from alerts.evaluate_fresh import (
    ENGINES,
    FreshEvaluation,
    bootstrap_median,
    poisson_interval,
    run_fresh,
    wilson,
    write_fresh_report,
)
from simulators.scenario import IncidentClass, all_sites
from simulators.scenario_draw import DAY, DISTRIBUTIONS, TUNING_SEEDS, draw_day, fresh_seeds


def test_fresh_seeds_are_never_tuning_seeds() -> None:
    seeds = fresh_seeds(50)
    assert len(set(seeds)) == 50 and not TUNING_SEEDS.intersection(seeds)
    assert {7, 201, 210} <= TUNING_SEEDS
    with pytest.raises(ValueError):
        fresh_seeds(0)


def test_each_seed_draws_a_different_day_of_every_class() -> None:
    sites = all_sites()
    a, b, again = (
        draw_day(fresh_seeds(1)[0], sites),
        draw_day(fresh_seeds(2)[1], sites),
        draw_day(fresh_seeds(1)[0], sites),
    )
    assert a == again  # a pure function of the seed
    assert {i.cls for i in a.incidents} == {d.cls for d in DISTRIBUTIONS} >= {IncidentClass.CONGESTION,
                                                                              IncidentClass.PM25_EPISODE}  # fmt: skip
    assert [(i.place, i.start) for i in a.incidents] != [(i.place, i.start) for i in b.incidents]
    used = [s for i in a.incidents for s in i.sources]
    assert len(used) == len(set(used))  # no source shared by two incidents
    resolved = a.resolve(DAY, sites)  # every source is a registered site
    assert all(r.start < r.end <= DAY + timedelta(days=1) + timedelta(hours=6) for r in resolved)
    by_cls = {i.cls: i for i in a.incidents}
    congestion = by_cls[IncidentClass.CONGESTION]
    assert any(s.startswith("seg-") for s in congestion.sources)
    assert 6.5 <= congestion.start / timedelta(hours=1) <= 17.5


def test_intervals() -> None:
    lo, hi = wilson(19, 20)
    assert 0.75 < lo < 0.95 and hi == pytest.approx(0.991, abs=0.002)
    assert wilson(0, 0) == (0.0, 1.0)
    assert poisson_interval(0)[0] == 0.0 and poisson_interval(0)[1] == pytest.approx(3.689, abs=0.001)
    lo, hi = bootstrap_median([float(x) for x in range(1, 21)])
    assert lo <= 10.5 <= hi


@pytest.fixture(scope="module")
def short_run() -> FreshEvaluation:
    # No warm-up and two hours: checks the plumbing (two engines, matching, report), not the figures.
    return FreshEvaluation([run_fresh(fresh_seeds(1)[0], warmup=timedelta(0), duration=timedelta(hours=2))])


def test_two_engines_see_the_same_incidents(short_run: FreshEvaluation) -> None:
    run = short_run.runs[0]
    assert set(run.incidents) == set(ENGINES)
    ids = [[r.incident.id for r in run.incidents[e]] for e in ENGINES]
    assert ids[0] == ids[1]
    assert run.events > 1000 and run.sensors > 100
    assert short_run.false_alarm_rate() >= 0.0


def test_report_has_both_engines_and_intervals(short_run: FreshEvaluation, tmp_path: Path) -> None:
    path = write_fresh_report(short_run, tmp_path, cpu_seconds=1.0)
    text = path.read_text(encoding="utf-8")
    assert "recall, rules + anomaly [Wilson 95 %]" in text and "median lead, rules only" in text
    assert "per 100 sensors per day [" in text
    assert (tmp_path / "plots" / "fresh_recall.png").stat().st_size > 1000
    assert (tmp_path / "plots" / "fresh_leads.png").stat().st_size > 1000


def test_cli_seeds_k_runs_fresh_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alerts import evaluate_fresh
    from alerts.cli_engine import register

    real = evaluate_fresh.evaluate_fresh
    calls: list[int] = []

    def small(k: int, **kw: object) -> FreshEvaluation:  # the real runner, cut to keep CI fast
        calls.append(k)
        return real(k, jobs=1, progress=False, warmup=timedelta(0), duration=timedelta(minutes=20))

    monkeypatch.setattr(evaluate_fresh, "evaluate_fresh", small)
    app = typer.Typer()
    importlib.import_module("alerts.cli_evaluate").register(app)
    register(app)
    res = CliRunner().invoke(app, ["evaluate", "scenarios", "--seeds", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert calls == [1] and "false alarms per 100 sensors per day" in res.output
    assert (tmp_path / "FRESH.md").exists()
