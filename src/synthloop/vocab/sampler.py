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
