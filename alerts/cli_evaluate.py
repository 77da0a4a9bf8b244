"""``ioc evaluate …``: measured quality of the alert models. This module adds the ``nab`` command.

Other evaluations (e.g. ``scenarios``) add their commands to the same :data:`evaluate_app`::

    from alerts.cli_evaluate import evaluate_app

    @evaluate_app.command("scenarios")
    def scenarios(...): ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

evaluate_app = typer.Typer(help="Measure alert quality against data with known truth.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` sub-app to the main ``ioc`` app."""
    app.add_typer(evaluate_app, name="evaluate")


@evaluate_app.command("nab")
def nab_command(
    detectors: Annotated[
        str, typer.Option(help="Comma-separated detector names (see alerts.detectors.REGISTRY).")
    ] = "resonance,likelihood,seasonaldedup,iforestdedup,seasonal,iforest,hst",
    out: Annotated[Path, typer.Option(help="Directory for results/, plots/ and REPORT.md.")] = Path(
        "reports/nab"
    ),
    limit_files: Annotated[int | None, typer.Option(min=1, help="Only the first N labelled files.")] = None,
    folders: Annotated[
        str | None, typer.Option(help="Comma-separated NAB folders, e.g. realTraffic.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every detector.")] = 0,
    jobs: Annotated[int, typer.Option(min=1, help="Worker processes (one file per task).")] = 1,
    reuse: Annotated[
        bool, typer.Option("--reuse", help="Score existing results under --out instead of re-running.")
    ] = False,
    data: Annotated[
        Path | None, typer.Option(help="NAB corpus directory (default: <shared data>/nab).")
    ] = None,
    lofo: Annotated[
        str,
        typer.Option(help="Comma-separated detectors to evaluate leave-one-folder-out over their grids."),
    ] = "",
) -> None:
    """Run detectors over the Numenta Anomaly Benchmark and write a scored report."""
    from alerts import nab
    from alerts.detectors import ALIASES, REGISTRY
    from alerts.evaluate_nab import evaluate
    from alerts.nab_lofo import GRIDS

    names = [n.strip() for n in detectors.split(",") if n.strip()]
    unknown = [n for n in names if ALIASES.get(n, n) not in REGISTRY]
    lofo_names = [n.strip() for n in lofo.split(",") if n.strip()]
    if [n for n in lofo_names if ALIASES.get(n, n) not in GRIDS]:
        raise typer.BadParameter(
            f"no LOFO grid for {lofo!r}; grids: {', '.join(sorted(GRIDS))}", param_hint="--lofo"
        )
    if not names or unknown:
        raise typer.BadParameter(
            f"unknown detector(s) {unknown or detectors!r}; known: {', '.join(sorted(REGISTRY))}",
            param_hint="--detectors",
        )
    if data is None:
        from ioc.settings import Settings

        data = Settings().shared_data_dir / "nab"
    try:
        root = nab.corpus_root(data)
        results = evaluate(
            root,
            out,
            names,
            folders=[f.strip() for f in folders.split(",")] if folders else None,
            limit_files=limit_files,
            seed=seed,
            jobs=jobs,
            reuse=reuse,
            lofo=lofo_names,
        )
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    for r in results:
        cells = ", ".join(f"{p.profile} {p.normalised:.1f}" for p in r.profiles)
        typer.echo(f"{r.name}: {cells}")
    typer.echo(f"report: {out / 'REPORT.md'}")
