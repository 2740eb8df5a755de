"""Curation statistics, computed from the output itself (so they are right after any resume):
kept/excluded counts, `dropped.<reason>` for every reason (a story with two reasons counts under both), the first
reason of each reject (so those counts add up to the excluded total), and per-filter score summaries."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from synthloop.records import NULL_TEXT
from synthloop.store.dataset import Dataset


def compute_stats(dataset: Dataset, filter_names: list[str]) -> dict[str, Any]:
    kept = dataset.count("data")
    dropped: Counter[str] = Counter()
    first: Counter[str] = Counter()
    scores: dict[str, list[float]] = defaultdict(list)
    excluded = 0
    prefixes = (*(f"{name}." for name in filter_names), NULL_TEXT)
    for part in ("data", "excluded"):
        for record in dataset.iter_records(part):
            for name, value in record.scores.items():
                scores[name].append(value)
            if part == "excluded":
                excluded += 1
                reasons = [f for f in record.flags if f.startswith(prefixes)]
                dropped.update(reasons)
                if reasons:
                    first[reasons[0]] += 1
    total = kept + excluded
    return {
        "total": total,
        "kept": kept,
        "excluded": excluded,
        "kept_rate": kept / total if total else 0.0,
        "dropped": dict(sorted(dropped.items())),
        "dropped_first_reason": dict(sorted(first.items())),
        "scores": {
            name: {"mean": float(np.mean(v)), "p50": float(np.median(v)), "p95": float(np.percentile(v, 95))}
            for name, v in sorted(scores.items())
        },
    }
