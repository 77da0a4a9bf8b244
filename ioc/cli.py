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
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 10.0,
    simulate: Annotated[bool, typer.Option(help="Run the city simulator.")] = True,
    alerts: Annotated[bool, typer.Option(help="Run the alert engine.")] = True,
) -> None:
    """Start everything on loopback: PostgreSQL, the broker, consumers, alert engine, web and simulator.

    With IOC_DATABASE_URL / IOC_KAFKA_BOOTSTRAP set, those services are used and none is started.
    Ctrl-C stops everything cleanly.
    """
    from ioc.launcher import Stack
    from ioc.sources import SourceKind

    _logging()
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if web_port is not None:
        overrides["web_port"] = web_port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = Stack(settings)
    try:
        with stack:
            s = stack.settings
            stack.start_consumers()
            stack.start_downstream(alerts=alerts)
            if simulate:
                stack.spawn("simulator", ["-m", "ioc.cli", "live-sim", "--scenario", scenario, "--speed", str(speed)])
            typer.echo(f"IOC running. Web: http://{s.web_host}:{s.web_port}/  Kafka: {s.kafka_bootstrap}")
            typer.echo(f"Logs: {stack.log_dir}. Ctrl-C to stop.")
            if stack.initial_admin_file is not None:
                typer.echo(f"First start: log in as 'admin' with the password in {stack.initial_admin_file}, "
                           "then add real accounts with `ioc user add NAME --role ROLE`.")
            while not stop.is_set():
                for name, proc in list(stack.children.items()):
                    if proc.poll() is not None:
                        typer.echo(f"{name} exited with {proc.returncode}; see {stack.log_dir}/{name}.log", err=True)
                        if name.startswith("stream-"):
                            stack.children.pop(name)
                            stack.start_consumer(SourceKind(name.removeprefix("stream-")))
                        else:
                            stack.children.pop(name)
                stop.wait(2.0)
    except KeyboardInterrupt:
        pass
    typer.echo("stopped")


@app.command()
def stream(kind: Annotated[str, typer.Option(help="camera | traffic | air | feedback")]) -> None:
    """Run one sink consumer in the foreground (as ``ioc up`` does for each source)."""
    import sys

    from streams.__main__ import main as stream_main

    sys.argv = ["streams", "--kind", kind]
    stream_main()


@app.command("live-sim", hidden=True)
def live_sim(scenario: str = "normal_day", speed: float = 10.0) -> None:
    """Publish the simulated city continuously from now on (``ioc up`` runs this as a child)."""
    from simulators.live import run_live

    _logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_live(Settings(), scenario=scenario, speed=speed, stop=stop)  # the launcher passes IOC_* variables


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
