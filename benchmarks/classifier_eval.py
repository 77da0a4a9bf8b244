"""Full evaluation of the triage classifier on the seeded corpus.

Prints, for the held-out-phrasings split (honest: test reports use complaint sentences the model
never saw) and the random-row split (optimistic: test rows share sentences with training rows):
accuracy, per-class precision/recall/F1, the confusion matrix, accent-twin agreement, training
time, and suggestion throughput.

    .venv/bin/python benchmarks/classifier_eval.py [--size 4000] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

from tqdm import tqdm

from ioc.tickets import corpus
from ioc.tickets.classifier import TriageClassifier, split
from ioc.tickets.text import fold, has_diacritics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=corpus.DEFAULT_SIZE)
    parser.add_argument("--corpus-seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="split seeds")
    parser.add_argument("--test-size", type=float, default=0.2)
    args = parser.parse_args()

    reports = corpus.generate(args.size, args.corpus_seed, progress=True)
    print(f"corpus {corpus.CORPUS_VERSION}: {len(reports)} reports, seed {args.corpus_seed}")
    print(
        f"  without diacritics {sum(not r.accents for r in reports) / len(reports):.0%}, "
        f"teencode {sum(r.teencode for r in reports) / len(reports):.0%}, "
        f"typos {sum(r.typos for r in reports) / len(reports):.0%}"
    )

    for by in ("phrase", "row"):
        accuracies, macro_f1s = [], []
        for seed in tqdm(args.seeds, desc=f"split by {by}", unit="split"):
            train, test = split(reports, args.test_size, seed, by=by)
            wall, cpu = time.perf_counter(), time.process_time()
            model = TriageClassifier.train(train, progress=True)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            evaluation = model.evaluate(test)
            accuracies.append(evaluation.accuracy)
            macro_f1s.append(evaluation.macro_f1)

            accented = [r.text for r in test if has_diacritics(r.text)]
            a = model.suggest_many(accented)
            b = model.suggest_many([fold(t) for t in accented])
            agreement = sum(x.category_code == y.category_code for x, y in zip(a, b, strict=True)) / len(a)

            print(f"\n=== split by {by}, seed {seed}: train {len(train)}, test {len(test)} ===")
            print(f"training: {wall:.1f} s wall, {cpu:.1f} s CPU")
            print(evaluation.format(model.catalog, confusion=True))
            print(f"accent-twin agreement on {len(accented)} accented test reports: {agreement:.4f}")

        print(
            f"\nsplit by {by} over seeds {args.seeds}: accuracy {statistics.mean(accuracies):.4f} "
            f"(min {min(accuracies):.4f}, max {max(accuracies):.4f}), "
            f"macro-F1 {statistics.mean(macro_f1s):.4f}"
        )

    texts = [r.text for r in reports[:2000]]
    start = time.perf_counter()
    model.suggest_many(texts)
    batched = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    for t in texts[:200]:
        model.suggest(t)
    single = 200 / (time.perf_counter() - start)
    print(f"\nsuggest throughput: {batched:,.0f} reports/s batched, {single:,.0f} reports/s one by one")


if __name__ == "__main__":
    main()
