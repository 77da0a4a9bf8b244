"""Windowed IsolationForest: scikit-learn's model refit on a sliding window of recent observations.

Meant for one traffic segment's speed/volume/occupancy together: a combination that is rare in the
recent window isolates in few random splits. The score is sklearn's ``-score_samples`` (in (0, 1],
about 0.5 for ordinary points). A protective filter keeps points scoring at or above ``protect``
out of the window, so an incident does not teach the model that incidents are normal.

Scoring one point through sklearn costs about a millisecond of input validation, so after each refit
the trees are copied into padded numpy arrays and walked for all trees at once; the result equals
``-IsolationForest.score_samples`` (checked in the tests).

>>> import random
>>> rnd = random.Random(0)
>>> det = WindowedIsolationForest(seed=3, window=256, refit_every=64)
>>> for i in range(300):
...     det.learn_one({"speed": rnd.gauss(40, 3), "volume": rnd.gauss(600, 30)})
>>> usual, jam = {"speed": 41.0, "volume": 610.0}, {"speed": 8.0, "volume": 250.0}
>>> det.score_one(usual) < 0.5 < det.score_one(jam)
True
>>> det.explain(jam)  # doctest: +ELLIPSIS
'rare combination (score 0.7...): volume 250, recent median 599'
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from alerts.detectors.base import Detector, check_lang, check_x, feature_label, fmt


def _average_path_length(n: np.ndarray) -> np.ndarray:
    """Expected path length of an unsuccessful BST search among n points (Liu et al. 2008)."""
    n = np.asarray(n, dtype=float)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class _Compiled:
    """The fitted forest as flat arrays over all trees' nodes, walked for every tree at once.

    Children are global node indices; a leaf points to itself, so walking ``max_depth`` steps lands
    every tree on its leaf without a branch per tree.
    """

    def __init__(self, forest: IsolationForest) -> None:
        trees = [e.tree_ for e in forest.estimators_]
        starts = np.cumsum([0] + [t.node_count for t in trees[:-1]])
        feature, threshold, left, right, leaf = [], [], [], [], []
        for start, t in zip(starts, trees, strict=True):
            own = np.arange(t.node_count) + start
            is_leaf = t.children_left == -1
            feature.append(np.where(is_leaf, 0, t.feature))
            threshold.append(np.where(is_leaf, np.inf, t.threshold))
            left.append(np.where(is_leaf, own, t.children_left + start))
            right.append(np.where(is_leaf, own, t.children_right + start))
            leaf.append(t.compute_node_depths() + _average_path_length(t.n_node_samples) - 1.0)
        self.feature = np.concatenate(feature).astype(np.intp)
        self.threshold = np.concatenate(threshold)
        self.left = np.concatenate(left).astype(np.intp)
        self.right = np.concatenate(right).astype(np.intp)
        self.leaf_depth = np.concatenate(leaf)
        self.roots = starts.astype(np.intp)
        self.max_depth = max(t.max_depth for t in trees)
        self.norm = len(trees) * float(_average_path_length(np.array([forest._max_samples]))[0])

    _ARRAYS = ("feature", "threshold", "left", "right", "leaf_depth", "roots")

    def dump(self) -> dict[str, Any]:
        # The walked arrays themselves, not the sklearn forest: restoring needs no refit and no pickle.
        out: dict[str, Any] = {k: getattr(self, k).tolist() for k in self._ARRAYS}
        out["threshold"] = [None if math.isinf(v) else v for v in out["threshold"]]  # JSON has no inf
        return {**out, "max_depth": int(self.max_depth), "norm": float(self.norm)}

    @classmethod
    def load(cls, d: Mapping[str, Any]) -> _Compiled:
        obj = cls.__new__(cls)
        for k in ("feature", "left", "right", "roots"):
            setattr(obj, k, np.array(d[k], dtype=np.intp))
        obj.threshold = np.array([np.inf if v is None else v for v in d["threshold"]], dtype=float)
        obj.leaf_depth = np.array(d["leaf_depth"], dtype=float)
        obj.max_depth, obj.norm = int(d["max_depth"]), float(d["norm"])
        return obj

    def score(self, v: np.ndarray) -> float:
        # sklearn compares float32 inputs against float64 thresholds; do the same for equal results.
        v = v.astype(np.float32).astype(np.float64)
        node = self.roots
        for _ in range(self.max_depth):
            node = np.where(v[self.feature[node]] <= self.threshold[node], self.left[node], self.right[node])
        depth = self.leaf_depth[node].sum()
        return float(2.0 ** (-depth / self.norm)) if self.norm > 0 else 1.0


class WindowedIsolationForest(Detector):
    """IsolationForest refit every ``refit_every`` learnt points on the last ``window`` of them.

    Features are the keys of ``x`` (fixed by the first observation) plus, with ``deltas=True``, each
    key's change since the previous observation, so sudden jumps stand out even at usual levels.
    Before the first fit (``min_fit`` points) the score is 0.
    """

    name = "iforest"

    def __init__(
        self,
        seed: int = 0,
        window: int = 1024,
        refit_every: int = 512,
        min_fit: int = 128,
        n_estimators: int = 50,
        max_samples: int = 256,
        protect: float = 0.68,
        deltas: bool = True,
    ) -> None:
        super().__init__(seed)
        if not 1 <= refit_every <= window:
            raise ValueError(f"refit_every must be in [1, window={window}], got {refit_every}")
        if not 2 <= min_fit <= window:
            raise ValueError(f"min_fit must be in [2, window={window}], got {min_fit}")
        if not 0 < protect <= 1:
            raise ValueError(f"protect must be in (0, 1], got {protect}")
        self.window = window
        self.refit_every = refit_every
        self.min_fit = min_fit
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.protect = protect
        self.deltas = deltas
        self._rng = np.random.default_rng(seed)
        self._keys: tuple[str, ...] | None = None
        self._prev: np.ndarray | None = None
        self._buf: deque[np.ndarray] = deque(maxlen=window)
        self._since_fit = 0
        self._model: _Compiled | None = None
        self._last: tuple[np.ndarray, float] | None = None

    def _params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "window": self.window,
            "refit_every": self.refit_every,
            "min_fit": self.min_fit,
            "n_estimators": self.n_estimators,
            "max_samples": self.max_samples,
            "protect": self.protect,
            "deltas": self.deltas,
        }

    def _vector(self, x: Mapping[str, float]) -> np.ndarray:
        check_x(x)
        if self._keys is None:
            self._keys = tuple(sorted(x))
        elif set(x) != set(self._keys):
            raise ValueError(f"features changed: expected {list(self._keys)}, got {sorted(x)}")
        raw = np.array([float(x[k]) for k in self._keys])
        if not self.deltas:
            return raw
        prev = self._prev if self._prev is not None else raw
        return np.concatenate([raw, raw - prev])

    def _score(self, v: np.ndarray) -> float:
        if self._model is None:
            return 0.0
        # learn_one usually follows score_one on the same point: reuse that walk of the forest.
        if self._last is not None and np.array_equal(self._last[0], v):
            return self._last[1]
        s = self._model.score(v)
        self._last = (v, s)
        return s

    def score_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> float:
        return self._score(self._vector(x))

    def learn_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> None:
        v = self._vector(x)
        raw = v[: len(self._keys or ())]
        flagged = self._score(v) >= self.protect
        self._prev = raw
        if flagged:
            return
        self._buf.append(v)
        self._since_fit += 1
        if len(self._buf) >= self.min_fit and (self._model is None or self._since_fit >= self.refit_every):
            self._fit()

    def _fit(self) -> None:
        data = np.stack(self._buf)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(data)),
            random_state=int(self._rng.integers(2**31 - 1)),
        ).fit(data)
        self._model = _Compiled(forest)
        self._last = None
        self._since_fit = 0

    def _dump(self) -> dict[str, Any]:
        return {
            "rng": self._rng.bit_generator.state,  # a dict of ints: the generator resumes exactly
            "keys": None if self._keys is None else list(self._keys),
            "prev": None if self._prev is None else self._prev.tolist(),
            "buf": [v.tolist() for v in self._buf],
            "since_fit": self._since_fit,
            "model": None if self._model is None else self._model.dump(),
        }

    def _load(self, data: Mapping[str, Any]) -> None:
        self._rng.bit_generator.state = data["rng"]
        self._keys = None if data["keys"] is None else tuple(data["keys"])
        self._prev = None if data["prev"] is None else np.array(data["prev"], dtype=float)
        self._buf = deque((np.array(v, dtype=float) for v in data["buf"]), maxlen=self.window)
        self._since_fit = int(data["since_fit"])
        self._model = None if data["model"] is None else _Compiled.load(data["model"])
        self._last = None

    def explain(self, x: Mapping[str, float], *, t: datetime | None = None, lang: str = "en") -> str:
        check_lang(lang)
        score = self.score_one(x)
        keys = self._keys or tuple(sorted(x))
        if not self._buf:
            return f"điểm bất thường {score:.2f}" if lang == "vi" else f"anomaly score {score:.2f}"
        data = np.stack(self._buf)[:, : len(keys)]
        med = np.median(data, axis=0)
        mad = np.median(np.abs(data - med), axis=0) * 1.4826 + 1e-9
        z = np.abs(np.array([float(x[k]) for k in keys]) - med) / mad
        i = int(np.argmax(z))
        name = feature_label(keys[i], lang)
        if lang == "vi":
            return (
                f"tổ hợp hiếm gặp (điểm {score:.2f}): {name} {fmt(float(x[keys[i]]))}, "
                f"trung vị gần đây {fmt(float(med[i]))}"
            )
        return f"rare combination (score {score:.2f}): {name} {fmt(float(x[keys[i]]))}, recent median {fmt(float(med[i]))}"

    @classmethod
    def _test_params(cls) -> list[dict[str, Any]]:
        return [{"window": 512, "refit_every": 128, "n_estimators": 32}]
