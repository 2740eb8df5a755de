"""Agreement between reviewers: Cohen's kappa over double-reviewed items.

Each reviewer's latest verdict on an item counts (an edit is an accept with changes). Kappa is computed per pair
of reviewers over the items both decided, on two labels (accept, reject) and on the reject reasons too
(accept or reject:<reason>), and pooled over all pairs (every pair's items in one table) as an overall figure.
kappa = (p_o - p_e) / (1 - p_e) (Cohen 1960); when p_e is 1 (both always gave the same single label) it is
undefined and reported as None, with the raw agreement beside it.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Any

from synthloop.review.store import Decision, conflicts, latest_verdicts


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def label(decision: Decision, with_reason: bool) -> str:
    if decision.action != "reject":
        return "accept"
    return f"reject:{decision.reason}" if with_reason else "reject"


def agreement(decisions: list[Decision]) -> dict[str, Any]:
    verdicts = latest_verdicts(decisions)
    reviewers = sorted({name for by in verdicts.values() for name in by})
    pairs_out = []
    pooled: dict[bool, list[tuple[str, str]]] = {False: [], True: []}
    for a, b in combinations(reviewers, 2):
        shared = [by for by in verdicts.values() if a in by and b in by]
        if not shared:
            continue
        entry: dict[str, Any] = {"reviewers": [a, b], "items": len(shared)}
        for with_reason in (False, True):
            labelled = [(label(by[a], with_reason), label(by[b], with_reason)) for by in shared]
            pooled[with_reason].extend(labelled)
            key = "kappa_reasons" if with_reason else "kappa"
            entry[key] = cohen_kappa(labelled)
            if not with_reason:
                entry["agreement"] = sum(x == y for x, y in labelled) / len(labelled)
        pairs_out.append(entry)
    double = sum(len(by) >= 2 for by in verdicts.values())
    return {
        "reviewers": reviewers,
        "items_decided": len(verdicts),
        "items_double_reviewed": double,
        "pairs": pairs_out,
        "kappa": cohen_kappa(pooled[False]),
        "kappa_reasons": cohen_kappa(pooled[True]),
        "agreement": (sum(x == y for x, y in pooled[False]) / len(pooled[False])) if pooled[False] else None,
        "conflicts": len(conflicts(decisions)),
    }
