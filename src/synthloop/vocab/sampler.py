"""Choose the noun, verb and adjective for each prompt.

Sampling is a pure function of a seeded random generator, so prompt i of a run always gets the same words.
"""

from __future__ import annotations

import random

from synthloop.vocab.vocabulary import Vocabulary

ROLES = ("noun", "verb", "adjective")


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
    under-used in the output, because the model avoids hard words and the filters drop the stories that do use
    them. A word's weight is its expected gain in new kept coverage:

        weight = survival estimate x 1 / (1 + kept uses) ** strength
        survival estimate = (kept uses + 5 m) / (times asked + 5)     (m: its part of speech's survival so far)

    Novelty alone (the second factor) would spend the budget on words that never survive and keep fewer stories
    in all; the survival estimate keeps the yield up. The runner tells it, shard by shard from data already on
    disk, which stories were asked for and which survived (`observe`), so prompt i still depends only on the seed
    and the finished shards before it: resume stays exact."""

    name = "coverage"

    def __init__(self, vocabulary: Vocabulary, strength: float = 1.0) -> None:
        super().__init__(vocabulary)
        self.strength = strength
        self.kept: dict[str, dict[str, int]] = {role: dict.fromkeys(self._words[role], 0) for role in ROLES}
        self.asked: dict[str, dict[str, int]] = {role: dict.fromkeys(self._words[role], 0) for role in ROLES}

    def observe(self, words: dict[str, str], kept: bool = True) -> None:
        """One story was asked to use these words; `kept`: it survived curation."""
        for role, word in words.items():
            if role in self.kept and word in self.kept[role]:
                self.asked[role][word] += 1
                self.kept[role][word] += kept

    def sample(self, rng: random.Random) -> dict[str, str]:
        chosen = {}
        for role in ROLES:
            words, kept, asked = self._words[role], self.kept[role], self.asked[role]
            total_asked = sum(asked.values())
            mean = (sum(kept.values()) + 1) / (total_asked + 2)  # the role's survival so far (Laplace)
            weights = [(kept[w] + 5 * mean) / (asked[w] + 5) / (1 + kept[w]) ** self.strength for w in words]
            chosen[role] = rng.choices(words, weights=weights)[0]
        return chosen
