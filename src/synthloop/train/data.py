"""Training text: one or more sources with mixing weights, tokenised into flat token arrays, with a held-out split.

A source is a synthloop dataset folder (its kept stories) or a JSON-lines file with a `text` field, optionally
followed by `:weight` (`data/run1-curated:0.9`, `../shared/corpora/gutenberg_children.jsonl:0.1`). Stories are
split into train/validation by a seeded shuffle of whole stories, so no story is in both. Each story ends with
<|endoftext|>. Batches are drawn by a generator seeded with (seed, step): the batch of step s never depends on
what happened before, which makes resume exact.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthloop.errors import UserError
from synthloop.store.texts import read_texts as read_story_texts
from synthloop.train.tokenizer import END_OF_TEXT


@dataclass
class Source:
    path: Path
    weight: float
    train: np.ndarray  # token ids, uint16/uint32
    validation: np.ndarray
    stories: int


def parse_source(spec: str) -> tuple[Path, float]:
    path, _, weight = (
        spec.rpartition(":")
        if ":" in spec and spec.rsplit(":", 1)[1].replace(".", "", 1).isdigit()
        else (spec, "", "1")
    )
    try:
        value = float(weight)
    except ValueError as error:
        raise UserError(f"--in {spec!r}: weight {weight!r} is not a number") from error
    if value <= 0:
        raise UserError(f"--in {spec!r}: weight must be > 0")
    return Path(path), value


def read_texts(path: Path) -> list[str]:
    texts = read_story_texts(path)
    if not texts:
        raise UserError(f"{path}: no stories")
    return texts


def split_texts(texts: list[str], validation_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    held = max(1, int(len(texts) * validation_fraction)) if len(texts) > 1 else 0
    return [texts[i] for i in order[held:]], [texts[i] for i in order[:held]]


def encode(tokenizer: Any, texts: list[str]) -> np.ndarray:
    end = tokenizer.token_to_id(END_OF_TEXT)
    ids: list[int] = []
    for encoding in tokenizer.encode_batch(texts):
        ids.extend(encoding.ids)
        ids.append(end)
    dtype = np.uint16 if tokenizer.get_vocab_size() < 65536 else np.uint32
    return np.asarray(ids, dtype=dtype)


@dataclass
class SplitSource:
    path: Path
    weight: float
    train: list[str]
    validation: list[str]


def read_sources(specs: list[str], validation_fraction: float, seed: int) -> list[SplitSource]:
    if not specs:
        raise UserError("--in: name at least one dataset or JSONL file of stories")
    split = []
    for spec in specs:
        path, weight = parse_source(spec)
        split.append(SplitSource(path, weight, *split_texts(read_texts(path), validation_fraction, seed)))
    return split


def encode_sources(split: list[SplitSource], tokenizer: Any) -> list[Source]:
    return [
        Source(
            s.path,
            s.weight,
            encode(tokenizer, s.train),
            encode(tokenizer, s.validation),
            len(s.train) + len(s.validation),
        )
        for s in split
    ]


def batch(
    sources: list[Source], split: str, batch_size: int, block_size: int, seed: int, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), each (B, T) int64, for this step: rows drawn from the sources by their weights."""
    rng = np.random.default_rng([seed, step, 0 if split == "train" else 1])
    weights = np.array([s.weight for s in sources], dtype=float)
    choices = rng.choice(len(sources), size=batch_size, p=weights / weights.sum())
    inputs = np.zeros((batch_size, block_size), dtype=np.int64)
    targets = np.full((batch_size, block_size), -1, dtype=np.int64)
    for row, index in enumerate(choices):
        tokens = getattr(sources[index], split)
        if len(tokens) < 2:
            continue
        length = min(block_size, len(tokens) - 1)
        start = int(rng.integers(0, len(tokens) - length))
        window = tokens[start : start + length + 1].astype(np.int64)
        inputs[row, :length] = window[:-1]
        targets[row, :length] = window[1:]
    return inputs, targets
