"""The Numenta Anomaly Benchmark: corpus loading and the scoring protocol.

Implemented from Lavin & Ahmad (2015), "Evaluating Real-time Anomaly Detection Algorithms – the
Numenta Anomaly Benchmark", with the constants of NAB's ``config/profiles.json`` and sweeper:

* every labelled anomaly has a window ``[start, end]`` (``labels/combined_windows.json``);
* the first 15 % of each file (at most 750 rows) is probationary and not scored;
* a detection is a row whose anomaly score is >= the threshold. Inside a window it is worth
  ``A_tp * σ(y) / σ(-1)`` where ``σ(y) = 2 / (1 + e^{5y}) - 1`` and ``y = -(end - i + 1) / width`` is the
  position relative to the window end (the first row of a window is worth exactly ``A_tp``); only the
  best detection of each window counts, and a window without one costs ``-A_fn``;
* every detection outside windows costs ``A_fp * σ(y)`` with ``y`` the distance past the previous
  window end in window widths (``-A_fp`` when no window precedes it, or further than 3 widths);
* one threshold per detector and profile is chosen to maximise the summed score over all files;
* scores are normalised to ``100 * (raw - null) / (perfect - null)``, where the null detector never
  detects (``-A_fn`` per window) and the perfect one detects each window at its first row.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

PROBATION_PERCENT = 0.15
#: NAB caps the probationary period at 15 % of 5000 rows.
PROBATION_CAP_ROWS = 5000


@dataclass(frozen=True)
class Profile:
    """An application profile: the weights of true positives, false positives and false negatives."""

    name: str
    tp: float
    fp: float
    fn: float
    tn: float = 1.0


STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
REWARD_LOW_FP = Profile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0)
REWARD_LOW_FN = Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
PROFILES: tuple[Profile, ...] = (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)


@dataclass(frozen=True, eq=False)
class NabFile:
    """One corpus file with its windows as inclusive row-index ranges."""

    folder: str
    name: str
    timestamps: np.ndarray  # datetime64[ns]
    values: np.ndarray  # float64
    windows: tuple[tuple[int, int], ...]

    @property
    def key(self) -> str:
        """The label-file key, ``folder/name.csv``."""
        return f"{self.folder}/{self.name}"

    @property
    def labels(self) -> np.ndarray:
        """1 for rows inside an anomaly window, else 0 (the ``label`` column of NAB results)."""
        lab = np.zeros(len(self.values), dtype=np.int8)
        for a, b in self.windows:
            lab[a : b + 1] = 1
        return lab

    @property
    def probation(self) -> int:
        """Number of leading rows that are not scored."""
        return probationary_length(len(self.values))

    @property
    def scored_windows(self) -> tuple[tuple[int, int], ...]:
        """Windows NAB scores: those ending after the probationary period (NAB never sees the others)."""
        return tuple(w for w in self.windows if w[1] >= self.probation)


def probationary_length(n_rows: int) -> int:
    """NAB's probationary period: 15 % of the file, at most 750 rows."""
    return int(min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * PROBATION_CAP_ROWS))


def corpus_root(root: Path) -> Path:
    """``root`` if it holds a NAB corpus; raises FileNotFoundError naming the path when it does not."""
    root = Path(root)
    if not (root / "labels" / "combined_windows.json").is_file():
        raise FileNotFoundError(f"NAB corpus not found: {root} has no labels/combined_windows.json")
    return root


def load_corpus(
    root: Path, *, folders: Iterable[str] | None = None, limit_files: int | None = None
) -> list[NabFile]:
    """Read every labelled file (sorted by key), optionally only some folders or the first N files."""
    root = Path(root)
    with open(root / "labels" / "combined_windows.json", encoding="utf-8") as f:
        windows: dict[str, list[list[str]]] = json.load(f)
    wanted = set(folders) if folders is not None else None
    if limit_files is not None and limit_files < 1:
        raise ValueError(f"limit_files must be >= 1, got {limit_files}")
    out: list[NabFile] = []
    for key in sorted(windows):
        folder, name = key.split("/", 1)
        if wanted is not None and folder not in wanted:
            continue
        path = root / "data" / key
        if not path.is_file():
            raise FileNotFoundError(f"label file lists {key!r} but {path} does not exist")
        out.append(_read_file(path, folder, name, windows[key]))
        if limit_files is not None and len(out) >= limit_files:
            break
    if wanted is not None and not out:
        raise ValueError(f"no NAB files in folders {sorted(wanted)}")
    return out


def _read_file(path: Path, folder: str, name: str, raw_windows: list[list[str]]) -> NabFile:
    """One data file, rows in file order, with its windows as row ranges, as NAB's scorer sees them.

    NAB reads with pandas and keeps the rows as they are: timestamps may repeat (a daylight-saving
    fall-back repeats an hour in ``realKnownCause/machine_temperature_system_failure.csv``) or go
    backwards. Its sweeper (``nab/sweeper.py``) walks the rows in order, enters a window at the
    first row whose timestamp equals the window start, and takes the window's right edge at the
    first row carrying the end timestamp (``timestamps.index(end)``). A window whose start matches no
    row is never entered, so NAB ignores it; one whose end matches no row makes NAB fail. Both are
    reproduced here (the ignored window is dropped with a warning).
    """
    df = pd.read_csv(path)
    if list(df.columns) != ["timestamp", "value"]:
        raise ValueError(f"{path}: expected columns timestamp,value, got {list(df.columns)}")
    ts = pd.DatetimeIndex(pd.to_datetime(df["timestamp"]))
    first_row: dict[pd.Timestamp, int] = {}
    for i, t in enumerate(ts):
        first_row.setdefault(t, i)
    wins: list[tuple[int, int]] = []
    for start, end in raw_windows:
        a = first_row.get(pd.Timestamp(start))
        b = first_row.get(pd.Timestamp(end))
        if a is None:
            warnings.warn(
                f"{path}: window {start}..{end} starts at no row; NAB never scores it", stacklevel=3
            )
            continue
        if b is None:
            raise ValueError(f"{path}: window {start}..{end} does not match the file's timestamps")
        if b < a:
            raise ValueError(f"{path}: window {start}..{end} ends (row {b}) before it starts (row {a})")
        wins.append((a, b))
    return NabFile(
        folder, name, ts.to_numpy(dtype="datetime64[ns]"), df["value"].to_numpy(dtype=float), tuple(wins)
    )


# --------------------------------------------------------------------------- scoring


def scaled_sigmoid(y: float) -> float:
    """NAB's scaled sigmoid: +0.987 at y=-1 (window start), 0 at the window end, -1 beyond y=3."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


@dataclass(frozen=True, eq=False)
class Sweep:
    """Per scorable row: its weight if detected and the window it belongs to (-1 = outside windows)."""

    weights: np.ndarray
    window_ids: np.ndarray
    n_windows: int


def sweep(n_rows: int, windows: Sequence[tuple[int, int]], profile: Profile) -> Sweep:
    """Weights of a detection at each row of a file (probationary rows get window id -2)."""
    max_tp = scaled_sigmoid(-1.0)
    weights = np.empty(n_rows)
    ids = np.full(n_rows, -1, dtype=np.int64)
    prev_end: int | None = None
    prev_width = 0
    bounds = sorted(windows)
    w = 0
    for i in range(n_rows):
        if w < len(bounds) and bounds[w][0] <= i <= bounds[w][1]:
            a, b = bounds[w]
            width = b - a + 1
            weights[i] = scaled_sigmoid(-(b - i + 1) / width) * profile.tp / max_tp
            ids[i] = w
            if i == b:
                prev_end, prev_width = b, width
                w += 1
        else:
            if prev_end is None:
                unweighted = -1.0
            else:
                unweighted = scaled_sigmoid(abs(prev_end - i) / max(prev_width - 1, 1))
            weights[i] = unweighted * profile.fp
    prob = probationary_length(n_rows)
    ids[:prob] = -2
    # A window wholly inside the probationary period has no scorable row: NAB neither rewards nor
    # charges it (its rows carry the name "probationary"), so it is not numbered at all.
    scored = [k for k, (_, b) in enumerate(bounds) if b >= prob]
    remap = np.full(max(len(bounds), 1), -1, dtype=np.int64)
    remap[scored] = np.arange(len(scored))
    ids = np.where(ids >= 0, remap[np.maximum(ids, 0)], ids)
    return Sweep(weights, ids, len(scored))


@dataclass(frozen=True)
class ThresholdResult:
    """The raw NAB score at one threshold, with counts."""

    threshold: float
    score: float
    tp: int  # windows detected
    fn: int  # windows missed
    fp: int  # detections outside windows


def _stack(files: Sequence[NabFile], scores: Sequence[np.ndarray], profile: Profile):
    """Concatenate scorable rows of all files; window ids become corpus-wide."""
    if len(files) != len(scores):
        raise ValueError(f"{len(files)} files but {len(scores)} score arrays")
    s_all, w_all, id_all = [], [], []
    offset = 0
    for f, s in zip(files, scores, strict=True):
        s = np.asarray(s, dtype=float)
        if s.shape != f.values.shape:
            raise ValueError(f"{f.key}: {len(s)} scores for {len(f.values)} rows")
        if np.isnan(s).any():
            raise ValueError(f"{f.key}: anomaly scores contain NaN")
        sw = sweep(len(s), f.windows, profile)
        keep = sw.window_ids != -2
        ids = sw.window_ids[keep]
        s_all.append(s[keep])
        w_all.append(sw.weights[keep])
        id_all.append(np.where(ids >= 0, ids + offset, -1))
        offset += sw.n_windows
    return np.concatenate(s_all), np.concatenate(w_all), np.concatenate(id_all), offset


def score_at(files: Sequence[NabFile], scores: Sequence[np.ndarray], profile: Profile, threshold: float):
    """Raw NAB score when rows with anomaly score >= ``threshold`` are detections."""
    s, w, ids, n_windows = _stack(files, scores, profile)
    det = s >= threshold
    fp_mask = det & (ids == -1)
    best = np.full(n_windows, -profile.fn)
    hit = det & (ids >= 0)
    # A window is worth its best (earliest) detection.
    np.maximum.at(best, ids[hit], w[hit])
    detected = np.zeros(n_windows, dtype=bool)
    detected[ids[hit]] = True
    return ThresholdResult(
        threshold=float(threshold),
        score=float(w[fp_mask].sum() + best.sum()),
        tp=int(detected.sum()),
        fn=int(n_windows - detected.sum()),
        fp=int(fp_mask.sum()),
    )


def optimise_threshold(
    files: Sequence[NabFile], scores: Sequence[np.ndarray], profile: Profile
) -> ThresholdResult:
    """The threshold with the best summed score over all files (exhaustive over distinct scores).

    NAB hill-climbs the threshold; trying every distinct anomaly score finds the same or a better one.
    Ties keep the highest threshold (fewest detections).
    """
    s, w, ids, n_windows = _stack(files, scores, profile)
    n = len(s)
    if n == 0:
        return ThresholdResult(threshold=1.1, score=-profile.fn * n_windows, tp=0, fn=n_windows, fp=0)
    order = np.argsort(-s, kind="stable")
    s, w, ids = s[order], w[order], ids[order]
    # Lowering the threshold past a row adds its FP weight, or raises its window's best weight.
    gain = np.where(ids < 0, w, 0.0)
    first = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(ids >= 0)
    if len(rows):
        # Group window rows by window (keeping score order inside a group) and take running maxima;
        # an offset of 4 per group (weights lie in [-1, 1]) keeps each maximum inside its group.
        by = rows[np.argsort(ids[rows], kind="stable")]
        g = ids[by]
        run = np.maximum.accumulate(w[by] + 4.0 * g) - 4.0 * g
        start = np.r_[True, g[1:] != g[:-1]]
        prev = np.where(start, -profile.fn, np.r_[0.0, run[:-1]])
        gain[by] = run - prev
        first[by[start]] = True
    total = -profile.fn * n_windows + np.cumsum(gain)
    tp = np.cumsum(first)
    fp = np.cumsum(ids < 0)
    # A threshold is a distinct score: its rows are all detected, so read totals at each level's end.
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    at = total[ends]
    k = int(np.flatnonzero(at >= at.max() - 1e-12)[0])  # the highest threshold among (near) ties
    best_total = float(at[k])
    if best_total <= -profile.fn * n_windows + 1e-12:
        return ThresholdResult(threshold=1.1, score=-profile.fn * n_windows, tp=0, fn=n_windows, fp=0)
    e = ends[k]
    return ThresholdResult(float(s[e]), best_total, int(tp[e]), n_windows - int(tp[e]), int(fp[e]))


def null_score(files: Sequence[NabFile], profile: Profile) -> float:
    """Score of the detector that never detects: every window is missed."""
    return -profile.fn * sum(len(f.scored_windows) for f in files)


def perfect_score(files: Sequence[NabFile], profile: Profile) -> float:
    """Score of the detector that detects each window at its first row and nothing else."""
    return profile.tp * sum(len(f.scored_windows) for f in files)


def normalise(raw: float, files: Sequence[NabFile], profile: Profile) -> float:
    """``100 * (raw - null) / (perfect - null)``; needs at least one window."""
    null, perfect = null_score(files, profile), perfect_score(files, profile)
    if perfect == null:
        raise ValueError("cannot normalise: the files have no anomaly windows")
    return 100.0 * (raw - null) / (perfect - null)


@dataclass(frozen=True)
class ProfileScore:
    """A detector's result for one profile: the chosen threshold, raw and normalised scores."""

    profile: str
    threshold: float
    raw: float
    normalised: float
    tp: int
    fn: int
    fp: int
    subsets: dict[str, float] = field(default_factory=dict)


def score_detector(
    files: Sequence[NabFile],
    scores: Sequence[np.ndarray],
    profile: Profile,
    subsets: Iterable[str] = ("realTraffic",),
) -> ProfileScore:
    """Optimise the threshold on all files, then report the normalised score overall and per folder subset.

    Subsets use the corpus-wide threshold (one parameter set and one threshold for everything).
    """
    best = optimise_threshold(files, scores, profile)
    has_windows = any(f.scored_windows for f in files)
    sub: dict[str, float] = {}
    for folder in subsets:
        pick = [i for i, f in enumerate(files) if f.folder == folder]
        if pick and any(files[i].scored_windows for i in pick):
            fs = [files[i] for i in pick]
            res = score_at(fs, [scores[i] for i in pick], profile, best.threshold)
            sub[folder] = normalise(res.score, fs, profile)
    return ProfileScore(
        profile=profile.name,
        threshold=best.threshold,
        raw=best.score,
        # Files without any window (e.g. only artificialNoAnomaly) cannot be normalised.
        normalised=normalise(best.score, files, profile) if has_windows else math.nan,
        tp=best.tp,
        fn=best.fn,
        fp=best.fp,
        subsets=sub,
    )
