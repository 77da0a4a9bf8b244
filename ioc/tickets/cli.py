"""``ioc tickets …``: leaders' numbers (and CSV), the intake loop, user scopes and Open311 keys."""

from __future__ import annotations

import csv as csv_mod
import io
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ioc.db import connect
from ioc.settings import running_settings
from ioc.tickets import stats as stats_mod

tickets_app = typer.Typer(help="Citizen-report tickets (phản ánh hiện trường).", no_args_is_help=True)
scope_app = typer.Typer(help="Limit agency and ward users to their own tickets.", no_args_is_help=True)
key_app = typer.Typer(help="API keys of Open311 (GeoReport v2) clients.", no_args_is_help=True)
tickets_app.add_typer(scope_app, name="scope")
tickets_app.add_typer(key_app, name="apikey")


def _dsn() -> str:
    try:
        return running_settings().database_dsn()
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date: {value!r}", param_hint=name) from None
    if d.tzinfo is None:
        from ioc.i18n import TZ

        d = d.replace(tzinfo=TZ)
    return d


@tickets_app.command("stats")
def stats(
    by: Annotated[str, typer.Option(help="total, category, agency, unit, day, week or month")] = "total",
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV (for a spreadsheet) instead of a table.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the CSV to this file.")] = None,
    since: Annotated[str | None, typer.Option(help="Received from this date (ISO, local time).")] = None,
    until: Annotated[str | None, typer.Option(help="Received before this date (ISO, local time).")] = None,
    lang: Annotated[str, typer.Option(help="Header language: vi or en.")] = "vi",
) -> None:
    """Received, answered, open, overdue, median time to answer, on time and agreeing."""
    if by not in stats_mod.BY_VALUES:
        raise typer.BadParameter(
            f"must be one of {', '.join(stats_mod.BY_VALUES)}, got {by!r}", param_hint="--by"
        )
    if lang not in ("vi", "en"):
        raise typer.BadParameter(f"must be 'vi' or 'en', got {lang!r}", param_hint="--lang")
    with connect(_dsn()) as conn:
        rows = stats_mod.ticket_stats(
            conn, by, now=datetime.now(UTC), since=_date(since, "--since"), until=_date(until, "--until")
        )
    if out is not None:
        with out.open("w", encoding="utf-8", newline="") as f:
            n = stats_mod.write_csv(rows, f, lang)
        typer.echo(f"{n} rows written to {out}")
        return
    if csv:
        stats_mod.write_csv(rows, sys.stdout, lang)
        return
    buf = io.StringIO()
    stats_mod.write_csv(rows, buf, lang)
    table = list(csv_mod.reader(io.StringIO(buf.getvalue())))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))] if table else []
    for r in table:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


@tickets_app.command("intake")
def intake(
    once: Annotated[bool, typer.Option(help="Process what is pending, then exit.")] = False,
) -> None:
    """Turn stored feedback events into tickets (classify, route, deadline, duplicates); Ctrl-C stops."""
    from ioc.tickets.intake import Intake, run_intake

    settings = running_settings()
    _dsn()
    if once:
        total = 0
        with connect(settings.database_dsn(), autocommit=True) as conn:
            intake_ = Intake.default()
            while (n := intake_.once(conn)) > 0:
                total += n
        typer.echo(f"{total} feedback events processed")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_intake(settings, stop)
    except KeyboardInterrupt:
        stop.set()


@tickets_app.command("retrain")
def retrain(
    out: Annotated[Path, typer.Option(help="Where to save the retrained model (joblib).")],
) -> None:
    """Retrain the category classifier with every category staff confirmed on a ticket."""
    from ioc.tickets.classifier import default_classifier
    from ioc.tickets.store import confirmed_labels

    with connect(_dsn()) as conn:
        labels = confirmed_labels(conn)
    if not labels:
        typer.echo("no confirmed categories yet: nothing to learn", err=True)
        raise typer.Exit(code=1)
    model = default_classifier(progress=True).retrain(labels, progress=True)
    model.save(out)
    typer.echo(
        f"retrained with {len(labels)} confirmed labels; saved to {out} (use: ioc classify --model {out})"
    )


@scope_app.command("add")
def scope_add(
    username: Annotated[str, typer.Argument(help="An existing dashboard user.")],
    scope_type: Annotated[str, typer.Argument(help="agency or ward")],
    code: Annotated[
        str, typer.Argument(help="Agency code (routing.yaml) or admin unit, e.g. 'Phường Lê Chân'.")
    ],
) -> None:
    """Limit a user to tickets owned by an agency or by a ward's People's Committee."""
    from ioc.tickets.store import add_scope

    try:
        with connect(_dsn(), autocommit=True) as conn:
            add_scope(conn, username, scope_type, code, actor="cli")
    except (ValueError, LookupError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"user {username!r} now sees tickets of {scope_type} {code!r}")


@key_app.command("add")
def apikey_add(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. 'hue-s-bridge'.")],
    role: Annotated[str, typer.Option(help="The key's role (ioc.access): triage creates requests, "
                                           "ward/department read their scope.")] = "triage",
    sector: Annotated[list[str] | None, typer.Option(help="Department (agency code) of a department key.")] = None,
    unit: Annotated[list[str] | None, typer.Option(help="Admin unit of a ward key (code or name).")] = None,
) -> None:
    """Create an Open311 API key bound to a role and scope; printed once, only its hash is stored."""
    from ioc.accounts import UserError, create_api_key

    try:
        with connect(_dsn(), autocommit=True) as conn:
            key = create_api_key(conn, name, role, sector or (), unit or ())
    except (UserError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(key)


def register(app: typer.Typer) -> None:
    """Add the ``tickets`` group to the ``ioc`` command."""
    app.add_typer(tickets_app, name="tickets")
