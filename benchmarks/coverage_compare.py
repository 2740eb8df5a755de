"""Vocabulary coverage of real runs: generated datasets and their curations side by side (e.g. the two runs of
benchmarks/gpu_coverage.sh, uniform and coverage-aware sampling, cut to the same number of shards).

For each run: prompts, stories that used all three words, kept stories, and for the kept stories the share of the
vocabulary's nouns, verbs and adjectives asked for by >= 1 and >= 3 of them and the Gini coefficient of kept
stories per word (synthloop.metrics.coverage.prompt_word_coverage).

    .venv/bin/python benchmarks/coverage_compare.py uniform=runs/u,runs/u-curated coverage=runs/c,runs/c-curated
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synthloop.metrics.coverage import prompt_word_coverage
from synthloop.store.dataset import Dataset
from synthloop.vocab import load_vocabulary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="NAME=GENERATED,CURATED")
    args = parser.parse_args()
    vocabulary = load_vocabulary(None)
    print(f"{'run':>10} {'prompts':>8} {'all 3 words':>12} {'kept':>5} {'kept words>=1':>14} {'>=3':>6} {'Gini':>6}")
    for spec in args.runs:
        name, paths = spec.split("=", 1)
        generated, curated = (Path(p) for p in paths.split(","))
        records = list(Dataset.open(generated).iter_records())
        kept = list(Dataset.open(curated).iter_records())
        used = sum(1 for r in records if not r.meta.get("missing"))
        c = prompt_word_coverage(kept, vocabulary)
        print(
            f"{name:>10} {len(records):>8} {used:>12} {len(kept):>5} {c['share_asked_1']:>14.3f} "
            f"{c['share_asked_3']:>6.3f} {c['gini']:>6.3f}"
        )


if __name__ == "__main__":
    main()
