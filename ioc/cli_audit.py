"""``ioc audit …``: verify the tamper-evident audit chain, print its head, purge by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer

from ioc import audit
from ioc.db import connect
from ioc.settings import Settings, running_settings

audit_app = typer.Typer(help="The audit trail (hash chain): verify, head, purge.", no_args_is_help=True)


def _dsn() -> str:
    try:
        return running_settings(Settings()).database_dsn()
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


@audit_app.command("verify")
def verify(
    anchor: str | None = typer.Option(None, help="SEQ:HASH of a chain head written to the logs earlier"),
) -> None:
    """Recompute every hash; exit 1 naming the first broken row."""
    pinned: tuple[int, str] | None = None
    if anchor:
        seq, _, h = anchor.partition(":")
        if not seq.isdigit() or len(h) != 64:
            raise typer.BadParameter("expected SEQ:HASH (64 hex digits)", param_hint="--anchor")
        pinned = (int(seq), h)
    with connect(_dsn()) as conn:
        v = audit.verify(conn, anchor=pinned)
    if v.ok:
        typer.echo(f"audit chain OK: {v.checked} rows, head seq={v.head_seq} hash={v.head_hash}")
        return
    where = f"row id {v.broken_id}" if v.broken_id is not None else "the chain's head"
    typer.echo(f"audit chain BROKEN at {where}: {v.reason} (after {v.checked} rows)", err=True)
    raise typer.Exit(code=1)


@audit_app.command("head")
def head() -> None:
    """Print the chain head (SEQ:HASH), e.g. to keep with the city's security records."""
    with connect(_dsn()) as conn:
        seq, h = audit.head(conn)
    typer.echo(f"{seq}:{h}")


@audit_app.command("purge")
def purge(
    older_than_days: int | None = typer.Option(None, help="default: IOC_AUDIT_RETENTION_DAYS"),
) -> None:
    """Delete audit rows older than the retention (run with the migration role's database account)."""
    days = older_than_days if older_than_days is not None else Settings().audit_retention_days
    if days is None:
        typer.echo("no retention configured (IOC_AUDIT_RETENTION_DAYS): nothing purged")
        return
    if days < 30:
        raise typer.BadParameter("keep at least 30 days", param_hint="--older-than-days")
    with connect(_dsn()) as conn:
        n = audit.purge(conn, datetime.now(UTC) - timedelta(days=days))
    typer.echo(f"{n} audit rows older than {days} days purged; the chain stays verifiable from its anchor")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
