"""Curation statistics, computed from the output itself (so they are right after any resume):
kept/excluded counts, `dropped.<reason>` for every reason (a story with two reasons counts under both), the first
reason of each reject (so those counts add up to the excluded total), per-filter score summaries, and the tokens
spent by filters that ask a model (meta[<filter>] with tokens_in/tokens_out; judgements served from a cache count
as `cached`, their tokens were spent before)."""

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
    tokens: dict[str, Counter[str]] = defaultdict(Counter)
    excluded = 0
    prefixes = (*(f"{name}." for name in filter_names), NULL_TEXT)
    for part in ("data", "excluded"):
        for record in dataset.iter_records(part):
            for name, value in record.scores.items():
                scores[name].append(value)
            for name in filter_names:
                spent = record.meta.get(name)
                if isinstance(spent, dict) and "tokens_in" in spent:
                    count_tokens(tokens[name], spent)
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
        "tokens": {name: dict(sorted(counts.items())) for name, counts in sorted(tokens.items())},
        "scores": {
            name: {"mean": float(np.mean(v)), "p50": float(np.median(v)), "p95": float(np.percentile(v, 95))}
            for name, v in sorted(scores.items())
        },
    }


def count_tokens(counts: Counter[str], spent: dict[str, Any]) -> None:
    counts["records"] += 1
    if spent.get("cached"):
        counts["cached"] += 1
        return
    counts["tokens_in"] += int(spent.get("tokens_in") or 0)
    counts["tokens_out"] += int(spent.get("tokens_out") or 0)
    counts["errors"] += int("error" in spent)
