"""Events scored per second per core for every registered detector.

An event is one traffic reading (speed, volume, occupancy) scored then learnt, as the alert engine
does. CPU time of this single process is the denominator, so the figure is per core and does not
depend on what else the machine runs; wall-clock throughput is printed alongside.

    .venv/bin/python benchmarks/detectors_speed.py [--events 5000] [--detectors likelihood,hst]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from datetime import datetime, timedelta

from tqdm import tqdm

from alerts.detectors import REGISTRY, make_detector


def stream(n: int, seed: int = 0) -> list[tuple[datetime, dict[str, float]]]:
    """Five-minute readings of one road segment with a daily shape and noise."""
    rnd = random.Random(seed)
    t0 = datetime(2026, 1, 5)
    out = []
    for i in range(n):
        t = t0 + timedelta(minutes=5 * i)
        day = math.sin(2 * math.pi * (t.hour * 60 + t.minute) / 1440)
        x = {
            "speed": 40 + 8 * day + rnd.gauss(0, 2),
            "volume": 600 - 150 * day + rnd.gauss(0, 25),
            "occupancy": 18 - 6 * day + rnd.gauss(0, 1.5),
        }
        out.append((t, x))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--detectors", default=",".join(sorted(REGISTRY)))
    args = parser.parse_args()
    events = stream(args.events)
    print(f"{'detector':<12} {'events/s/core':>14} {'events/s wall':>14} {'µs/event':>10}")
    for name in args.detectors.split(","):
        det = make_detector(name, seed=0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for t, x in tqdm(events, desc=name, leave=False):
            det.score_one(x, t=t)
            det.learn_one(x, t=t)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(
            f"{name:<12} {len(events) / cpu:>14,.0f} {len(events) / wall:>14,.0f} {1e6 * cpu / len(events):>10,.1f}"
        )


if __name__ == "__main__":
    main()
