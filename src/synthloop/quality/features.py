"""Features a story's keep-worthiness is judged by: form, repetition, simplicity, and coherence signals.

Two parts. Dense features (FEATURES, one number each, ~25) measure what the rubric asks in ways that do not depend
on who wrote the story: length and sentence shape, repetition (Gopher-style n-gram and sentence repeats), how many
words a small child knows, meta-talk and prompt-echo markers, and coherence proxies — how much each sentence
continues the one before (static MiniLM cosine and shared content words), whether the second half is about what the
first half was, and whether named characters stay. Sparse features are hashed word unigrams and bigrams (a fastText-
style bag of words), which see topic and phrasing; they are kept weak by the model's regularisation so that the
classifier does not become a detector of one generator's style.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from functools import lru_cache
from itertools import pairwise

import numpy as np

from synthloop.curate.text import META_TALK, TextView, normalize, repeated_ngram_fraction

HASH_BUCKETS = 1 << 16
NAME = re.compile(r"(?<![.!?\"“]\s)(?<!^)\b([A-Z][a-z]+)\b")
_FUNCTION_WORDS = (
    "a an the and or but so then to of in on at for with from by up down out over under is was were are be been am "
    "i you he she it we they me him her us them my your his its our their this that these those there here not no "
    "yes do did does had has have will would can could said says say very too all some one two what who where when "
    "why how if as just"
)
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())
FEATURES = (
    "log_words",
    "sentences",
    "mean_sentence_words",
    "sentence_words_spread",
    "distinct_1",
    "repeated_3gram",
    "repeated_5gram",
    "repeated_sentences",
    "has_quotes",
    "paragraphs",
    "ends_cleanly",
    "simple_word_share",
    "mean_word_length",
    "meta_talk",
    "opens_once_upon",
    "adjacent_cosine_mean",
    "adjacent_cosine_min",
    "halves_cosine",
    "content_continuity",
    "names",
    "names_once_share",
    "late_names_share",
    "questions_share",
    "exclaims_share",
    "commas_per_sentence",
    "compression_ratio",
)


@lru_cache(maxsize=1)
def simple_words() -> frozenset[str]:
    """Every inflected form of the shipped child vocabulary, plus function words."""
    from synthloop.vocab import load_vocabulary
    from synthloop.vocab.inflection import surface_forms

    forms: set[str] = set(FUNCTION_WORDS)
    for entry in load_vocabulary().entries:
        forms.update(surface_forms(entry.word, entry.pos))
    return frozenset(forms)


def content_words(sentence: str) -> set[str]:
    return {w for w in normalize(sentence).split() if len(w) > 2 and w not in FUNCTION_WORDS}


def sentences_of(text: str) -> list[str]:
    return TextView(text).sentences or [text]


def dense(text: str, vectors: np.ndarray | None = None) -> list[float]:
    """The FEATURES of one story; `vectors` (one unit vector per sentence of sentences_of(text)) give the cosine
    features (0 without)."""
    view = TextView(text)
    words = view.plain_words
    sentences = view.sentences or [text]
    lengths = [len(s.split()) for s in sentences]
    mean_len = sum(lengths) / len(lengths)
    spread = math.sqrt(sum((n - mean_len) ** 2 for n in lengths) / len(lengths))
    normal = [normalize(s) for s in sentences]
    repeated_sentences = sum(c - 1 for c in Counter(normal).values()) / len(normal)
    known = simple_words()
    tokens = view.words
    simple_share = sum(t in known for t in tokens) / max(1, len(tokens))
    adjacent_mean = adjacent_min = halves = 0.0
    if vectors is not None and len(sentences) >= 2:
        cos = np.sum(vectors[1:] * vectors[:-1], axis=1)
        adjacent_mean, adjacent_min = float(cos.mean()), float(cos.min())
        middle = len(sentences) // 2
        first, second = vectors[:middle].mean(0), vectors[middle:].mean(0)
        halves = float(first @ second / max(1e-9, float(np.linalg.norm(first) * np.linalg.norm(second))))
    contents = [content_words(s) for s in sentences]
    continuing = [
        bool(contents[i] & (contents[i - 1] | (contents[i - 2] if i > 1 else set()))) for i in range(1, len(contents))
    ]
    continuity = sum(continuing) / len(continuing) if continuing else 0.0
    names = Counter(m.group(1) for m in NAME.finditer(text) if m.group(1).lower() not in known)
    middle_char = len(text) // 2
    late = {m.group(1) for m in NAME.finditer(text, middle_char)} - {
        m.group(1) for m in NAME.finditer(text[:middle_char])
    }
    stripped = text.strip()
    encoded = text.encode("utf-8")
    return [
        math.log1p(len(words)),
        float(len(sentences)),
        mean_len,
        spread,
        len(set(words)) / max(1, len(words)),
        repeated_ngram_fraction(words, 3),
        repeated_ngram_fraction(words, 5),
        repeated_sentences,
        float('"' in text or "“" in text),
        float(len([p for p in text.split("\n\n") if p.strip()])),
        float(bool(stripped) and stripped[-1] in ".!?\"'”’"),
        simple_share,
        sum(len(t) for t in tokens) / max(1, len(tokens)),
        float(bool(META_TALK.search(text))),
        float(normalize(text[:40]).startswith("once upon a time")),
        adjacent_mean,
        adjacent_min,
        halves,
        continuity,
        float(len(names)),
        sum(1 for c in names.values() if c == 1) / max(1, len(names)),
        len(late & set(names)) / max(1, len(names)),
        sum(s.endswith("?") for s in sentences) / len(sentences),
        sum(s.rstrip("\"'”’").endswith("!") for s in sentences) / len(sentences),
        text.count(",") / len(sentences),
        len(zlib.compress(encoded)) / max(1, len(encoded)),
    ]


def dense_matrix(texts: list[str], embedder: object | None = None) -> np.ndarray:
    """(N, len(FEATURES)) float32; all sentences of the batch are embedded in one call."""
    split = [sentences_of(t) for t in texts]
    vectors = None
    if embedder is not None:
        vectors = embedder.encode([s for sentences in split for s in sentences])  # type: ignore[attr-defined]
    rows, start = [], 0
    for text, sentences in zip(texts, split, strict=True):
        rows.append(dense(text, None if vectors is None else vectors[start : start + len(sentences)]))
        start += len(sentences)
    return np.asarray(rows, dtype=np.float32)


def hashed(text: str) -> dict[int, float]:
    """Hashed word unigrams and bigrams, log term frequency, L2-normalised: {bucket: value}."""
    words = normalize(text).split()
    grams = Counter(words + [f"{a} {b}" for a, b in pairwise(words)])
    counts: dict[int, float] = {}
    for gram, count in grams.items():
        bucket = zlib.crc32(gram.encode("utf-8")) % HASH_BUCKETS
        counts[bucket] = counts.get(bucket, 0.0) + 1.0 + math.log(count)
    norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {k: v / norm for k, v in counts.items()}


assert len(FEATURES) == 26
