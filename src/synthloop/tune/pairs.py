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
from pathlib import Path

from synthloop.errors import UserError
from synthloop.recipes.base import chat_messages
from synthloop.recipes.tinystories import FEATURES, story_prompt
from synthloop.store.jsonl import read_jsonl
from synthloop.vocab import Vocabulary
from synthloop.vocab.inflection import missing_words, surface_forms, word_tokens

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
            messages = chat_messages(system_prompt, story_prompt(template, words, features))
            pairs.append(Pair(i, words, features, messages, text.strip()))
    return pairs


def read_written_pairs(path: Path, template: str, system_prompt: str) -> list[Pair]:
    """Pairs from a file of stories written for given prompts (a strong teacher model's answers; TinyStories
    itself is GPT-4's): one object per line with `noun`, `verb`, `adjective`, `features` and `story`. A line
    whose story leaves out one of its words is an error, not a skipped pair: the file is a curated data set."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such file")
    pairs: list[Pair] = []
    for number, row in read_jsonl(path):
        where = f"{path}: line {number}"
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected an object")
        for field in (*ROLES, "story"):
            if not isinstance(row.get(field), str) or not row[field].strip():
                raise UserError(f"{where}: expected a non-empty string '{field}'")
        features = row.get("features", [])
        if not isinstance(features, list) or any(f not in FEATURES for f in features):
            raise UserError(f"{where}: 'features' must be a list of {', '.join(FEATURES)}")
        words = {role: row[role] for role in ROLES}
        if missing_words(row["story"], words):
            raise UserError(f"{where}: the story does not use all of {', '.join(words.values())}")
        messages = chat_messages(system_prompt, story_prompt(template, words, features))
        pairs.append(Pair(len(pairs), words, features, messages, row["story"].strip()))
    if not pairs:
        raise UserError(f"{path}: no stories in it")
    return pairs


assert "Dialogue" in FEATURES
