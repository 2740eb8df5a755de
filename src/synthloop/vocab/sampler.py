"""Choose the noun, verb and adjective for each prompt.

Sampling is a pure function of a seeded random generator, so prompt i of a run always gets the same words.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable

from synthloop.vocab.vocabulary import Vocabulary

ROLES = ("noun", "verb", "adjective")
PRIOR_ASKS = 4.0  # a word's usage estimate starts as this many stories at its part of speech's mean rate


class UniformSampler:
    """Every word of a part of speech is equally likely (the TinyStories recipe)."""

    name = "uniform"

    def __init__(self, vocabulary: Vocabulary) -> None:
        vocabulary.require(*ROLES)
        self._words = {role: sorted(e.word for e in vocabulary.by_pos[role]) for role in ROLES}

    def sample(self, rng: random.Random) -> dict[str, str]:
        return {role: rng.choice(self._words[role]) for role in ROLES}


class CoverageSampler(UniformSampler):
    """Spreads the *kept* data over the vocabulary. Uniform sampling leaves the rare half of the vocabulary
    under-used in the output, because the model avoids hard words and the filters drop the stories that leave a
    required word out. A story survives only if all three of its words are used, so the three are chosen together:
    a triple's weight is its expected gain in kept coverage,

        weight(n, v, a) = r_n r_v r_a x (g_n + g_v + g_a),     g_w = 1 / (1 + kept stories asking w) ** strength

    where r_w is how much more (or less) often than the average word of its part of speech w is really used when
    asked for. The sum makes it a mixture of three product distributions, so it is sampled exactly: pick the
    "focus" role with probability proportional to its term, draw the focus word by r x g and its two partners by
    r alone. A word that is seldom kept thus gets asked for with partners the model reliably uses.

        r_w = (used_w + 4 u) / (asked_w + 4) / u     (u: the part of speech's usage rate so far)

    Usage is known for every story (whether or not it survived for other reasons), so r is learnt from all the
    stories, not only the few kept ones. Novelty alone (g) would spend the budget on words that are never used
    and keep fewer stories in all; r alone would keep asking for easy words. benchmarks/coverage_sampling.py
    compares it with uniform sampling.

    The recipe's `before_shard` hook tells it, shard by shard from data already on disk, which stories were asked
    for, which words they used and which survived (`observe`), so prompt i still depends only on the seed and the
    finished shards before it: resume stays exact. `count_kept` adds kept stories from an earlier dataset
    (coverage only)."""

    name = "coverage"

    def __init__(self, vocabulary: Vocabulary, strength: float = 4.0) -> None:
        super().__init__(vocabulary)
        self.strength = strength
        # Per role and word: stories kept by curation that asked for it, stories that asked for it, and stories
        # that asked for it and used it (whether or not they were kept).
        self.kept: dict[str, dict[str, int]] = {role: dict.fromkeys(self._words[role], 0) for role in ROLES}
        self.asked: dict[str, dict[str, int]] = {role: dict.fromkeys(self._words[role], 0) for role in ROLES}
        self.used: dict[str, dict[str, int]] = {role: dict.fromkeys(self._words[role], 0) for role in ROLES}
        self._tables: dict[tuple[str, str], list[float]] | None = None
        self._focus: list[float] = []

    def usage_rate(self, role: str) -> float:
        return (sum(self.used[role].values()) + 1) / (sum(self.asked[role].values()) + 2)

    def relative_rate(self, role: str, word: str, mean: float | None = None) -> float:
        mean = self.usage_rate(role) if mean is None else mean
        return (self.used[role][word] + PRIOR_ASKS * mean) / (self.asked[role][word] + PRIOR_ASKS) / mean

    def observe(self, words: dict[str, str], kept: bool, missing: Iterable[str] = ()) -> None:
        """One story was asked to use these words; `missing`: the roles whose word it left out; `kept`: it
        survived curation."""
        left_out = set(missing)
        for role in ROLES:
            word = words.get(role)
            if word in self.asked[role]:
                self.asked[role][word] += 1
                self.used[role][word] += role not in left_out
                self.kept[role][word] += kept
        self._tables = None

    def count_kept(self, words: dict[str, str]) -> None:
        """A story from an earlier dataset already uses these words (counts towards coverage only)."""
        for role in ROLES:
            if words.get(role) in self.kept[role]:
                self.kept[role][words[role]] += 1
        self._tables = None

    def _build(self) -> dict[tuple[str, str], list[float]]:
        tables: dict[tuple[str, str], list[float]] = {}
        for role in ROLES:
            words, mean = self._words[role], self.usage_rate(role)
            rates = [self.relative_rate(role, w, mean) for w in words]
            gains = [(1 + self.kept[role][w]) ** -self.strength for w in words]
            tables[(role, "focus")] = list(itertools.accumulate(r * g for r, g in zip(rates, gains, strict=True)))
            tables[(role, "partner")] = list(itertools.accumulate(rates))
        terms = []
        for focus in ROLES:
            term = 1.0
            for role in ROLES:
                term *= tables[(role, "focus" if role == focus else "partner")][-1]
            terms.append(term)
        self._focus = list(itertools.accumulate(terms))
        return tables

    def sample(self, rng: random.Random) -> dict[str, str]:
        if self._tables is None:
            self._tables = self._build()
        focus = ROLES[draw(self._focus, rng)]
        tables = self._tables
        return {
            role: self._words[role][draw(tables[(role, "focus" if role == focus else "partner")], rng)]
            for role in ROLES
        }


def draw(cumulative: list[float], rng: random.Random) -> int:
    """An index drawn with probability proportional to its weight, given the running sums of the weights."""
    return min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)
