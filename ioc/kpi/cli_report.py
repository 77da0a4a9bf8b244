"""``ioc report --period 2026-Q3 --format pdf|xlsx``: the standing office's periodic report, with a
progress bar on stderr (the same code as the button on ``/leader``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report_command(
    period: Annotated[str, typer.Option("--period", help="2026-11 (month), 2026-Q3, 2026-H2 (6 months) or 2026.")],
    fmt: Annotated[str, typer.Option("--format", help="pdf or xlsx.")] = "pdf",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: bao-cao-chi-so-<period>.<fmt>).")] = None,
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
) -> None:
    """Báo cáo định kỳ (tháng, quý, 6 tháng, năm) từ cơ sở dữ liệu. / Periodic report from the database."""
    from tqdm import tqdm

    from ioc.kpi.live import parse_period
    from ioc.kpi.report import STEPS, build_report
    from ioc.settings import running_settings

    try:
        parse_period(period)
    except ValueError as exc:
        typer.echo(f"lỗi / error: {exc}", err=True)
        raise typer.Exit(2) from None
    if fmt not in ("pdf", "xlsx") or lang not in ("vi", "en"):
        typer.echo("lỗi / error: --format must be pdf or xlsx, --lang vi or en", err=True)
        raise typer.Exit(2)
    with tqdm(total=STEPS, desc=f"report {period}", unit="step") as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        data, name = build_report(running_settings().database_dsn(), period, fmt, lang=lang, progress=step)
    target = out or Path(name)
    target.write_bytes(data)
    typer.echo(f"{target} ({len(data):,} bytes)")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
