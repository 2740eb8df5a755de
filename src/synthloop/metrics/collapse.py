"""The collapse indicators (distinct-n, tail coverage, divergence from a reference), shared by the collapse lab and
the live guard that runs during generation (generate/guard.py).

- distinct-n over word tokens (Li et al., 2016): falls as text becomes repetitive.
- Tail coverage (Dohmatob et al., 2024: the tails vanish first): the share of the reference corpus's *tail* word
  types — words outside its `head` most frequent that occur at least twice — that appear in the texts at all.
  Head coverage is reported beside it, so a drop in the tail alone is visible.
- Unigram Jensen–Shannon divergence (base 2, 0 = same word distribution, 1 = disjoint) from the reference.
- Rank/frequency: the top words with their counts, for Zipf plots.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from synthloop.metrics.diversity import distinct_n
from synthloop.vocab.inflection import word_tokens

HEAD = 1000  # most frequent reference words counted as the head


@dataclass(frozen=True)
class Reference:
    """What texts are compared with: the reference's word counts and its head and tail word sets."""

    counts: Counter[str]
    head: frozenset[str]
    tail: frozenset[str]
    distinct_2: float

    @classmethod
    def from_texts(cls, texts: list[str], head: int = HEAD) -> Reference:
        tokens = [word_tokens(t) for t in texts]
        counts = Counter(w for ts in tokens for w in ts)
        ranked = [w for w, _ in counts.most_common()]
        tail = frozenset(w for w in ranked[head:] if counts[w] >= 2)
        return cls(counts, frozenset(ranked[:head]), tail, distinct_n(tokens, 2))


def js_divergence(a: Counter[str], b: Counter[str]) -> float:
    total_a, total_b = sum(a.values()), sum(b.values())
    if not total_a or not total_b:
        return 1.0
    divergence = 0.0
    for word in set(a) | set(b):
        p, q = a.get(word, 0) / total_a, b.get(word, 0) / total_b
        m = (p + q) / 2
        if p:
            divergence += 0.5 * p * math.log2(p / m)
        if q:
            divergence += 0.5 * q * math.log2(q / m)
    return max(0.0, min(1.0, divergence))


def indicators(texts: list[str], reference: Reference, top: int = 0) -> dict[str, Any]:
    tokens = [word_tokens(t) for t in texts]
    counts = Counter(w for ts in tokens for w in ts)
    seen = set(counts)
    result: dict[str, Any] = {
        "texts": len(texts),
        "words": sum(counts.values()),
        "word_types": len(counts),
        "distinct_1": distinct_n(tokens, 1),
        "distinct_2": distinct_n(tokens, 2),
        "distinct_3": distinct_n(tokens, 3),
        "tail_coverage": len(seen & reference.tail) / len(reference.tail) if reference.tail else 0.0,
        "head_coverage": len(seen & reference.head) / len(reference.head) if reference.head else 0.0,
        "js_divergence": js_divergence(counts, reference.counts),
    }
    if top:
        result["rank_frequency"] = counts.most_common(top)
    return result
