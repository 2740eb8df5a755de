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
from functools import cached_property
from typing import Any

from synthloop.curate.text import ngrams
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

    @cached_property
    def total(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def from_texts(cls, texts: list[str], head: int = HEAD) -> Reference:
        tokens = [word_tokens(t) for t in texts]
        counts = Counter(w for ts in tokens for w in ts)
        ranked = [w for w, _ in counts.most_common()]
        tail = frozenset(w for w in ranked[head:] if counts[w] >= 2)
        return cls(counts, frozenset(ranked[:head]), tail, distinct_n(tokens, 2))


def js_divergence(a: Counter[str], b: Counter[str], total_b: int | None = None) -> float:
    """Unigram JS divergence, in time linear in the words of `a` (usually the smaller side): a word only `b` has
    adds q/2, so those words add up to (1 - their share of `a`'s words in b) / 2 without being visited."""
    total_a = sum(a.values())
    total_b = sum(b.values()) if total_b is None else total_b
    if not total_a or not total_b:
        return 1.0
    divergence, shared = 0.0, 0  # shared: b's count of the words a has (an integer, so "all of b" is exact)
    for word, count in a.items():
        in_b = b.get(word, 0)
        p, q = count / total_a, in_b / total_b
        m = (p + q) / 2
        divergence += 0.5 * p * math.log2(p / m)
        if in_b:
            divergence += 0.5 * q * math.log2(q / m)
            shared += in_b
    divergence += 0.5 * (total_b - shared) / total_b
    return max(0.0, min(1.0, divergence))


class WindowCounts:
    """The word and n-gram counts of a set of texts, kept up to date as texts come and go (the live guard's
    window), so the indicators cost one pass over each text instead of one per check."""

    def __init__(self) -> None:
        self.texts = 0
        self.grams: list[Counter[tuple[str, ...]]] = [Counter(), Counter(), Counter()]  # n = 1, 2, 3
        self.totals = [0, 0, 0]

    def add(self, tokens: list[str]) -> None:
        self.texts += 1
        for n, counter in enumerate(self.grams, start=1):
            grams = ngrams(tokens, n)
            self.totals[n - 1] += len(grams)
            counter.update(grams)  # counted in C

    def remove(self, tokens: list[str]) -> None:
        self.texts -= 1
        for n, counter in enumerate(self.grams, start=1):
            grams = ngrams(tokens, n)
            self.totals[n - 1] -= len(grams)
            for gram in grams:
                left = counter[gram] - 1
                if left:
                    counter[gram] = left
                else:
                    del counter[gram]

    def distinct(self, n: int) -> float:
        return len(self.grams[n - 1]) / self.totals[n - 1] if self.totals[n - 1] else 0.0

    def indicators(self, reference: Reference, top: int = 0) -> dict[str, Any]:
        counts: Counter[str] = Counter({gram[0]: count for gram, count in self.grams[0].items()})
        seen = set(counts)
        result: dict[str, Any] = {
            "texts": self.texts,
            "words": self.totals[0],
            "word_types": len(counts),
            "distinct_1": self.distinct(1),
            "distinct_2": self.distinct(2),
            "distinct_3": self.distinct(3),
            "tail_coverage": len(seen & reference.tail) / len(reference.tail) if reference.tail else 0.0,
            "head_coverage": len(seen & reference.head) / len(reference.head) if reference.head else 0.0,
            "js_divergence": js_divergence(counts, reference.counts, reference.total),
        }
        if top:
            result["rank_frequency"] = counts.most_common(top)
        return result


def indicators(texts: list[str], reference: Reference, top: int = 0) -> dict[str, Any]:
    window = WindowCounts()
    for text in texts:
        window.add(word_tokens(text))
    return window.indicators(reference, top)
