"""Anomaly detectors with one protocol (see :mod:`alerts.detectors.base`) and one registry."""

from __future__ import annotations

from typing import Any

from alerts.detectors.base import Detector
from alerts.detectors.dedup import IsolationForestDedup, SeasonalDedup
from alerts.detectors.hst import HalfSpaceTrees
from alerts.detectors.iforest import WindowedIsolationForest
from alerts.detectors.likelihood import SurpriseLikelihood
from alerts.detectors.resonance import Resonance
from alerts.detectors.seasonal import SeasonalBaseline

#: Every detector by its short name; the shared test suite and ``ioc evaluate nab`` walk this.
REGISTRY: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (
        SeasonalBaseline,
        WindowedIsolationForest,
        HalfSpaceTrees,
        SurpriseLikelihood,
        Resonance,
        SeasonalDedup,
        IsolationForestDedup,
    )
}


#: Former names. NAB cuts a detector's name at the first underscore (``results/<name>/…/<name>_<file>``),
#: so registered names have none; the old spellings still make the same detectors.
ALIASES: dict[str, str] = {"seasonal_dedup": "seasonaldedup", "iforest_dedup": "iforestdedup"}


def make_detector(name: str, seed: int = 0, **params: Any) -> Detector:
    """A new detector of the registered kind ``name`` (or a former name in :data:`ALIASES`)."""
    try:
        cls = REGISTRY[ALIASES.get(name, name)]
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    return cls(seed=seed, **params)


__all__ = [
    "ALIASES",
    "REGISTRY",
    "Detector",
    "HalfSpaceTrees",
    "IsolationForestDedup",
    "Resonance",
    "SeasonalBaseline",
    "SeasonalDedup",
    "SurpriseLikelihood",
    "WindowedIsolationForest",
    "make_detector",
]
