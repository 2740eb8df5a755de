"""Where the curation defaults come from: each filter's score on real human stories.

Runs every filter on the TinyStories sample (1,002 stories, what the product imitates) and on the Gutenberg
children's stories (harder, older English), and prints score percentiles and the share of each corpus each filter
would keep at its default. A default is reasonable when it keeps nearly all real TinyStories text.

    .venv/bin/python benchmarks/curate_thresholds.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import read_texts

from synthloop import plugins
from synthloop.config import DEFAULT_ORDER, validate_options
from synthloop.curate.step import CurateStep
from synthloop.records import Record
from synthloop.vocab import load_vocabulary

SCORES = [
    "vocab.oov_rate",
    "form.words",
    "form.repeated_5gram_fraction",
    "readability.fk_grade",
    "safety.profanity",
    "minhash.max_similarity",
    "semantic.max_similarity",
]


def evaluate(name: str, texts: list[str]) -> None:
    vocabulary = load_vocabulary()
    filters = []
    for filter_name in DEFAULT_ORDER:
        if filter_name in ("constraints", "decontam"):
            continue  # need prompts / an eval set
        cls = plugins.lookup("filter", filter_name)
        filters.append(
            cls(validate_options(cls.Options, {}, filter_name), {"vocabulary": vocabulary, "sample_texts": texts})
        )
    records = CurateStep(filters).curate_batch([Record(id=str(i), text=t) for i, t in enumerate(texts)])
    print(
        f"\n== {name}: {len(records)} stories, kept by all defaults: "
        f"{sum(r.meta['curation'] == 'kept' for r in records) / len(records):.1%}"
    )
    for score in SCORES:
        values = np.array([r.scores[score] for r in records if score in r.scores])
        if len(values):
            p = np.percentile(values, [5, 50, 95, 99])
            print(f"  {score:<30} p5 {p[0]:8.3f}  p50 {p[1]:8.3f}  p95 {p[2]:8.3f}  p99 {p[3]:8.3f}")
    reasons: dict[str, int] = {}
    for record in records:
        for flag in record.flags:
            reasons[flag] = reasons.get(flag, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"  dropped {reason:<32} {count:5d} ({count / len(records):.1%})")


def main() -> None:
    evaluate("TinyStories sample", read_texts("tinystories_sample.jsonl"))
    evaluate("Gutenberg children's stories", read_texts("gutenberg_children.jsonl"))


if __name__ == "__main__":
    main()
