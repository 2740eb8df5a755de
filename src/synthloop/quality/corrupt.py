"""Coherence negatives made from good stories: the same style, broken sense.

A classifier trained only on human stories against one model's output learns to tell the two styles apart, not
good from bad. These corruptions keep the human style and break what the rubric asks for: two stories spliced at
the middle (characters and plot change), sentences shuffled (events out of order), sentences swapped in from
another story (unrelated topics), a fragment (the first two sentences), and a loop (one sentence over and over).
This is the standard way coherence models are trained (Barzilay & Lapata 2008, sentence-ordering tasks).
"""

from __future__ import annotations

import random

from synthloop.curate.text import TextView

KINDS = ("splice", "shuffle", "swap", "fragment", "loop")


def corrupt(texts: list[str], count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` corrupted stories as (kind, text), drawn round-robin over KINDS from stories of >= 4 sentences."""
    stories = [t for t in texts if len(TextView(t).sentences) >= 4]
    pool = [TextView(t).sentences for t in stories]
    if len(pool) < 2:
        return []
    rng = random.Random(f"corrupt:{seed}")
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        a, b = rng.sample(range(len(pool)), 2)
        first, other = pool[a], pool[b]
        if kind == "splice":
            sentences = first[: len(first) // 2] + other[len(other) // 2 :]
        elif kind == "shuffle":
            rest = first[1:]
            rng.shuffle(rest)
            sentences = first[:1] + rest
        elif kind == "swap":
            sentences = list(first)
            for position in rng.sample(range(1, len(first)), min(2, len(first) - 1)):
                sentences[position] = rng.choice(other)
        elif kind == "fragment":
            sentences = first[:2]
        else:
            repeated = rng.choice(first)
            sentences = first[: len(first) // 2] + [repeated] * 5
        out.append((kind, paragraphs_like(stories[a], sentences)))
    return out


def paragraphs_like(model: str, sentences: list[str]) -> str:
    """The sentences laid out in as many paragraphs as `model` has, of about the same number of sentences each."""
    sizes = [len(TextView(p).sentences) or 1 for p in model.split("\n\n") if p.strip()]
    out, start = [], 0
    for size in sizes:
        if start < len(sentences):
            out.append(" ".join(sentences[start : start + size]))
        start += size
    if start < len(sentences):
        out.append(" ".join(sentences[start:]))
    return "\n\n".join(out)
