"""Run detectors over the NAB corpus, write NAB-layout results, score them and write a Markdown report.

Each file is streamed row by row through a fresh detector made with the same parameters and seed
(score the row, then learn it), exactly as a live stream would be. Results go to
``<out>/results/<detector>/<folder>/<detector>_<file>.csv`` with ``timestamp,value,anomaly_score,label``;
the report is ``<out>/REPORT.md`` with plots in ``<out>/plots/``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from alerts import nab
from alerts.detectors import REGISTRY, make_detector

#: The published NAB scoreboard (standard profile, full corpus of 7 folders), for context in the report.
SCOREBOARD = {
    "ARTime": 74.9,
    "Numenta HTM": 70.1,
    "Skyline": 58.2,
    "Random Cut Forest": 51.7,
    "windowed Gaussian": 39.6,
}
DEFAULT_DETECTORS = ("likelihood", "seasonal_dedup", "iforest_dedup", "seasonal", "iforest", "hst")


@dataclass(frozen=True)
class DetectorResult:
    """One detector's anomaly scores for every file and its score under each profile."""

    name: str
    params: dict[str, Any]
    scores: list[np.ndarray]
    profiles: list[nab.ProfileScore]


def run_file(name: str, f: nab.NabFile, seed: int = 0, params: dict[str, Any] | None = None) -> np.ndarray:
    """Stream one file through a fresh detector: score each row, then learn it."""
    det = make_detector(name, seed=seed, **(params or {}))
    times = pd.DatetimeIndex(f.timestamps).to_pydatetime()
    out = np.empty(len(f.values))
    for i, (t, v) in enumerate(zip(times, f.values.tolist(), strict=True)):
        x = {"value": v}
        out[i] = det.score_one(x, t=t)
        det.learn_one(x, t=t)
    return out


def _run_task(args: tuple[str, nab.NabFile, int, dict[str, Any] | None]) -> np.ndarray:
    return run_file(*args)


def run_detectors(
    names: Sequence[str],
    files: Sequence[nab.NabFile],
    *,
    seed: int = 0,
    params: dict[str, dict[str, Any]] | None = None,
    jobs: int = 1,
    progress: bool = True,
) -> dict[str, list[np.ndarray]]:
    """Anomaly scores per detector and file; ``jobs`` > 1 runs files in worker processes."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown detector(s) {unknown}; known: {', '.join(sorted(REGISTRY))}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    params = params or {}
    tasks = [(n, f, seed, params.get(n)) for n in names for f in files]
    bar = tqdm(total=len(tasks), desc="NAB", unit="file", disable=not progress)
    results: list[np.ndarray] = []
    try:
        if jobs == 1:
            for task in tasks:
                bar.set_postfix_str(f"{task[0]} {task[1].name}")
                results.append(_run_task(task))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for r in pool.map(_run_task, tasks):
                    results.append(r)
                    bar.update()
    finally:
        bar.close()
    it = iter(results)
    return {n: [next(it) for _ in files] for n in names}


def score_all(files: Sequence[nab.NabFile], scores: Sequence[np.ndarray]) -> list[nab.ProfileScore]:
    """The detector's NAB score under each of the three profiles (realTraffic reported separately)."""
    return [nab.score_detector(files, scores, p, subsets=("realTraffic",)) for p in nab.PROFILES]


def write_results(out: Path, name: str, files: Sequence[nab.NabFile], scores: Sequence[np.ndarray]) -> None:
    """NAB's results layout: ``results/<detector>/<folder>/<detector>_<file>.csv``."""
    for f, s in zip(files, scores, strict=True):
        path = out / "results" / name / f.folder / f"{name}_{f.name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(
            {
                "timestamp": pd.DatetimeIndex(f.timestamps).strftime("%Y-%m-%d %H:%M:%S"),
                "value": f.values,
                "anomaly_score": s,
                "label": f.labels,
            }
        ).to_csv(path, index=False)


def read_results(out: Path, name: str, files: Sequence[nab.NabFile]) -> list[np.ndarray] | None:
    """Anomaly scores from an earlier run's results files, or None if any file is missing or stale."""
    scores = []
    for f in files:
        path = out / "results" / name / f.folder / f"{name}_{f.name}"
        if not path.is_file():
            return None
        s = pd.read_csv(path)["anomaly_score"].to_numpy(dtype=float)
        if len(s) != len(f.values):
            return None
        scores.append(s)
    return scores


def evaluate(
    root: Path,
    out: Path,
    names: Sequence[str] = DEFAULT_DETECTORS,
    *,
    folders: Sequence[str] | None = None,
    limit_files: int | None = None,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    reuse: bool = False,
) -> list[DetectorResult]:
    """Run, write results, score and write ``REPORT.md``; returns the results.

    With ``reuse``, detectors whose results files already exist under ``out`` are not run again
    (only scored), so the report can be rebuilt quickly.
    """
    files = nab.load_corpus(root, folders=folders, limit_files=limit_files)
    raw: dict[str, list[np.ndarray]] = {}
    if reuse:
        for name in names:
            if (old := read_results(out, name, files)) is not None:
                raw[name] = old
    todo = [n for n in names if n not in raw]
    raw |= run_detectors(todo, files, seed=seed, jobs=jobs, progress=progress) if todo else {}
    results = []
    for name in names:
        if name in todo:
            write_results(out, name, files, raw[name])
        params = make_detector(name, seed=seed)._params()
        results.append(DetectorResult(name, params, raw[name], score_all(files, raw[name])))
    write_report(out, files, results, seed=seed)
    return results


# --------------------------------------------------------------------------- report


def _plot_files(out: Path, files: Sequence[nab.NabFile], results: Sequence[DetectorResult]) -> list[Path]:
    """One figure per realTraffic file (or the first files): value, windows and each detector's score."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = [i for i, f in enumerate(files) if f.folder == "realTraffic"] or list(range(min(3, len(files))))
    paths = []
    (out / "plots").mkdir(parents=True, exist_ok=True)
    std = {r.name: next(p for p in r.profiles if p.profile == nab.STANDARD.name) for r in results}
    for i in picks:
        f = files[i]
        fig, axes = plt.subplots(1 + len(results), 1, figsize=(11, 2 + 1.3 * len(results)), sharex=True)
        axes = np.atleast_1d(axes)
        axes[0].plot(f.timestamps, f.values, lw=0.7, color="black")
        axes[0].set_title(f.key)
        for a, b in f.windows:
            for ax in axes:
                ax.axvspan(f.timestamps[a], f.timestamps[b], color="tab:red", alpha=0.15)
        for ax, r in zip(axes[1:], results, strict=True):
            ax.plot(f.timestamps, r.scores[i], lw=0.7)
            ax.axhline(std[r.name].threshold, color="tab:orange", lw=0.8, ls="--")
            ax.set_ylabel(r.name, fontsize=8)
            ax.set_ylim(-0.02, 1.02)
        for ax in axes:
            ax.axvline(f.timestamps[f.probation], color="grey", lw=0.8, ls=":")
        fig.tight_layout()
        path = out / "plots" / f"{f.folder}_{Path(f.name).stem}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)

    fig, ax = plt.subplots(figsize=(7, 3.2))
    names = [r.name for r in results]
    width = 0.25
    for k, p in enumerate(nab.PROFILES):
        vals = [next(s.normalised for s in r.profiles if s.profile == p.name) for r in results]
        ax.bar(np.arange(len(names)) + (k - 1) * width, vals, width, label=p.name)
    ax.axhline(SCOREBOARD["Skyline"], color="grey", ls="--", lw=0.8, label="Skyline 58.2 (published)")
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel("NAB score")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "plots" / "scores.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return [path, *paths]


def _num(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.1f}"


def write_report(
    out: Path, files: Sequence[nab.NabFile], results: Sequence[DetectorResult], *, seed: int = 0
) -> Path:
    """``<out>/REPORT.md``: score tables for the three profiles, realTraffic, and plots."""
    out.mkdir(parents=True, exist_ok=True)
    plots = _plot_files(out, files, results)
    folders = sorted({f.folder for f in files})
    n_windows = sum(len(f.windows) for f in files)
    lines = [
        "# NAB evaluation",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `ioc evaluate nab` (seed {seed}).",
        "",
        f"Corpus: {len(files)} files, {n_windows} anomaly windows, folders: {', '.join(folders)}.",
        "NAB has seven folders; realKnownCause and realAdExchange are held out of `shared/data/nab`, so",
        "these numbers are **not directly comparable** with the published scoreboard (which covers all 58",
        "files). One parameter set per detector for every file; one threshold per detector and profile,",
        "optimised over all files. Scores are normalised: null detector 0, perfect detector 100.",
        "",
        "## Scores",
        "",
        "| detector | standard | reward low FP | reward low FN | realTraffic (standard) | threshold (standard) | TP / FN / FP (standard) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        by = {p.profile: p for p in r.profiles}
        s = by[nab.STANDARD.name]
        traffic = s.subsets.get("realTraffic")
        lines.append(
            f"| {r.name} | {_num(s.normalised)} | {_num(by[nab.REWARD_LOW_FP.name].normalised)} | "
            f"{_num(by[nab.REWARD_LOW_FN.name].normalised)} | "
            f"{'n/a' if traffic is None else f'{traffic:.1f}'} | {s.threshold:.4f} | {s.tp} / {s.fn} / {s.fp} |"
        )
    lines += [
        "",
        "realTraffic uses the corpus-wide threshold, normalised against that folder's own null and perfect scores.",
        "",
        "### realTraffic, all profiles",
        "",
        "| detector | standard | reward low FP | reward low FN |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in results:
        by = {p.profile: p.subsets.get("realTraffic") for p in r.profiles}
        cells = [("n/a" if by[p.name] is None else f"{by[p.name]:.1f}") for p in nab.PROFILES]
        lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Caveats",
        "",
        "* `likelihood` (the project's own detector) had its defaults chosen by trying a few dozen",
        "  settings on these same five folders, so its scores here are optimistic; the held-out folders",
        "  (realKnownCause, realAdExchange) are the honest test and are not available in this checkout.",
        "* `seasonal` and `iforest` flag every anomalous row, and NAB charges each flagged row outside a",
        "  window as a false positive, so they can score at or below the null detector; the `_dedup`",
        "  variants raise one alarm per incident at the inner model's natural level (fixed in advance).",
        "* NAB hill-climbs the threshold; here every distinct score is tried, which can only score higher",
        "  or equal for the same anomaly scores.",
        "",
        "## Detectors and parameters",
        "",
    ]
    for r in results:
        shown = ", ".join(f"{k}={v}" for k, v in r.params.items() if k != "units")
        lines.append(f"* `{r.name}`: {shown}")
    lines += [
        "",
        "Reproduce: `ioc evaluate nab --jobs 2` (add `--detectors`, `--folders`, `--limit-files`).",
        "",
    ]
    lines += ["Published scoreboard (standard profile, full corpus): "]
    lines.append(", ".join(f"{k} {v}" for k, v in SCOREBOARD.items()) + ".")
    lines += ["", "## Plots", ""]
    for p in plots:
        lines.append(f"![{p.stem}](plots/{p.name})")
        lines.append("")
    lines += [
        "Dashed orange: the standard-profile threshold; red bands: anomaly windows; dotted: end of the",
        "probationary period (not scored).",
        "",
        "Data: Numenta Anomaly Benchmark (MIT), Ahmad, Lavin, Purdy & Agha (2017), Neurocomputing.",
        "",
    ]
    path = out / "REPORT.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def default_jobs() -> int:
    """One worker per core, at most 2: the machine is shared."""
    return max(1, min(2, os.cpu_count() or 1))
