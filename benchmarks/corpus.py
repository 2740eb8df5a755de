"""Shared helpers for the curation benchmarks: read the reference corpora and synthesise many stories from them."""

from __future__ import annotations

import random
from pathlib import Path

from synthloop.records import Record, stable_id
from synthloop.store.texts import read_texts as synthloop_read_texts
from synthloop.vocab.inflection import word_tokens

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def read_texts(name: str) -> list[str]:
    return synthloop_read_texts(CORPORA / name)


def synthesize(count: int, seed: int = 0) -> list[Record]:
    """`count` story Records made by recombining TinyStories sentences: each story takes 6-14 sentences from
    random stories, 2 % are exact copies of an earlier story and 3 % near copies (one sentence changed), so dedup
    has work to do. Required words are drawn from the story itself (as a generator that followed its prompt)."""
    rng = random.Random(seed)
    sentences = [s for text in read_texts("tinystories_sample.jsonl") for s in text.replace("\n", " ").split(". ")]
    records: list[Record] = []
    for index in range(count):
        roll = rng.random()
        if records and roll < 0.02:
            text = rng.choice(records).text
        elif records and roll < 0.05:
            parts = rng.choice(records).text.split(". ")
            parts[rng.randrange(len(parts))] = rng.choice(sentences)
            text = ". ".join(parts)
        else:
            text = ". ".join(rng.choice(sentences).strip() for _ in range(rng.randint(6, 14))) + "."
        words = [w for w in word_tokens(text) if len(w) > 3] or ["story"]
        records.append(
            Record(
                id=stable_id("bench", seed, index),
                text=text,
                recipe="tinystories",
                words={"noun": rng.choice(words), "verb": rng.choice(words)},
            )
        )
    return records
