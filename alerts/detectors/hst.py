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

    def _params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "n_trees": self.n_trees,
            "height": self.height,
            "window_size": self.window_size,
        }

    def learn_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> None:
        check_x(x)
        self._scaler.learn_one(dict(x))
        self._hst.learn_one(self._scaler.transform_one(dict(x)))

    def score_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> float:
        check_x(x)
        # Values beyond the range seen so far would leave [0, 1]; clip as the trees cover only that box.
        z = {k: min(1.0, max(0.0, v)) for k, v in self._scaler.transform_one(dict(x)).items()}
        return float(self._hst.score_one(z))

    def explain(self, x: Mapping[str, float], *, t: datetime | None = None, lang: str = "en") -> str:
        check_lang(lang)
        s = self.score_one(x)
        if lang == "vi":
            return f"điểm bất thường {s:.2f} (Half-Space Trees: điểm nằm ở vùng thưa dữ liệu gần đây)"
        return f"anomaly score {s:.2f} (Half-Space Trees: the point falls where recent data is sparse)"
