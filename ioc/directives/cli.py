"""``ioc directives …`` and ``ioc tasks …``: on-time figures, the worker, members and channels, imports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ioc.db import connect
from ioc.settings import running_settings

directives_app = typer.Typer(help="Directives (chỉ đạo) to departments, communes, the police and the IOC.",
                             no_args_is_help=True)  # fmt: skip
tasks_app = typer.Typer(help="The task tracker (6 rõ).", no_args_is_help=True)


def _dsn() -> str:
    try:
        return running_settings().database_dsn()
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


@directives_app.command("stats")
def stats(period: Annotated[str, typer.Option(help="2026-Q3, 2026-07 or 2026")]) -> None:
    """On-time completion per recipient in the period (due, on time, late, open overdue, rate)."""
    from ioc.directives.stats import on_time_kpi, parse_period

    try:
        p = parse_period(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None
    with connect(_dsn()) as conn:
        kpi = on_time_kpi(conn, p, datetime.now(UTC))
    typer.echo(f"{'đơn vị':<44}{'giao':>6}{'đến hạn':>9}{'đúng hạn':>10}{'trễ':>6}{'quá hạn':>9}{'tỷ lệ':>8}")
    for r in kpi.ranking:
        rate = "—" if r.rate is None else f"{100 * r.rate:.1f}%"
        typer.echo(f"{r.recipient_name[:43]:<44}{r.assigned:>6}{r.due:>9}{r.on_time:>10}{r.late:>6}"
                   f"{r.open_overdue:>9}{rate:>8}")  # fmt: skip
    value = "—" if kpi.value_percent is None else f"{kpi.value_percent:.1f}%"
    typer.echo(f"{kpi.kpi_id} {kpi.period}: {value} ({kpi.numerator}/{kpi.denominator})")


@directives_app.command("worker")
def worker() -> None:
    """Run the delivery and escalation worker in the foreground (same as python -m ioc.directives.worker)."""
    from ioc.directives.worker import main

    raise typer.Exit(code=main())


@directives_app.command("member")
def member(
    username: str,
    recipient: Annotated[str, typer.Argument(help="Recipient code, e.g. XA-10507, SKHCN, CATP, IOC")],
    head: Annotated[bool, typer.Option(help="The recipient's head (escalation level 1).")] = False,
) -> None:
    """Let a user act for a recipient (its inbox, its scope)."""
    from ioc.directives.recipients import add_member

    with connect(_dsn(), autocommit=True) as conn:
        add_member(conn, username, recipient, head=head)
    typer.echo(f"{username} acts for {recipient}{' (head)' if head else ''}")


@directives_app.command("channel")
def channel(
    recipient: str,
    kind: Annotated[str, typer.Argument(help="email or webhook")],
    address: str,
    head: Annotated[bool, typer.Option(help="For the recipient's head (escalations).")] = False,
    secret_env: Annotated[str | None, typer.Option(help="Environment variable with this webhook's HMAC key.")] = None,
) -> None:
    """Reach a recipient beyond the app."""
    from ioc.directives.store import add_channel

    with connect(_dsn(), autocommit=True) as conn:
        add_channel(conn, recipient, kind, address, audience="head" if head else "staff", secret_env=secret_env)
    typer.echo(f"{recipient}: {kind} {address}")


@directives_app.command("recipients")
def recipients() -> None:
    """Every recipient code and name (departments, communes of the boundary set in force, police, IOC)."""
    from ioc.directives.recipients import registry

    reg = registry()
    for r in reg.recipients:
        typer.echo(f"{r.code:<12}{r.kind.value:<16}{r.name_vi}")
    typer.echo(f"{len(reg.recipients)} recipients (boundary set {reg.boundary_set_id})")


@tasks_app.command("import-kh40")
def import_kh40_cmd(
    documents: Annotated[Path | None, typer.Option(help="The documents folder (default: shared data).")] = None,
) -> None:
    """Parse the KH 40/KH-UBND 2023 appendix from the document and store its tasks."""
    from ioc.directives.tasks import import_kh40

    folder = documents or running_settings().shared_data_dir / "documents"
    with connect(_dsn(), autocommit=True) as conn:
        n = import_kh40(conn, folder, "cli", "admin", datetime.now(UTC))
    typer.echo(f"{n} tasks imported from {folder}")


@tasks_app.command("import-xlsx")
def import_xlsx(path: Path, plan: Annotated[str, typer.Option(help="Plan code, e.g. KH-2027")]) -> None:
    """Import next year's tasks from a spreadsheet (stops at the first bad cell, naming row and column)."""
    from ioc.directives.tasks import upsert_tasks
    from ioc.directives.tasks_xlsx import XlsxRowError, read_tasks

    try:
        items = read_tasks(path.read_bytes(), plan_code=plan, source=path.name)
    except XlsxRowError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    with connect(_dsn(), autocommit=True) as conn:
        n = upsert_tasks(conn, items, "cli", "admin", datetime.now(UTC))
    typer.echo(f"{n} tasks imported from {path}")


@tasks_app.command("rollup")
def rollup(by: Annotated[str, typer.Option(help="unit or group")] = "group") -> None:
    """Tasks per lead agency or task group: total, done, overdue."""
    from ioc.directives.tasks import list_tasks, rollups

    with connect(_dsn()) as conn:
        rows = rollups(list_tasks(conn, datetime.now(UTC).date()), by)
    for r in rows:
        typer.echo(f"{r.name[:60]:<62}{r.total:>5}{r.done:>6}{r.overdue:>6}")


def register(app: typer.Typer) -> None:
    app.add_typer(directives_app, name="directives")
    app.add_typer(tasks_app, name="tasks")
