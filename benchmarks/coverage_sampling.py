"""Vocabulary coverage of the *kept* data on the same budget: uniform vs coverage-aware word sampling.

Real generated runs and their curations (e.g. data/run1 and data/run1-curated) give each word's usage rate, the
share of stories asked for it that used it (shrunk towards its part of speech's mean by a beta prior fitted to
the spread across words: empirical Bayes), and q, the share of stories that used all three words and survived
curation. A check prints the all-three-words rate the model predicts against the observed one. The benchmark then
replays generation with the real samplers: each story's words come from the sampler, each word is used with its
rate, the story is kept when all three are used and with probability q, and the coverage sampler is told what
happened shard by shard, as in `synthloop generate`; it never sees the rates. This is a simulation (running the
model for every budget would take CPU-days), driven by measured rates, and its model of survival is the one the
sampler assumes (independent words); benchmarks/gpu_coverage.sh runs the real thing at a smaller budget. Per
budget it prints, averaged over seeds: the share of the prompt words (nouns, verbs, adjectives) with >= 1 and
>= 3 kept stories, the Gini coefficient of kept stories per word (0 = perfectly even), and the kept stories.

    .venv/bin/python benchmarks/coverage_sampling.py --run data/run1,data/run1-curated [--run ...] \\
        [--strengths 1,4] [--plot coverage.png]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections import Counter
from pathlib import Path

from synthloop.metrics.coverage import gini
from synthloop.store.dataset import Dataset
from synthloop.vocab import load_vocabulary
from synthloop.vocab.sampler import ROLES, CoverageSampler, UniformSampler
from synthloop.vocab.vocabulary import Vocabulary

Story = tuple[dict[str, str], set[str], bool]  # words, roles left out, kept


def load_stories(runs: list[tuple[Path, Path]]) -> list[Story]:
    stories = []
    for generated, curated in runs:
        kept = {r.id for r in Dataset.open(curated).iter_records()}
        for record in Dataset.open(generated).iter_records():
            stories.append((record.words, set(record.meta.get("missing", [])), record.id in kept))
    return stories


Model = tuple[dict[str, dict[str, float]], dict[str, float], float]  # usage rates per role, role means, q


def usage_model(stories: list[Story], quiet: bool = False) -> Model:
    """Per role: each word's usage rate (empirical Bayes) and the role's mean; q = P(kept | all words used)."""
    asked: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
    used: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
    for words, missing, _ in stories:
        for role in ROLES:
            asked[role][words[role]] += 1
            used[role][words[role]] += role not in missing
    rates, means = {}, {}
    for role in ROLES:
        n, k = sum(asked[role].values()), sum(used[role].values())
        mean = k / n
        observed = sum(asked[role][w] * (used[role][w] / asked[role][w] - mean) ** 2 for w in asked[role]) / n
        spread = observed - len(asked[role]) * mean * (1 - mean) / n  # minus binomial noise
        prior = mean * (1 - mean) / spread - 1 if spread > 0 else 1e9
        rates[role] = {w: (used[role][w] + prior * mean) / (asked[role][w] + prior) for w in asked[role]}
        means[role] = mean
        if not quiet:
            print(f"{role}: {len(asked[role])} words asked, usage {mean:.3f}, prior strength {prior:.1f} stories")
    all_used = sum(1 for _, missing, _ in stories if not missing)
    return rates, means, sum(1 for *_, kept in stories if kept) / max(all_used, 1)


def check(stories: list[Story]) -> None:
    """Is usage a stable property of a word, and do words combine independently? Fit on two thirds of the real
    stories, then compare predicted and observed usage on the other third, in fifths of the prediction."""
    fit = [s for i, s in enumerate(stories) if i % 3]
    held = [s for i, s in enumerate(stories) if not i % 3]
    rates, means, _ = usage_model(fit, quiet=True)
    words = sorted(((rates[r].get(w[r], means[r]), r not in missing) for w, missing, _ in held for r in ROLES))
    triples = sorted((math.prod(rates[r].get(w[r], means[r]) for r in ROLES), not missing) for w, missing, _ in held)
    for name, pairs in (("one word used", words), ("all three used", triples)):
        fifths = [pairs[len(pairs) * i // 5 : len(pairs) * (i + 1) // 5] for i in range(5)]
        shown = "  ".join(
            f"{statistics.mean(p for p, _ in f):.2f}/{statistics.mean(o for _, o in f):.2f}" for f in fifths
        )
        print(f"held-out check, {name} (predicted/observed by fifth of prediction): {shown}")


def simulate(
    sampler: UniformSampler, model: Model, budget: int, seed: int, checkpoints: list[int], shard: int = 100
) -> list[tuple[float, ...]]:
    """(share with >= 1 kept story, share with >= 3, Gini, kept stories) at each checkpoint."""
    rates, means, q = model
    rng, fate = random.Random(seed), random.Random(seed + 1)
    kept: Counter[tuple[str, str]] = Counter()
    pending, rows, stories = [], [], 0
    for index in range(1, budget + 1):
        words = sampler.sample(rng)
        missing = [role for role in ROLES if fate.random() >= rates[role].get(words[role], means[role])]
        survived = not missing and fate.random() < q
        if survived:
            stories += 1
            kept.update((role, words[role]) for role in ROLES)
        pending.append((words, survived, missing))
        if index % shard == 0 and isinstance(sampler, CoverageSampler):
            for story, fate_of_story, left_out in pending:
                sampler.observe(story, kept=fate_of_story, missing=left_out)
            pending = []
        if index in checkpoints:
            counts = [kept[(role, w)] for role in ROLES for w in sampler._words[role]]
            rows.append(
                (
                    sum(1 for c in counts if c) / len(counts),
                    sum(1 for c in counts if c >= 3) / len(counts),
                    gini(counts),
                    stories,
                )
            )
    return rows


def make(name: str, vocabulary: Vocabulary) -> UniformSampler:
    return UniformSampler(vocabulary) if name == "uniform" else CoverageSampler(vocabulary, float(name.split("-")[1]))


def plot(path: Path, checkpoints: list[int], results: dict[str, list[tuple[float, ...]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for name, rows in results.items():
        for axis, column in zip(axes, (0, 2, 3), strict=True):
            axis.plot(checkpoints, [row[column] for row in rows], label=name)
    for axis, title in zip(
        axes, ("vocabulary share with >= 1 kept story", "Gini of kept uses per word", "kept stories"), strict=True
    ):
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("stories generated")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", required=True, help="GENERATED,CURATED (repeatable)")
    parser.add_argument("--budgets", default="1000,5000,10000,25000,50000,100000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strengths", default="1,4", help="the coverage sampler's strengths to compare")
    parser.add_argument("--plot", type=Path, help="also draw the curves (every 2,000 stories) into this PNG")
    args = parser.parse_args()
    stories = load_stories([(Path(a), Path(b)) for a, b in (run.split(",", 1) for run in args.run)])
    print(
        f"{len(stories)} real stories; all three words used in {sum(not m for _, m, _ in stories)}, "
        f"kept {sum(k for *_, k in stories)}"
    )
    model = usage_model(stories)
    check(stories)
    checkpoints = [int(b) for b in args.budgets.split(",")]
    if args.plot:
        checkpoints = sorted(set(checkpoints) | set(range(2000, max(checkpoints) + 1, 2000)))
    vocabulary = load_vocabulary(None)
    names = ["uniform"] + [f"coverage-{s}" for s in args.strengths.split(",")]
    print(f"kept when all three words are used: {model[2]:.3f}; {args.seeds} seeds per budget (mean shown)")
    results: dict[str, list[tuple[float, ...]]] = {}
    for name in names:
        runs = [
            simulate(make(name, vocabulary), model, max(checkpoints), seed, checkpoints) for seed in range(args.seeds)
        ]
        results[name] = [
            tuple(statistics.mean(r[i][k] for r in runs) for k in range(4)) for i in range(len(checkpoints))
        ]
    print(f"{'sampler':>13} {'stories':>8} {'covered>=1':>11} {'covered>=3':>11} {'Gini':>6} {'kept':>6}")
    shown = [int(b) for b in args.budgets.split(",")]
    for name in names:
        for i, budget in enumerate(checkpoints):
            if budget in shown:
                c1, c3, g, k = results[name][i]
                print(f"{name:>13} {budget:>8} {c1:>11.3f} {c3:>11.3f} {g:>6.3f} {k:>6.0f}")
    if args.plot:
        plot(args.plot, checkpoints, results)


if __name__ == "__main__":
    main()
