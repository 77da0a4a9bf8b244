"""The demo city's first start: the past it would have stored had it been running all along.

On the first start of ``ioc up`` the live simulator (:func:`simulators.live.run_live`) publishes, as
fast as the broker takes it and with their true past times, the early-warning history the rules
and panels need (:func:`simulators.warning_feeds.backfill`), ``dossier_days`` of dossiers
(:func:`simulators.dossiers.backfill`), both ending where the city window begins, then the city
itself over the last ``hours`` (:class:`simulators.city.City`, same scenario and seeds as live), and
goes on live from the instant the backfill ends: no gap, no overlap.

Whether it has been done is kept in ``<data_dir>/simulator/backfill.json`` with the run id and the
backfill's end: written before the first message, marked done once everything is flushed to the
broker. A restarted simulator finds it done and does not backfill again; one interrupted halfway
finds it not done and redoes it with the same run id and end, so every event gets the id it had
the first time and the consumers (exactly once on event id and time) store nothing twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ioc.events import Event
from ioc.settings import Settings
from simulators import dossiers, warning_feeds
from simulators.base import in_run

MARKER = "backfill.json"
HISTORY_SEED = "history"  # the history's ids are minted apart from any city day's


@dataclass(frozen=True)
class Marker:
    """One first start's backfill: its run id, its end (the live city starts there) and its size."""

    run_id: str
    end: datetime
    hours: float
    dossier_days: float
    warnings: bool = True
    done: bool = False

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "end": self.end.isoformat()})

    @classmethod
    def from_json(cls, text: str) -> Marker:
        raw = json.loads(text)
        return cls(run_id=str(raw["run_id"]), end=datetime.fromisoformat(raw["end"]), hours=float(raw["hours"]),
                   dossier_days=float(raw["dossier_days"]), warnings=bool(raw.get("warnings", True)),
                   done=bool(raw["done"]))


def marker_path(settings: Settings) -> Path:
    return settings.data_dir / "simulator" / MARKER


def read_marker(path: Path) -> Marker | None:
    try:
        return Marker.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def write_marker(path: Path, marker: Marker) -> None:
    """Atomically (a crash leaves the old marker or the new one, never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(marker.to_json(), encoding="utf-8")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def history(marker: Marker, seed: int) -> Iterator[Event]:
    """Warning-feed history and dossiers before the city window, ids minted for the marker's run."""
    window_start = marker.end - timedelta(hours=marker.hours)
    if marker.warnings:
        for e in warning_feeds.backfill(window_start, seed):
            yield in_run(e, HISTORY_SEED, marker.run_id)
    if marker.dossier_days > 0:
        for e in dossiers.backfill(window_start, marker.dossier_days, seed, validate=False):
            yield in_run(e, HISTORY_SEED, marker.run_id)


__all__ = ["MARKER", "Marker", "history", "marker_path", "read_marker", "write_marker"]
