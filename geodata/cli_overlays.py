"""``ioc simulation`` and ``ioc flood``: put scenario layers and flood areas on the map.

    ioc simulation import FLOOD.geojson --name "Ngập Lê Chân, mưa 300 mm" --time 2026-09-13T15:00+07:00 --author "Digital Twin"
    ioc simulation list | export ID --out FILE | remove ID
    ioc flood import AREAS.geojson --author operator1 [--time …] [--depth-cm 30] [--prone]

Files are validated like boundary files (``geodata.overlays``); errors name the file and the feature.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from geodata import overlays
from ioc.i18n import cli_time


def _dsn() -> str:
    from ioc.settings import running_settings

    return running_settings().database_dsn()


def _time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{what} {value!r} is not an ISO time, e.g. 2026-09-13T15:00+07:00") from None
    if t.tzinfo is None:
        raise typer.BadParameter(f"{what} {value!r} has no time zone; add one, e.g. +07:00")
    return t


def register(app: typer.Typer) -> None:
    sim = typer.Typer(help="Lớp mô phỏng — simulation (scenario) layers, drawn apart and labelled MÔ PHỎNG.",
                      no_args_is_help=True)  # fmt: skip
    flood = typer.Typer(help="Vùng ngập — flood areas with depth and time.", no_args_is_help=True)
    app.add_typer(sim, name="simulation")
    app.add_typer(flood, name="flood")

    @sim.command("import")
    def import_(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON, EPSG:4326")],
        name: Annotated[str, typer.Option(help="What the scenario is, e.g. 'Ngập Lê Chân, mưa 300 mm'")],
        time: Annotated[str, typer.Option(help="The scenario's time, ISO with offset")],
        author: Annotated[str, typer.Option(help="Who computed it (person or system)")],
    ) -> None:
        """Validate FILE and store it as a simulation layer (it can never raise a live alert)."""
        from ioc import db

        when = _time(time, "--time")
        assert when is not None
        try:
            with db.connect(_dsn()) as conn:
                layer = overlays.import_simulation(conn, overlays.read_geojson(file), name=name, scenario_time=when,
                                                   author=author, source=file.name)  # fmt: skip
                conn.commit()
        except overlays.OverlayError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"{layer.layer_id}  {overlays.SIMULATION_LABEL}: {layer.name} ({layer.feature_count} features)")

    @sim.command("list")
    def list_() -> None:
        """The active simulation layers, newest first."""
        from ioc import db

        with db.connect(_dsn()) as conn:
            layers = overlays.simulation_layers(conn, limit=100)
        for s in layers:
            typer.echo(f"{s.layer_id}  {overlays.SIMULATION_LABEL}: {s.name}  {cli_time(s.scenario_time)}  {s.author}"
                       f"  {s.feature_count} features")  # fmt: skip
        if not layers:
            typer.echo("không có lớp mô phỏng / no simulation layer")

    @sim.command("export")
    def export(
        layer_id: Annotated[str, typer.Argument(help="Layer id (UUID)")],
        out: Annotated[Path, typer.Option(help="GeoJSON file to write")],
    ) -> None:
        """Write a simulation layer as GeoJSON, labelled MÔ PHỎNG in the file and in every feature."""
        from ioc import db

        lid = _uuid(layer_id)
        with db.connect(_dsn()) as conn:
            layer = next((s for s in overlays.simulation_layers(conn, limit=1000) if s.layer_id == lid), None)
        if layer is None:
            raise typer.BadParameter(f"no active simulation layer {layer_id}")
        out.write_text(json.dumps(overlays.labelled_export(layer), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        typer.echo(f"{out}: {overlays.SIMULATION_LABEL}: {layer.name}")

    @sim.command("remove")
    def remove(layer_id: Annotated[str, typer.Argument(help="Layer id (UUID)")]) -> None:
        """Take a simulation layer off the map (kept for the record)."""
        from ioc import db

        with db.connect(_dsn()) as conn:
            done = overlays.retire_simulation(conn, _uuid(layer_id))
            conn.commit()
        if not done:
            raise typer.BadParameter(f"no active simulation layer {layer_id}")
        typer.echo(f"{layer_id} removed from the map")

    @flood.command("import")
    def flood_import(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON polygons, EPSG:4326")],
        author: Annotated[str, typer.Option(help="Who reports the areas")],
        time: Annotated[str | None, typer.Option(help="Observed at (when the features have no time)")] = None,
        depth_cm: Annotated[float | None, typer.Option(help="Depth (when the features have none)")] = None,
        prone: Annotated[bool, typer.Option("--prone", help="Flood-prone areas, not observed floods")] = False,
    ) -> None:
        """Validate FILE and store its flood areas with depth and time."""
        from ioc import db

        try:
            with db.connect(_dsn()) as conn:
                areas = overlays.add_flood_areas(conn, overlays.read_geojson(file), author=author, source=file.name,
                                                 observed_at=_time(time, "--time"), depth_cm=depth_cm, prone=prone)  # fmt: skip
                conn.commit()
        except overlays.OverlayError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"{len(areas)} flood area(s) stored")


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"not a layer id (UUID): {value!r}") from None
