"""Commands: ``ioc evaluate scenarios`` and ``ioc alerts list|ack|cap``."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ioc.settings import Settings


def _evaluate_app(app: typer.Typer) -> typer.Typer:
    """The ``evaluate`` sub-app of ``alerts.cli_evaluate`` when it exists, else a new one on ``app``."""
    try:
        module = importlib.import_module("alerts.cli_evaluate")
    except ImportError:
        module = None
    for value in vars(module).values() if module else ():
        if isinstance(value, typer.Typer) and value is not app:
            return value
    sub = typer.Typer(help="Measure the detectors and the alert engine.", no_args_is_help=True)
    app.add_typer(sub, name="evaluate")
    return sub


def _settings() -> Settings:
    from ioc.settings import running_settings

    return running_settings()


def register(app: typer.Typer) -> None:
    evaluate = _evaluate_app(app)
    alerts = typer.Typer(
        help="Cảnh báo — alerts: list, acknowledge, export as CAP 1.2.", no_args_is_help=True
    )
    app.add_typer(alerts, name="alerts")

    @evaluate.command("scenarios")
    def scenarios(
        out: Annotated[Path, typer.Option(help="Where REPORT.md and the plots go.")] = Path(
            "reports/scenarios"
        ),
        seed: Annotated[int, typer.Option(help="Simulator and model seed.")] = 7,
        scenario: Annotated[
            list[str] | None, typer.Option("--scenario", "-s", help="Only these scenarios (repeatable).")
        ] = None,
        duration: Annotated[str | None, typer.Option(help="Cut each scenario to this, e.g. 3h.")] = None,
        warmup: Annotated[str, typer.Option(help="Normal city replayed before each scenario.")] = "1d",
        jobs: Annotated[int, typer.Option(min=1, max=32, help="Scenarios run in parallel processes.")] = 1,
        seeds: Annotated[
            str | None,
            typer.Option(
                help="K (a number): K fresh seeds, each a day of incidents drawn anew, out of sample; "
                "or the shipped scenarios on several seeds, e.g. 101-110 or 1,2,3 (instead of --seed)."
            ),
        ] = None,
    ) -> None:
        """Run every simulator scenario through the alert engine and score it against the ground truth."""
        from alerts.evaluate_scenarios import evaluate, write_report
        from simulators.scenario import parse_duration, scenario_names

        if seeds is not None and seeds.strip().isdigit():
            _fresh(int(seeds), out, jobs, duration)
            return

        known = scenario_names()
        bad = [s for s in scenario or () if s not in known]
        if bad:
            raise typer.BadParameter(f"unknown scenarios {bad}; available: {', '.join(known)}")
        try:
            cut = parse_duration(duration) if duration else None
            warm = parse_duration(warmup)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        ev = evaluate(scenario or None, seed, duration=cut, warmup=warm, jobs=jobs, seeds=_seeds(seeds))
        path = write_report(ev, out)
        quiet = ev.quiet()
        typer.echo(f"recall {ev.overall_recall():.0%}; " + ", ".join(
            f"{c.value} {d}/{n}" for c, (d, n) in ev.recall().items()))  # fmt: skip
        if quiet:
            typer.echo(f"false alarms per 100 sensors per day (quiet): {ev.false_alarm_rate(quiet):.2f}")
        typer.echo(f"false alarms per 100 sensors per day (all runs): {ev.false_alarm_rate():.2f}")
        for w in ev.warnings():
            typer.echo(f"{w.warning}: recall {w.detected}/{w.planted}, false alarms {w.false_alarms} "
                       f"({w.false_alarm_rate:.3f} per 100 sensors per day), {w.alerts} alerts → "
                       f"{w.incidents_grouped} incidents")  # fmt: skip
        typer.echo(f"report: {path}")

    @alerts.command("list")
    def list_alerts(
        all_: Annotated[bool, typer.Option("--all", help="Include silenced alerts.")] = False,
        limit: Annotated[int, typer.Option(min=1, max=5000)] = 50,
        lang: Annotated[str, typer.Option(help="vi | en")] = "vi",
    ) -> None:
        """Open (unresolved) alerts, most recently changed first."""
        from alerts.store import list_open_alerts
        from geodata.names import humanise
        from ioc import db
        from ioc.i18n import cli_time

        with db.connect(_settings().database_dsn()) as conn:
            rows = list_open_alerts(conn, now=None if all_ else datetime.now(UTC), limit=limit)
        for a in rows:
            flag = "●" if a.active else "○"
            typer.echo(f"{a.alert_id}  {flag} {a.state.value:<12} {a.severity.value:<8} {a.alert_class.value:<15} "
                       f"{cli_time(a.updated_at)}  {humanise(a.title(lang), lang)}")  # fmt: skip
        if not rows:
            typer.echo("không có cảnh báo đang mở" if lang == "vi" else "no open alerts")

    @alerts.command("ack")
    def ack(
        alert_id: Annotated[str, typer.Argument(help="Alert id (UUID).")],
        comment: Annotated[str, typer.Option(help="Why / what is being done (required).")],
        user: Annotated[str, typer.Option(help="Who acknowledges.")] = "cli",
    ) -> None:
        """Acknowledge a new alert with a comment (written on its timeline and in the audit log)."""
        from alerts.model import InvalidTransition
        from alerts.store import transition
        from ioc import db
        from ioc.audit import audit

        aid = _uuid(alert_id)
        with db.connect(_settings().database_dsn()) as conn:
            try:
                alert = transition(conn, aid, lambda a: a.acknowledge(user, datetime.now(UTC), comment))
            except (InvalidTransition, ValueError, LookupError) as exc:
                raise typer.BadParameter(str(exc)) from exc
            audit(conn, user, "alert.acknowledge", str(aid), {"comment": comment})
            conn.commit()
        typer.echo(f"{alert.alert_id} {alert.state.value}")

    @alerts.command("cap")
    def cap(alert_id: Annotated[str, typer.Argument(help="Alert id (UUID).")]) -> None:
        """The alert as an OASIS CAP 1.2 message (XML on stdout)."""
        from alerts.cap import to_cap
        from alerts.store import get_alert
        from ioc import db

        aid = _uuid(alert_id)
        with db.connect(_settings().database_dsn()) as conn:
            alert = get_alert(conn, aid)
        if alert is None:
            raise typer.BadParameter(f"no alert {alert_id}")
        typer.echo(to_cap(alert).decode("utf-8"))


def _fresh(k: int, out: Path, jobs: int, duration: str | None) -> None:
    """``--seeds K``: K fresh seeds with drawn incidents, rules + anomaly beside the rules alone."""
    import time

    from alerts.evaluate_fresh import ENGINES, evaluate_fresh, wilson, write_fresh_report
    from simulators.scenario import parse_duration

    if k < 1:
        raise typer.BadParameter("--seeds K needs K >= 1")
    try:
        cut = parse_duration(duration) if duration else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    t0 = time.process_time()
    ev = evaluate_fresh(k, jobs=jobs, duration=cut)
    cpu = time.process_time() - t0 if jobs <= 1 else None
    path = write_fresh_report(ev, out, cpu)
    for c in ev.classes():
        lo, hi = wilson(c.detected.get(ENGINES[0], 0), c.planted)
        typer.echo(f"{c.cls.value}: recall {c.detected.get(ENGINES[0], 0)}/{c.planted} [{lo:.0%}, {hi:.0%}]")
    typer.echo(f"false alarms per 100 sensors per day: {ev.false_alarm_rate():.3f}")
    typer.echo(f"report: {path}")


def _seeds(value: str | None) -> list[int] | None:
    """``101-110`` or ``1,2,3`` (None: the single --seed)."""
    if not value:
        return None
    try:
        if "-" in value:
            a, b = (int(x) for x in value.split("-", 1))
            return list(range(a, b + 1))
        return [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"seeds {value!r}: use e.g. 101-110 or 1,2,3") from None


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"not an alert id (UUID): {value!r}") from None
