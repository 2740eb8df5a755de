"""Vocabulary coverage of the *kept* data on the same budget: uniform vs coverage-aware word sampling.

A real generated run and its curation (e.g. data/run1 and data/run1-curated) give each word's survival rate: the
share of stories asked to use it that survived curation (smoothed towards its part of speech's mean with 5 pseudo
stories). The benchmark then replays generation with the real samplers: each story's words come from the sampler,
it survives with probability  mean rate x product over its words of (word rate / role mean rate)  (clipped to 1),
and the coverage sampler is told the survivors shard by shard, as in `synthloop generate`. This is a simulation
of survival (running the model for every budget would take CPU-days), driven by measured rates; it prints the
share of vocabulary words with at least one kept story at each budget, and the spread of kept uses per word.

    .venv/bin/python benchmarks/coverage_sampling.py --generated data/run1 --curated data/run1-curated
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from synthloop.store.dataset import Dataset
from synthloop.vocab import load_vocabulary
from synthloop.vocab.sampler import ROLES, CoverageSampler, UniformSampler


def survival_rates(generated: Path, curated: Path) -> tuple[dict[str, dict[str, float]], float]:
    kept = {r.id for r in Dataset.open(curated).iter_records()}
    asked: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
    survived: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
    total = hits = 0
    for record in Dataset.open(generated).iter_records():
        total += 1
        hits += record.id in kept
        for role in ROLES:
            asked[role][record.words[role]] += 1
            survived[role][record.words[role]] += record.id in kept
    mean = hits / total
    rates = {}
    for role in ROLES:
        rates[role] = {w: (survived[role][w] + 5 * mean) / (n + 5) for w, n in asked[role].items()}
    return rates, mean


def simulate(sampler: UniformSampler, rates: dict[str, dict[str, float]], mean: float, budget: int, seed: int,
             checkpoints: list[int], shard: int = 100) -> list[tuple[int, float, float]]:  # fmt: skip
    rng, fate = random.Random(seed), random.Random(seed + 1)
    kept: Counter[tuple[str, str]] = Counter()
    vocabulary_size = sum(len(sampler._words[role]) for role in ROLES)
    pending, rows = [], []
    for index in range(1, budget + 1):
        words = sampler.sample(rng)
        p = mean
        for role in ROLES:
            p *= rates[role].get(words[role], mean) / mean
        survived = fate.random() < min(1.0, p)
        if survived:
            kept.update((role, words[role]) for role in ROLES)
        pending.append((words, survived))
        if index % shard == 0 and isinstance(sampler, CoverageSampler):
            for story, fate_of_story in pending:
                sampler.observe(story, kept=fate_of_story)
            pending = []
        if index in checkpoints:
            counts = [kept[(role, w)] for role in ROLES for w in sampler._words[role]]
            rows.append((index, len([c for c in counts if c]) / vocabulary_size, statistics.pstdev(counts),
                         sum(counts) // 3))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=Path, required=True)
    parser.add_argument("--curated", type=Path, required=True)
    parser.add_argument("--budgets", default="1000,5000,10000,25000,50000,100000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strength", type=float, default=1.0, help="the coverage sampler's novelty exponent")
    args = parser.parse_args()
    rates, mean = survival_rates(args.generated, args.curated)
    checkpoints = [int(b) for b in args.budgets.split(",")]
    vocabulary = load_vocabulary(None)
    print(f"survival rate {mean:.3f} from {args.generated}; budgets {checkpoints}; {args.seeds} seeds each")
    print(
        f"{'stories':>8} {'uniform coverage':>17} {'aware coverage':>15} {'uniform sd':>11} {'aware sd':>9} "
        f"{'uniform kept':>13} {'aware kept':>11}"
    )
    results: dict[str, list[Any]] = {}
    for name in ("uniform", "aware"):

        def sampler(name: str = name) -> UniformSampler:
            return UniformSampler(vocabulary) if name == "uniform" else CoverageSampler(vocabulary, args.strength)

        runs = [simulate(sampler(), rates, mean, max(checkpoints), seed, checkpoints) for seed in range(args.seeds)]
        results[name] = [tuple(statistics.mean(r[i][k] for r in runs) for k in (1, 2, 3))
                         for i in range(len(checkpoints))]  # fmt: skip
    for i, budget in enumerate(checkpoints):
        (uc, usd, uk), (ac, asd, ak) = results["uniform"][i], results["aware"][i]
        print(f"{budget:>8} {uc:>17.3f} {ac:>15.3f} {usd:>11.2f} {asd:>9.2f} {uk:>13.0f} {ak:>11.0f}")


if __name__ == "__main__":
    main()
