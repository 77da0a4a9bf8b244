"""``ioc geodata``: install boundary files and list the boundary sets in use."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from geodata.boundaries import (
    DEFAULT_SETS_DIR,
    SHARED_PRE2025_ID,
    boundary_set_for,
    install_boundary_file,
    installed_sets_dir,
    load_boundary_sets,
)
from geodata.validate import BoundaryValidationError


def _iso_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


def register(app: typer.Typer) -> None:
    """Add the ``geodata`` sub-app (``import``, ``list``) to the ``ioc`` command."""
    geo = typer.Typer(help="Administrative boundary sets (ranh giới hành chính).", no_args_is_help=True)

    @geo.command("import")
    def import_(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON file, EPSG:4326")],
        effective_from: Annotated[
            str | None, typer.Option(help="First day the boundaries are in force (YYYY-MM-DD)")
        ] = None,
        effective_to: Annotated[
            str | None, typer.Option(help="First day they are no longer in force (YYYY-MM-DD)")
        ] = None,
        set_id: Annotated[str | None, typer.Option(help="Id of the set (default: file name)")] = None,
        level: Annotated[str, typer.Option(help="Level of features without a 'level' property")] = "district",
        licence: Annotated[str, typer.Option(help="Licence of the file, e.g. GPL-3.0")] = "unspecified",
        replace: Annotated[bool, typer.Option(help="Overwrite an installed set with the same id")] = False,
    ) -> None:
        """Validate FILE (CRS, geometry, code/name properties) and install it as a boundary set."""
        try:
            bs = install_boundary_file(
                file,
                set_id=set_id,
                effective_from=_iso_date(effective_from),
                effective_to=_iso_date(effective_to),
                level=level,
                licence=licence,
                replace=replace,
            )
        except (BoundaryValidationError, FileExistsError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=1) from None
        counts = ", ".join(f"{n} {lv}" for lv, n in bs.counts().items())
        typer.echo(
            f"installed {bs.id!r} ({counts}) in force {_period(bs.effective_from, bs.effective_to)} -> {bs.path}"
        )

    @geo.command("list")
    def list_() -> None:
        """Show installed, shared and bundled boundary sets, their effective dates and unit counts."""
        sets = load_boundary_sets()
        if not sets:
            typer.echo("no boundary sets found")
            return
        today = date.today()
        current = boundary_set_for(today, sets) if any(s.in_force(today) for s in sets) else None
        typer.echo(f"installed sets: {installed_sets_dir()}")
        for s in sets:
            if s.id == SHARED_PRE2025_ID:
                origin = "shared"  # read at run time from shared/data (GPL-3.0)
            elif s.path is not None and s.path.parent == DEFAULT_SETS_DIR:
                origin = "bundled"
            else:
                origin = "installed"
            mark = "*" if s is current else " "
            counts = ", ".join(f"{n} {lv}" for lv, n in s.counts().items())
            approx = " APPROXIMATE" if s.approximate else ""
            typer.echo(
                f"{mark} {s.id:<36} {_period(s.effective_from, s.effective_to):<26} {origin:<9} {counts}{approx}"
            )
        typer.echo("* = in force today")

    app.add_typer(geo, name="geodata")


def _period(start: date | None, end: date | None) -> str:
    return f"[{start.isoformat() if start else '…'}, {end.isoformat() if end else '…'})"
