"""The ``ioc`` command: start the system, run a consumer, migrate, inspect; stages add their own commands."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from ioc.settings import Settings

app = typer.Typer(help="Hải Phòng IOC — Trung tâm giám sát, điều hành đô thị thông minh.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

# Each stage registers its own commands: module -> register(app).
COMMAND_MODULES = (
    "simulators.cli",
    "alerts.cli_aqi",
    "alerts.cli_evaluate",
    "alerts.cli_engine",
    "geodata.cli",
    "geodata.cli_overlays",
    "ioc.tickets.cli_classifier",
    "ioc.tickets.cli",
    "ioc.kpi.cli",
    "ioc.kpi.cli_report",
    "ioc.directives.cli",
    "ioc.cli_users",
    "ioc.cli_audit",
    "ioc.db_roles",
)


@app.command()
def up(
    data_dir: Annotated[Path | None, typer.Option(help="Where the embedded PostgreSQL keeps its data.")] = None,
    web_port: Annotated[int | None, typer.Option(help="Port of the web dashboard.")] = None,
    scenario: Annotated[str, typer.Option(help="Simulator scenario to run live.")] = "normal_day",
    speed: Annotated[float, typer.Option(
        help="Simulated seconds per real second. 1 (default): live, events carry the time they describe;"
             " more is a demo-only time-lapse stamped with the wall clock.")] = 1.0,
    simulate: Annotated[bool, typer.Option(help="Run the city simulator.")] = True,
    alerts: Annotated[bool, typer.Option(help="Run the alert engine.")] = True,
) -> None:
    """Start everything on loopback: PostgreSQL, the broker, consumers, alert engine, web and simulator.

    Every part is supervised: restarted with backoff when it exits, marked failed on /healthz when it
    keeps failing. With IOC_DATABASE_URL / IOC_KAFKA_BOOTSTRAP set, those services are used and none
    is started. Ctrl-C, SIGTERM or SIGHUP stop everything cleanly (a second one stops at once).
    """
    import os

    from ioc.launcher import AlreadyRunning, Stack

    _logging()
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if web_port is not None:
        overrides["web_port"] = web_port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    stack = Stack(settings)
    stop = threading.Event()
    told = [0]

    def on_signal(signum: int, _frame: object) -> None:
        told[0] += 1
        if told[0] > 1:  # a second request: stop now, no orphans (children die with us too)
            stack.supervisor.stop_all(order=["broker", "postgres"], sig=signal.SIGKILL)
            os._exit(128 + signum)
        stop.set()

    # Installed explicitly: whatever the parent ignored (nohup, setsid, a service manager) is overridden.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        stack.lock()
    except AlreadyRunning as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    with stack:
        s = stack.settings
        stack.start_consumers()
        stack.start_downstream(alerts=alerts)
        if simulate:
            stack.start_simulator(scenario, speed)
        typer.echo(f"IOC running. Web: {stack.web_url}  Kafka: {s.kafka_bootstrap}")
        typer.echo(f"Logs: {stack.log_dir}. Health: {stack.web_url}healthz or `ioc status`. Ctrl-C to stop.")
        if stack.initial_admin_file is not None:
            typer.echo(f"First start: log in as 'admin' with the password in {stack.initial_admin_file}, "
                       "then add real accounts with `ioc user add NAME --role ROLE`.")
        stack.supervise(stop)
    typer.echo("stopped")


@app.command()
def status(
    lang: Annotated[str, typer.Option(help="vi (Tiếng Việt) or en.")] = "vi",
    json_out: Annotated[bool, typer.Option("--json", help="Print the /healthz JSON.")] = False,
    component: Annotated[
        str | None, typer.Option(help="Judge one component only (container health checks): exit 1 when down.")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Judge one source's feed only: exit 1 when it is silent (or never seen).")
    ] = None,
) -> None:
    """Health of every component and source (the same report as /healthz); exit 1 when down."""
    import json

    import psycopg

    from ioc import health
    from ioc.i18n import t as t_
    from ioc.settings import running_settings

    s = running_settings()
    try:
        with psycopg.connect(s.database_dsn(), connect_timeout=3) as conn:
            rep = health.report(conn, s)
    except (psycopg.Error, RuntimeError) as exc:
        rep = health.unreachable(s, type(exc).__name__)
    if source is not None:
        feed = next((f for f in rep.sources if f.kind == source), None)
        state = feed.feed if feed else "never"
        typer.echo(f"{source}: {state}")
        raise typer.Exit(0 if state in ("live", "late") else 1)
    if component is not None:
        found = next((c for c in rep.components if c.name == component), None)
        if found is None:
            typer.echo(f"{component}: {t_('health.never_seen', lang)}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{found.name}: {found.status} ({found.why})")
        raise typer.Exit(0 if found.status != "down" else 1)
    if json_out:
        typer.echo(json.dumps(rep.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(health_text(rep, "en" if lang == "en" else "vi"))
    raise typer.Exit(0 if rep.status != "down" else 1)


def health_text(rep, lang: str) -> str:  # type: ignore[no-untyped-def]
    """The health report as lines for a terminal, Vietnamese or English, times in Vietnam time."""
    from ioc.i18n import t
    from ioc.sources import source_name

    def when(x):  # type: ignore[no-untyped-def]
        from ioc.i18n import cli_time

        return cli_time(x, seconds=True)

    def age(x: float | None) -> str:
        return "—" if x is None else f"{x:,.0f} s"

    names = [c.name for c in rep.components] + [source_name(f.kind, lang) for f in rep.sources]
    w = max([24, *(len(n) + 2 for n in names)])  # long source names ("Hồ sơ thủ tục hành chính") keep the columns
    lines = [f"{t('health.overall', lang)}: {t('health.' + rep.status, lang)}   ({when(rep.at)})", ""]
    lines.append(f"{t('health.component', lang):<{w}}{t('health.status', lang):<14}{t('health.restarts', lang):>10}"
                 f"  {t('health.why', lang)}")
    for c in rep.components:
        lag = c.detail.get("lag") if c.detail else None
        extra = f"; lag {lag}" if lag is not None else ""
        lines.append(f"{c.name:<{w}}{t('health.' + c.status, lang):<14}{c.restarts:>10}  {c.why}{extra}")
    if rep.sources:
        lines += ["", f"{t('health.source', lang):<{w}}{t('health.feed', lang):<14}{t('health.age', lang):>10}"
                      f"  {t('health.newest', lang)}"]
        for f in rep.sources:
            lines.append(f"{source_name(f.kind, lang):<{w}}{t('feedhealth.' + f.feed, lang):<14}{age(f.age_s):>10}"
                         f"  {when(f.newest_event_time)}")
    return "\n".join(lines)


@app.command()
def stream(kind: Annotated[str, typer.Option(help="camera | traffic | air | feedback")]) -> None:
    """Run one sink consumer in the foreground (as ``ioc up`` does for each source)."""
    import sys

    from streams.__main__ import main as stream_main

    sys.argv = ["streams", "--kind", kind]
    stream_main()


@app.command("live-sim", hidden=True)
def live_sim(scenario: str = "normal_day", speed: float = 1.0) -> None:
    """Publish the simulated city continuously from now on (``ioc up`` runs this as a child).

    On the first start it backfills ``IOC_DEMO_BACKFILL_HOURS`` of the city first (0: none)."""
    from simulators.live import run_live

    _logging()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    s = Settings()  # the launcher passes IOC_* variables
    run_live(s, scenario=scenario, speed=speed, stop=stop, backfill_hours=s.demo_backfill_hours,
             dossier_days=s.demo_dossier_days, warning_history=s.demo_warning_history,
             demo_schedule=s.demo_schedule or None)


@app.command()
def stats() -> None:
    """Per-source counters: accepted, rejected, late, age of the newest event; dead letters by reason."""
    from ioc import db
    from ioc.settings import running_settings
    from streams.stats import deadletter_reasons, ingest_stats

    with db.connect(running_settings().database_dsn()) as conn:
        typer.echo(f"{'source':<10}{'accepted':>12}{'rejected':>10}{'late':>8}{'newest age':>14}")
        for st in ingest_stats(conn):
            age = "—" if st.newest_age_seconds is None else f"{st.newest_age_seconds:,.0f} s"
            typer.echo(f"{st.kind:<10}{st.accepted:>12,}{st.rejected:>10,}{st.late:>8,}{age:>14}")
        for kind, reason, n in deadletter_reasons(conn):
            typer.echo(f"  dead letter {kind}/{reason}: {n}")


@app.command()
def init() -> None:
    """Prepare external services: schema migrations, Kafka topics and the site registry."""
    from ioc.launcher import Stack

    _logging()
    settings = Settings()
    if settings.database_url is None or settings.kafka_bootstrap is None:
        raise typer.BadParameter("set IOC_DATABASE_URL and IOC_KAFKA_BOOTSTRAP (ioc up prepares the embedded ones)")
    Stack(settings).prepare()
    typer.echo("schema, topics and sources ready")


@db_app.command("migrate")
def migrate() -> None:
    """Apply pending schema migrations to IOC_DATABASE_URL."""
    from ioc import db

    applied = db.migrate(Settings().database_dsn())
    typer.echo("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def _register_stage_commands() -> None:
    for module in COMMAND_MODULES:
        if not _has_module(module):
            continue
        importlib.import_module(module).register(app)


_register_stage_commands()


def main() -> None:
    app()



if __name__ == "__main__":
    main()

