"""Leave-one-folder-out (LOFO) evaluation on NAB: choose parameters on four folders, score the fifth.

Tuning on the files that are then scored flatters a detector. Here every parameter is chosen on
the other folders only:

1. every parameter set of a small declared grid (:data:`GRIDS`) is run once over all files;
2. for each folder F, the set with the best mean normalised score over the three profiles on the
   files *outside* F is chosen (one parameter set for all profiles, as NAB asks), and each
   profile's threshold is optimised on those files too;
3. F is scored with that parameter set and those thresholds. Its normalised score uses F's own
   null and perfect detectors; a folder without windows (``artificialNoAnomaly``) can only lose, so
   its raw score and false-positive count are reported instead;
4. the held-out raw scores of all folds are summed and normalised over the whole corpus: the
   *pooled out-of-sample* score, comparable with the all-files score.

Each grid point is also scored out of sample on its own (thresholds from the other folders, pooled
over folds); the recommended parameter set is the one that does best there, not in sample.

    python -m alerts.nab_lofo --detector resonance [--data DIR] [--out reports/nab]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alerts import nab

#: The declared grids: every combination is tried. Kept small on purpose (16 points).
GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "resonance": {
        "history": (2000, 5000),
        "context_history": (1000, 2000),
        "scales": ((4, 16), (1, 2, 4, 8, 16, 32)),
        "gate": (0.5, 0.25),
    },
    "likelihood": {
        "history": (2000, 5000),
        "refractory": (100, 200),
        "window": (256, 512),
    },
}


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a fixed order."""
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


@dataclass(frozen=True)
class FoldResult:
    """One held-out folder under one profile."""

    folder: str
    profile: str
    params: dict[str, Any]
    threshold: float
    train_normalised: float  # on the other folders (their raw score when they have no windows)
    raw: float
    normalised: float  # NaN for a folder without windows
    tp: int
    fn: int
    fp: int


@dataclass
class LofoResult:
    """Everything the LOFO run measured."""

    detector: str
    points: list[dict[str, Any]]
    folds: list[FoldResult]
    pooled: dict[str, float]  # profile -> pooled out-of-sample normalised score
    in_sample: list[dict[str, float]]  # per point: profile -> all-files normalised score
    out_of_sample: list[dict[str, float]]  # per point: profile -> pooled held-out normalised score
    best_point: int = 0
    folders: list[str] = field(default_factory=list)

    @property
    def recommended(self) -> dict[str, Any]:
        """The grid point that does best out of sample (mean over the three profiles)."""
        return self.points[self.best_point]


def _mean_profiles(d: Mapping[str, float]) -> float:
    return float(np.mean([d[p.name] for p in nab.PROFILES]))


def lofo(
    detector: str,
    files: Sequence[nab.NabFile],
    run: Callable[[dict[str, Any]], list[np.ndarray]],
    points: Sequence[dict[str, Any]],
) -> LofoResult:
    """LOFO over ``files`` for the grid ``points``; ``run(params)`` gives one score array per file."""
    folders = sorted({f.folder for f in files})
    if len(folders) < 2:
        raise ValueError(f"leave-one-folder-out needs at least two folders, got {folders}")
    scores = [run(p) for p in points]
    idx = {F: [i for i, f in enumerate(files) if f.folder == F] for F in folders}

    def pick(rows: list[int], s: list[np.ndarray]):
        return [files[i] for i in rows], [s[i] for i in rows]

    # train[fold][point][profile] = the threshold result on the files outside the fold
    train: dict[str, list[dict[str, nab.ThresholdResult]]] = {}
    for F in folders:
        rows = [i for i in range(len(files)) if files[i].folder != F]
        train[F] = []
        for s in scores:
            fs, ss = pick(rows, s)
            train[F].append({p.name: nab.optimise_threshold(fs, ss, p) for p in nab.PROFILES})

    def held_out(F: str, k: int, p: nab.Profile) -> nab.ThresholdResult:
        fs, ss = pick(idx[F], scores[k])
        return nab.score_at(fs, ss, p, train[F][k][p.name].threshold)

    folds: list[FoldResult] = []
    pooled_raw = {p.name: 0.0 for p in nab.PROFILES}
    for F in folders:
        train_files = [f for f in files if f.folder != F]
        # Files without any window cannot be normalised; then the raw score (the FP cost) decides.
        can_norm = any(f.scored_windows for f in train_files)
        train_norm = [
            {
                p.name: nab.normalise(train[F][k][p.name].score, train_files, p)
                if can_norm
                else train[F][k][p.name].score
                for p in nab.PROFILES
            }
            for k in range(len(points))
        ]
        k_best = max(range(len(points)), key=lambda k: _mean_profiles(train_norm[k]))
        fs = [files[i] for i in idx[F]]
        has_windows = any(f.scored_windows for f in fs)
        for p in nab.PROFILES:
            res = held_out(F, k_best, p)
            pooled_raw[p.name] += res.score
            folds.append(
                FoldResult(
                    folder=F,
                    profile=p.name,
                    params=dict(points[k_best]),
                    threshold=train[F][k_best][p.name].threshold,
                    train_normalised=train_norm[k_best][p.name],
                    raw=res.score,
                    normalised=nab.normalise(res.score, fs, p) if has_windows else math.nan,
                    tp=res.tp,
                    fn=res.fn,
                    fp=res.fp,
                )
            )
    pooled = {name: nab.normalise(raw, files, _profile(name)) for name, raw in pooled_raw.items()}
    in_sample, out_of_sample = [], []
    for k, s in enumerate(scores):
        in_sample.append(
            {p.name: nab.normalise(nab.optimise_threshold(files, s, p).score, files, p) for p in nab.PROFILES}
        )
        out_of_sample.append(
            {
                p.name: nab.normalise(sum(held_out(F, k, p).score for F in folders), files, p)
                for p in nab.PROFILES
            }
        )
    best = max(range(len(points)), key=lambda k: _mean_profiles(out_of_sample[k]))
    return LofoResult(
        detector, [dict(p) for p in points], folds, pooled, in_sample, out_of_sample, best, folders
    )


def _profile(name: str) -> nab.Profile:
    return next(p for p in nab.PROFILES if p.name == name)


def _fmt(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.1f}"


def _params_text(p: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in p.items())


def markdown(res: LofoResult) -> list[str]:
    """The LOFO tables as Markdown lines."""
    names = [p.name for p in nab.PROFILES]
    lines = [
        f"## Leave-one-folder-out: `{res.detector}`",
        "",
        f"Grid of {len(res.points)} parameter sets; for each folder the set and the three thresholds are",
        "chosen on the other folders, then the folder is scored. Normalised on the folder's own null and",
        "perfect scores; a folder without windows shows its raw score (its false positives' cost).",
        "",
        "| held-out folder | standard | reward low FP | reward low FN | FP (standard) | chosen on the other folders |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for F in res.folders:
        by = {r.profile: r for r in res.folds if r.folder == F}
        cells = []
        for n in names:
            r = by[n]
            cells.append(_fmt(r.normalised) if not math.isnan(r.normalised) else f"raw {r.raw:.2f}")
        lines.append(
            f"| {F} | " + " | ".join(cells) + f" | {by[names[0]].fp} | {_params_text(by[names[0]].params)} |"
        )
    lines.append(
        "| **pooled, out of sample** | " + " | ".join(f"**{res.pooled[n]:.1f}**" for n in names) + " | | |"
    )
    lines += [
        "",
        "Every grid point, in sample (all files, thresholds optimised on them) and out of sample (each",
        "folder scored at thresholds chosen on the other four, pooled):",
        "",
        "| # | parameters | in sample std / low FP / low FN | out of sample std / low FP / low FN |",
        "| ---: | --- | --- | --- |",
    ]
    for k, p in enumerate(res.points):
        ins = " / ".join(f"{res.in_sample[k][n]:.1f}" for n in names)
        oos = " / ".join(f"{res.out_of_sample[k][n]:.1f}" for n in names)
        mark = " **(kept)**" if k == res.best_point else ""
        lines.append(f"| {k} | {_params_text(p)}{mark} | {ins} | {oos} |")
    lines.append("")
    return lines


def to_json(res: LofoResult) -> dict[str, Any]:
    """The result as JSON-able data (written beside the report)."""
    return {
        "detector": res.detector,
        "points": [{k: list(v) if isinstance(v, tuple) else v for k, v in p.items()} for p in res.points],
        "folds": [
            {**r.__dict__, "params": {k: list(v) if isinstance(v, tuple) else v for k, v in r.params.items()}}
            for r in res.folds
        ],
        "pooled": res.pooled,
        "in_sample": res.in_sample,
        "out_of_sample": res.out_of_sample,
        "best_point": res.best_point,
    }


def run_lofo(
    root: Path,
    detector: str,
    *,
    seed: int = 0,
    folders: Sequence[str] | None = None,
    limit_files: int | None = None,
    points: Sequence[dict[str, Any]] | None = None,
    progress: bool = True,
) -> tuple[LofoResult, list[nab.NabFile]]:
    """Load the corpus and run LOFO for ``detector`` over its declared grid (or ``points``)."""
    from tqdm import tqdm

    from alerts.evaluate_nab import run_file

    if points is None:
        if detector not in GRIDS:
            raise ValueError(f"no declared LOFO grid for {detector!r}; grids exist for {sorted(GRIDS)}")
        points = grid_points(GRIDS[detector])
    files = nab.load_corpus(root, folders=folders, limit_files=limit_files)
    bar = tqdm(total=len(points) * len(files), desc=f"LOFO {detector}", unit="file", disable=not progress)

    def run(params: dict[str, Any]) -> list[np.ndarray]:
        out = []
        for f in files:
            out.append(run_file(detector, f, seed=seed, params=params))
            bar.update()
        return out

    try:
        return lofo(detector, files, run, points), files
    finally:
        bar.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default="resonance")
    parser.add_argument("--data", type=Path, default=None, help="NAB corpus (default <shared data>/nab)")
    parser.add_argument("--out", type=Path, default=Path("reports/nab"))
    args = parser.parse_args(argv)
    data = args.data
    if data is None:
        from ioc.settings import Settings

        data = Settings().shared_data_dir / "nab"
    res, _ = run_lofo(nab.corpus_root(data), args.detector)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"lofo_{res.detector}.json").write_text(json.dumps(to_json(res), indent=1), encoding="utf-8")
    print("\n".join(markdown(res)))


if __name__ == "__main__":
    main()
