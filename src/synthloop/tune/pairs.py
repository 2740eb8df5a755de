"""Prompt -> story pairs built from human stories (TinyStories-Instruct style), for fine-tuning the generator.

For each story we find the vocabulary words it uses, by part of speech and in any inflection, and draw one noun,
one verb and one adjective among them; the prompt is the recipe's own rendering of those words, so the fine-tuned
model learns to answer exactly the prompts the main job sends with a story that uses all three words. A story can
give a different triple each epoch (a new draw from the same seed stream). Features the story demonstrably has
(quoted speech: Dialogue) are named in the prompt; features we cannot verify are never claimed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from synthloop.recipes.tinystories import FEATURES, features_sentence
from synthloop.vocab import Vocabulary
from synthloop.vocab.inflection import surface_forms, word_tokens

ROLES = ("noun", "verb", "adjective")


@dataclass(frozen=True, slots=True)
class Pair:
    story_index: int
    words: dict[str, str]
    features: list[str]
    messages: list[dict[str, str]]  # system + user (the prompt); the story is the assistant's answer
    story: str


def form_index(vocabulary: Vocabulary) -> dict[str, list[tuple[str, str]]]:
    """surface form -> [(base word, role)] for every vocabulary word of the three roles."""
    index: dict[str, list[tuple[str, str]]] = {}
    for role in ROLES:
        for entry in vocabulary.by_pos[role]:
            for form in surface_forms(entry.word, role):
                index.setdefault(form, []).append((entry.word, role))
    return index


def candidates(text: str, index: dict[str, list[tuple[str, str]]]) -> dict[str, list[str]]:
    """Vocabulary words per role that the story uses (sorted, so draws are reproducible)."""
    found: dict[str, set[str]] = {role: set() for role in ROLES}
    for token in set(word_tokens(text)):
        for word, role in index.get(token, ()):
            found[role].add(word)
    return {role: sorted(words) for role, words in found.items()}


def has_dialogue(text: str) -> bool:
    return text.count('"') >= 2 or text.count("\u201c") >= 1


def build_pairs(
    stories: Iterable[str],
    vocabulary: Vocabulary,
    template: str,
    system_prompt: str,
    seed: int,
    epochs: int = 1,
    common: frozenset[str] = frozenset(),
) -> list[Pair]:
    """Pairs for `epochs` passes over the stories; words in `common` (very frequent ones) are drawn only when a
    story offers nothing else for that role, since the main job's words are drawn from the whole vocabulary."""
    index = form_index(vocabulary)
    texts = list(stories)
    options = [candidates(text, index) for text in texts]
    pairs = []
    for epoch in range(epochs):
        for i, (text, found) in enumerate(zip(texts, options, strict=True)):
            if not all(found[role] for role in ROLES):
                continue
            rng = random.Random(f"pairs:{seed}:{epoch}:{i}")
            words = {}
            for role in ROLES:
                rare = [w for w in found[role] if w not in common]
                words[role] = rng.choice(rare or found[role])
            features = ["Dialogue"] if has_dialogue(text) and rng.random() < 0.5 else []
            prompt = template.format(features=features_sentence(features), **words)
            messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
                {"role": "user", "content": prompt}
            ]
            pairs.append(Pair(i, words, features, messages, text.strip()))
    return pairs


assert "Dialogue" in FEATURES
