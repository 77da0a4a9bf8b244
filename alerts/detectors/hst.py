"""river's HalfSpaceTrees behind our protocol: the library baseline every other detector must beat.

Half-space trees expect features in [0, 1], so an online min-max scaler (river's) sits in front.

>>> import random
>>> rnd = random.Random(0)
>>> det = HalfSpaceTrees(seed=5)
>>> for _ in range(600):
...     det.learn_one({"value": rnd.gauss(10, 1)})
>>> det.score_one({"value": 10.0}) < det.score_one({"value": 25.0})
True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from river import anomaly, preprocessing
from river.tree.padded import make_padded_tree

from alerts.detectors.base import Detector, check_lang, check_x


class HalfSpaceTrees(Detector):
    """river ``MinMaxScaler | HalfSpaceTrees`` with river's own parameter names and defaults."""

    name = "hst"

    def __init__(self, seed: int = 0, n_trees: int = 10, height: int = 8, window_size: int = 250) -> None:
        super().__init__(seed)
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self._scaler = preprocessing.MinMaxScaler()
        self._hst = anomaly.HalfSpaceTrees(n_trees=n_trees, height=height, window_size=window_size, seed=seed)
        self._keys: list[str] | None = None

    def _params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "n_trees": self.n_trees,
            "height": self.height,
            "window_size": self.window_size,
        }

    def learn_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> None:
        check_x(x)
        if self._keys is None:
            self._keys = sorted(x)  # river grows its trees on the keys of the first observation
        self._scaler.learn_one(dict(x))
        self._hst.learn_one(self._scaler.transform_one(dict(x)))

    def score_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> float:
        check_x(x)
        # Values beyond the range seen so far would leave [0, 1]; clip as the trees cover only that box.
        z = {k: min(1.0, max(0.0, v)) for k, v in self._scaler.transform_one(dict(x)).items()}
        return float(self._hst.score_one(z))

    def _dump(self) -> dict[str, Any]:
        # river builds the trees from its seeded generator and the first observation's keys, so the
        # trees are rebuilt from those and only the node masses (in depth-first order) are stored.
        hst = self._hst
        return {
            "keys": self._keys if hst.trees else None,
            "min": {k: m.min for k, m in self._scaler.min.items()},
            "max": {k: m.max for k, m in self._scaler.max.items()},
            "masses": [[[n.l_mass, n.r_mass] for n in nodes] for nodes in hst._tree_nodes],
            "counter": hst.counter,
            "first_window": hst._first_window,
        }

    def _load(self, data: Mapping[str, Any]) -> None:
        for k, v in data["min"].items():
            self._scaler.min[k].min = float(v)
        for k, v in data["max"].items():
            self._scaler.max[k].max = float(v)
        if data["keys"] is None:
            return
        hst = self._hst
        self._keys = list(data["keys"])
        hst.trees = [
            make_padded_tree(
                limits={i: hst.limits[i] for i in self._keys},
                height=hst.height,
                padding=0.15,
                rng=hst.rng,
                r_mass=0,
                l_mass=0,
            )
            for _ in range(hst.n_trees)
        ]
        hst._tree_nodes = [list(t.iter_dfs()) for t in hst.trees]
        for nodes, masses in zip(hst._tree_nodes, data["masses"], strict=True):
            for n, (lm, rm) in zip(nodes, masses, strict=True):
                n.l_mass, n.r_mass = lm, rm
        hst.counter, hst._first_window = int(data["counter"]), bool(data["first_window"])

    def explain(self, x: Mapping[str, float], *, t: datetime | None = None, lang: str = "en") -> str:
        check_lang(lang)
        s = self.score_one(x)
        if lang == "vi":
            return f"điểm bất thường {s:.2f} (Half-Space Trees: điểm nằm ở vùng thưa dữ liệu gần đây)"
        return f"anomaly score {s:.2f} (Half-Space Trees: the point falls where recent data is sparse)"
