"""The early warnings' scenario evaluation at CI size: one unseen seed, shortened histories, every class
found, false alarms rare, grouped incidents fewer than alerts, the report and the CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from alerts.evaluate_scenarios import Evaluation, run_warning, write_report
from simulators.scenario import IncidentClass, load_scenario

SEED = 41  # not one of the tuning seeds (1–3)


@pytest.fixture(scope="module")
def small() -> Evaluation:
    runs = [
        run_warning(load_scenario("budget_fdi_drop"), SEED),  # three years of history, one scored year: seconds
        run_warning(load_scenario("flood_tide_rain"), SEED, history=timedelta(days=4)),
        run_warning(load_scenario("soc_alert_storm"), SEED, history=timedelta(days=10)),
        run_warning(load_scenario("public_order_disorder_cluster"), SEED, history=timedelta(days=16),
                    duration=timedelta(hours=30)),
    ]  # fmt: skip
    return Evaluation(runs)


def test_every_planted_class_is_found(small: Evaluation) -> None:
    recall = small.recall()
    for cls in (IncidentClass.REVENUE_DROP, IncidentClass.TIDE_RAIN_FLOOD, IncidentClass.SOC_ALERT_STORM,
                IncidentClass.DISORDER_CLUSTER):  # fmt: skip
        assert recall[cls] == (1, 1), cls
    by = {w.warning: w for w in small.warnings()}
    assert set(by) == {"budget", "flood", "soc", "public_order"}
    assert by["flood"].leads[0] > timedelta(0)  # the surge is seen before the spring high water
    assert by["budget"].leads[0] > -timedelta(days=45)  # a sudden drop, seen within weeks
    assert all(w.false_alarm_rate <= 1.0 for w in by.values())
    assert by["flood"].incidents_grouped < by["flood"].alerts  # five gauges and the rain: one incident
    for r in small.results:
        for a in r.alerts:
            assert a.rule_version and a.rule_version.startswith("1+"), a.rule_id


def test_report_and_cli(small: Evaluation, tmp_path: Path) -> None:
    text = write_report(small, tmp_path / "rep").read_text(encoding="utf-8")
    assert "## Early warnings" in text and "| flood | 41 | 1 | 1 | 100% |" in text
    assert "| soc-storm | 1+" in text
    from alerts.cli_engine import register
    from alerts.cli_evaluate import register as register_evaluate

    app = typer.Typer()
    register_evaluate(app)
    register(app)
    res = CliRunner().invoke(app, ["evaluate", "scenarios", "--out", str(tmp_path / "cli"), "-s", "soc_alert_storm",
                                   "--seeds", "41,42"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "soc: recall 2/2" in res.output and (tmp_path / "cli" / "REPORT.md").exists()
    bad = CliRunner().invoke(app, ["evaluate", "scenarios", "-s", "soc_alert_storm", "--seeds", "x-y"])
    assert bad.exit_code != 0 and "seeds" in bad.output
