"""Vocabulary coverage: which vocabulary words were asked for, which the stories really use, and how much of the
vocabulary's rare half appears — the tail that model collapse eats first (Dohmatob et al., 2024)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from synthloop.records import Record
from synthloop.vocab import Vocabulary
from synthloop.vocab.inflection import lemmas, word_tokens
from synthloop.vocab.sampler import ROLES


def used_word_counts(texts: list[str], vocabulary: Vocabulary) -> Counter[str]:
    """How often each vocabulary word occurs, in any inflection."""
    counts: Counter[str] = Counter()
    token_counts = Counter(t for text in texts for t in word_tokens(text))
    for token, count in token_counts.items():
        found = [lemma for lemma in lemmas(token) if lemma in vocabulary.words]
        if token in vocabulary.words:
            found = [token]
        if found:
            counts[found[0]] += count
    return counts


def text_coverage(texts: list[str], vocabulary: Vocabulary, used: Counter[str] | None = None) -> dict[str, Any]:
    """How much of the vocabulary a set of stories uses; works for a reference corpus too.
    `used`: used_word_counts(texts), when the caller already has them."""
    used = used_word_counts(texts, vocabulary) if used is None else used
    by_rank = sorted(vocabulary.entries, key=lambda e: e.rank)
    rare = {e.word for e in by_rank[len(by_rank) // 2 :]}
    return {
        "vocabulary_size": len(vocabulary.entries),
        "vocabulary_words_used": len(used),
        "vocabulary_used_share": len(used) / len(vocabulary.entries),
        "rare_half_used_share": len(rare & used.keys()) / len(rare) if rare else 0.0,
        "top_words": used.most_common(20),
        "rank_frequency": sorted(used.values(), reverse=True),
    }


def gini(counts: list[int]) -> float:
    """0 when every word has the same count, towards 1 when a few words have all of it."""
    ordered, total = sorted(counts), sum(counts)
    if not total:
        return 0.0
    return sum((2 * i - len(ordered) + 1) * c for i, c in enumerate(ordered)) / (len(ordered) * total)


def prompt_word_coverage(records: list[Record], vocabulary: Vocabulary) -> dict[str, Any]:
    """How evenly the stories cover the words prompts can ask for (the vocabulary's nouns, verbs and adjectives):
    the share asked for by at least 1 and at least 3 of them, and the Gini coefficient of stories per word. On a
    curated dataset this is what coverage-aware sampling (vocab/sampler.py) evens out."""
    sampled = [(e.pos, e.word) for e in vocabulary.entries if e.pos in ROLES]
    asked = Counter((role, word) for r in records for role, word in r.words.items())
    counts = [asked[key] for key in sampled]
    size = max(len(counts), 1)
    return {
        "words": len(counts),
        "share_asked_1": sum(1 for c in counts if c) / size,
        "share_asked_3": sum(1 for c in counts if c >= 3) / size,
        "gini": gini(counts),
    }


def coverage(records: list[Record], vocabulary: Vocabulary) -> dict[str, Any]:
    """Vocabulary coverage of a dataset, with the words its prompts requested."""
    texts = [r.text for r in records]
    used = used_word_counts(texts, vocabulary)
    result = text_coverage(texts, vocabulary, used)
    requested = {w for r in records for w in r.words.values()}
    sampled_pos = [e for e in vocabulary.entries if e.pos in ROLES]
    result.update(
        requested_words=len(requested),
        requested_share_of_vocabulary=len(requested) / len(sampled_pos) if sampled_pos else 0.0,
        requested_words_used=sum(1 for w in requested if used.get(w)),
        prompt_words=prompt_word_coverage(records, vocabulary),
    )
    return result
