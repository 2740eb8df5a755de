"""Coverage of a recipe's prompt parameters (the simplestories recipe records them in `meta.parameters`): how many
of each parameter's values the dataset's stories used, how evenly, and how many pairs of values occurred together
out of all possible pairs (a recipe that spreads its prompts well covers many combinations)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Any

from synthloop.records import Record


def parameter_coverage(records: list[Record], available: dict[str, list[str]] | None) -> dict[str, Any] | None:
    """`available`: each parameter's possible values (None: count only what occurred). None without parameters."""
    chosen = [r.meta["parameters"] for r in records if isinstance(r.meta.get("parameters"), dict)]
    if not chosen:
        return None
    names = sorted({name for parameters in chosen for name in parameters})
    per_parameter: dict[str, Any] = {}
    for name in names:
        counts = Counter(str(p[name]) for p in chosen if name in p)
        possible = len((available or {}).get(name, [])) or len(counts)
        per_parameter[name] = {
            "values_used": len(counts),
            "values_possible": possible,
            "share_used": len(counts) / possible,
            "most_common": counts.most_common(1)[0][0],
            "most_common_share": counts.most_common(1)[0][1] / len(chosen),
        }
    pairs: dict[str, Any] = {}
    for first, second in combinations(names, 2):
        seen = {(str(p[first]), str(p[second])) for p in chosen if first in p and second in p}
        possible = per_parameter[first]["values_possible"] * per_parameter[second]["values_possible"]
        pairs[f"{first}x{second}"] = {
            "pairs_used": len(seen),
            "pairs_possible": possible,
            "share_used": len(seen) / possible,
        }
    full = {tuple(sorted((k, str(v)) for k, v in p.items())) for p in chosen}
    return {
        "stories": len(chosen),
        "parameters": per_parameter,
        "pairs": pairs,
        "distinct_combinations": len(full),
        "distinct_combination_share": len(full) / len(chosen),
    }
