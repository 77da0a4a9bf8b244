"""Values per second per core of NAB detectors, streaming the real NAB files (score, then learn).

Each file goes through a fresh detector exactly as ``ioc evaluate nab`` runs it. CPU time of this
one process is the denominator, so the figure is per core and does not depend on what else the
machine runs; wall-clock throughput and the load average are printed beside it. The target of
issue 15 is 10 000 values/s per core.

    .venv/bin/python benchmarks/nab_detector.py [--detectors resonance,likelihood] [--folders realTraffic]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tqdm import tqdm

from alerts import nab
from alerts.detectors import make_detector

TARGET = 10_000


def bench(name: str, files: list[nab.NabFile]) -> tuple[int, float, float]:
    """(values, CPU seconds, wall seconds) for streaming every file through a fresh detector."""
    series = [f.values.tolist() for f in files]  # conversion is not part of the detector's cost
    n = sum(len(v) for v in series)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for values in tqdm(series, desc=name, unit="file", leave=False):
        det = make_detector(name, seed=0)
        for v in values:
            x = {"value": v}
            det.score_one(x)
            det.learn_one(x)
    return n, time.process_time() - cpu0, time.perf_counter() - wall0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detectors", default="resonance,likelihood")
    parser.add_argument("--folders", default=None, help="comma-separated NAB folders (default: all)")
    parser.add_argument("--data", type=Path, default=None, help="NAB corpus (default <shared data>/nab)")
    args = parser.parse_args()
    data = args.data
    if data is None:
        from ioc.settings import Settings

        data = Settings().shared_data_dir / "nab"
    files = nab.load_corpus(nab.corpus_root(data), folders=args.folders.split(",") if args.folders else None)
    load = os.getloadavg()
    print(
        f"{len(files)} files; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores"
    )
    print(
        f"{'detector':<14} {'values':>9} {'values/s/core':>14} {'values/s wall':>14} {'µs/value':>9}  target"
    )
    for name in args.detectors.split(","):
        n, cpu, wall = bench(name, files)
        verdict = "met" if n / cpu >= TARGET else "MISSED"
        print(f"{name:<14} {n:>9,} {n / cpu:>14,.0f} {n / wall:>14,.0f} {1e6 * cpu / n:>9.1f}  {verdict}")


if __name__ == "__main__":
    main()
